/**
 * S8's float64 reference: the forward pass of the suite's MLP (src/nn/mlp.ts in training mode)
 * written out in plain TypeScript numbers (double precision), for numerical gradients that
 * round-off in float32 does not spoil. It is checked against the suite's float32 loss on the
 * same weights before any gradient is compared (study.ts, claim reference-agrees), so a gradient
 * check tests the suite's gradients, not a second bug here.
 *
 * What it must match, read from src/nn/mlp.ts and layers.ts:
 * - parameters in Mlp.params() order: per layer W (fanIn x fanOut, row-major), b, and for a
 *   hidden layer with batch norm gamma, beta;
 * - affine -> [batch norm] -> activation -> [dropout] per hidden layer, then affine -> softmax
 *   cross-entropy averaged over the batch;
 * - batch norm in training mode: the batch mean and the biased batch variance (divide by the
 *   batch size), xhat = (x - mean) / sqrt(var + BN_EPS), y = gamma * xhat + beta, BN_EPS taken
 *   from mlp.ts itself;
 * - dropout as the suite's (not inverted): h * mask in training, no rescaling;
 * - weight decay 0.5 * lambda * sum(W^2) over the weight matrices only.
 */
import { BN_EPS } from '../../src/nn/mlp.js';

export interface RefSpec {
  /** Layer widths, input first. */
  sizes: number[];
  activation: 'tanh' | 'relu';
  batchNorm: boolean;
  weightDecay: number;
}

export interface RefBatch {
  /** rows x sizes[0], row-major. */
  x: Float64Array;
  labels: Uint8Array;
  rows: number;
}

export interface RefEval {
  loss: number;
  /**
   * ReLU nets: whether each ReLU input was > 0 (the suite's step(z): 0 at z = 0), every hidden
   * layer's rows x width in turn. Two evaluations whose patterns differ straddle a kink.
   */
  on: Uint8Array | null;
}

/** How many ReLU inputs a forward pass has: every hidden unit of every row. */
export function reluInputs(spec: RefSpec, rows: number): number {
  return spec.sizes.slice(1, -1).reduce((n, w) => n + w * rows, 0);
}

/**
 * The loss of the batch at `params` (float64). `masks`, for a dropout net, holds one 0/1 mask
 * (rows x width) per hidden layer, in forward order.
 */
export function referenceLoss(spec: RefSpec, params: Float64Array[], batch: RefBatch, masks: Float64Array[] | null = null): RefEval {
  const { sizes } = spec;
  const rows = batch.rows;
  const relu = spec.activation === 'relu';
  const on = relu ? new Uint8Array(reluInputs(spec, rows)) : null;
  let onAt = 0;
  let h = batch.x;
  let p = 0;
  let penalty = 0;
  const layers = sizes.length - 1;
  for (let l = 0; l < layers; l++) {
    const n = sizes[l]!;
    const m = sizes[l + 1]!;
    const w = params[p++]!;
    const b = params[p++]!;
    if (spec.weightDecay !== 0) for (let i = 0; i < w.length; i++) penalty += w[i]! * w[i]!;
    const a = affine(h, w, b, rows, n, m);
    if (l === layers - 1) {
      const data = softmaxCrossEntropy(a, batch.labels, rows, m);
      return { loss: data + 0.5 * spec.weightDecay * penalty, on };
    }
    if (spec.batchNorm) batchNormInPlace(a, rows, m, params[p++]!, params[p++]!);
    for (let i = 0; i < a.length; i++) {
      const z = a[i]!;
      if (relu) {
        on![onAt++] = z > 0 ? 1 : 0;
        a[i] = z > 0 ? z : 0;
      } else {
        a[i] = Math.tanh(z);
      }
    }
    const mask = masks?.[l];
    if (mask) for (let i = 0; i < a.length; i++) a[i]! *= mask[i]!;
    h = a;
  }
  throw new Error('unreachable: a network has at least one layer');
}

/**
 * A plain net (no batch norm, dropout or penalty) evaluated from layer `from` on, given that
 * layer's input: the same operations in the same order as referenceLoss, so the same bits.
 * With `layerInputs` (every layer's input at the unmoved parameters) a moved coordinate of
 * layer L needs only layers L.. again: what the depth series' deep nets spend their time on.
 */
export function plainLossFrom(spec: RefSpec, params: Float64Array[], batch: RefBatch, from: number, input: Float64Array): number {
  if (spec.batchNorm || spec.weightDecay !== 0) throw new Error('plainLossFrom takes a net without batch norm or weight decay');
  const { sizes } = spec;
  const rows = batch.rows;
  const layers = sizes.length - 1;
  let h = input;
  for (let l = from; l < layers; l++) {
    const a = affine(h, params[2 * l]!, params[2 * l + 1]!, rows, sizes[l]!, sizes[l + 1]!);
    if (l === layers - 1) return softmaxCrossEntropy(a, batch.labels, rows, sizes[l + 1]!);
    for (let i = 0; i < a.length; i++) a[i] = spec.activation === 'relu' ? (a[i]! > 0 ? a[i]! : 0) : Math.tanh(a[i]!);
    h = a;
  }
  throw new Error('unreachable: a network has at least one layer');
}

/** Every layer's input of a plain net (the batch first), as referenceLoss computes them. */
export function plainLayerInputs(spec: RefSpec, params: Float64Array[], batch: RefBatch): Float64Array[] {
  const { sizes } = spec;
  const inputs = [batch.x];
  for (let l = 0; l + 2 < sizes.length; l++) {
    const a = affine(inputs[l]!, params[2 * l]!, params[2 * l + 1]!, batch.rows, sizes[l]!, sizes[l + 1]!);
    for (let i = 0; i < a.length; i++) a[i] = spec.activation === 'relu' ? (a[i]! > 0 ? a[i]! : 0) : Math.tanh(a[i]!);
    inputs.push(a);
  }
  return inputs;
}

/** Training-mode batch norm of each column of a (rows x m): batch mean, biased variance, BN_EPS. */
function batchNormInPlace(a: Float64Array, rows: number, m: number, gamma: Float64Array, beta: Float64Array): void {
  for (let j = 0; j < m; j++) {
    let s = 0;
    for (let r = 0; r < rows; r++) s += a[r * m + j]!;
    const mean = s / rows;
    let v = 0;
    for (let r = 0; r < rows; r++) v += (a[r * m + j]! - mean) ** 2;
    const std = Math.sqrt(v / rows + BN_EPS);
    for (let r = 0; r < rows; r++) a[r * m + j] = (gamma[j]! * (a[r * m + j]! - mean)) / std + beta[j]!;
  }
}

/** Mean over rows of -log softmax(logits)[label], with the row maximum taken out first. */
function softmaxCrossEntropy(logits: Float64Array, labels: Uint8Array, rows: number, m: number): number {
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const z = logits.subarray(r * m, (r + 1) * m);
    let max = -Infinity;
    for (let j = 0; j < m; j++) max = Math.max(max, z[j]!);
    let sum = 0;
    for (let j = 0; j < m; j++) sum += Math.exp(z[j]! - max);
    total += max + Math.log(sum) - z[labels[r]!]!;
  }
  return total / rows;
}

/** True when two ReLU on/off patterns differ somewhere: a kink lies between the two points. */
export function patternsDiffer(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (!a || !b) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return true;
  return false;
}

/**
 * The gradient of referenceLoss with respect to every parameter (Mlp.params() order), in
 * float64: the same forward pass, differentiated by hand. With it the notes' double-precision
 * bands can be checked for real: numerical float64 derivatives against an analytic float64
 * gradient, neither rounded to float32. Dropout uses the given masks (a fixed mask); at a ReLU
 * kink (input exactly 0) the derivative taken is 0, as the suite's step(z).
 */
export function referenceGradients(spec: RefSpec, params: Float64Array[], batch: RefBatch, masks: Float64Array[] | null = null, bug: GradientBug | null = null): Float64Array[] {
  const { sizes } = spec;
  const rows = batch.rows;
  const layers = sizes.length - 1;
  // Forward, keeping what the backward pass needs per layer.
  const inputs: Float64Array[] = [];
  const acts: { pre: Float64Array; out: Float64Array; xhat: Float64Array | null; std: Float64Array | null }[] = [];
  let h = batch.x;
  let p = 0;
  const at: { w: number; gamma: number | null }[] = [];
  for (let l = 0; l < layers; l++) {
    const n = sizes[l]!;
    const m = sizes[l + 1]!;
    const w = params[p]!;
    const b = params[p + 1]!;
    const layer = { w: p, gamma: null as number | null };
    p += 2;
    inputs.push(h);
    const a = affine(h, w, b, rows, n, m);
    if (l === layers - 1) {
      at.push(layer);
      h = a;
      break;
    }
    let xhat: Float64Array | null = null;
    let std: Float64Array | null = null;
    if (spec.batchNorm) {
      layer.gamma = p;
      const gamma = params[p++]!;
      const beta = params[p++]!;
      ({ xhat, std } = normalize(a, rows, m));
      for (let i = 0; i < a.length; i++) a[i] = gamma[i % m]! * xhat[i]! + beta[i % m]!;
    }
    at.push(layer);
    const out = new Float64Array(a.length);
    for (let i = 0; i < a.length; i++) out[i] = spec.activation === 'relu' ? (a[i]! > 0 ? a[i]! : 0) : Math.tanh(a[i]!);
    const mask = masks?.[l];
    if (mask) for (let i = 0; i < out.length; i++) out[i]! *= mask[i]!;
    acts.push({ pre: a, out, xhat, std });
    h = out;
  }
  let d = softmaxCrossEntropyGradient(h, batch.labels, rows, sizes[layers]!, bug === 'logits-as-zero');
  const grads: Float64Array[] = params.map((x) => new Float64Array(x.length));
  for (let l = layers - 1; l >= 0; l--) {
    const n = sizes[l]!;
    const mOut = sizes[l + 1]!;
    if (l < layers - 1) {
      // d is the gradient at this hidden layer's output (after dropout): back through mask, activation, BN.
      const { pre, xhat, std } = acts[l]!;
      const mask = masks?.[l];
      for (let i = 0; i < d.length; i++) {
        let g = mask ? d[i]! * mask[i]! : d[i]!;
        g *= spec.activation === 'relu' ? (pre[i]! > 0 ? 1 : 0) : 1 - Math.tanh(pre[i]!) ** 2;
        d[i] = g;
      }
      if (xhat && std) d = batchNormBackward(d, xhat, std, params[at[l]!.gamma!]!, grads[at[l]!.gamma!]!, grads[at[l]!.gamma! + 1]!, rows, mOut);
    }
    const wi = at[l]!.w;
    d = affineBackward(inputs[l]!, params[wi]!, d, grads[wi]!, grads[wi + 1]!, rows, n, mOut, spec.weightDecay, l > 0);
  }
  return grads;
}

/**
 * A deliberate bug for the burn-in check (study.ts): 'logits-as-zero' computes the softmax's
 * gradient as if every logit were 0, i.e. softmax = 1/m for every class. Its error,
 * (softmax(z) - 1/m) / rows, is about (z - mean z) / (m rows): proportional to the logits, so
 * it hides while they are all near zero (small initial weights) and shows once they are not.
 */
export type GradientBug = 'logits-as-zero';

/** d logits of the mean softmax cross-entropy over rows: (softmax - onehot) / rows (with `asZero`, the bug above: (1/m - onehot) / rows). */
function softmaxCrossEntropyGradient(logits: Float64Array, labels: Uint8Array, rows: number, m: number, asZero = false): Float64Array {
  const d = new Float64Array(rows * m);
  for (let r = 0; r < rows; r++) {
    if (asZero) {
      for (let j = 0; j < m; j++) d[r * m + j] = (1 / m - (j === labels[r] ? 1 : 0)) / rows;
      continue;
    }
    const z = logits.subarray(r * m, (r + 1) * m);
    let max = -Infinity;
    for (let j = 0; j < m; j++) max = Math.max(max, z[j]!);
    let sum = 0;
    for (let j = 0; j < m; j++) sum += Math.exp(z[j]! - max);
    for (let j = 0; j < m; j++) d[r * m + j] = (Math.exp(z[j]! - max) / sum - (j === labels[r] ? 1 : 0)) / rows;
  }
  return d;
}

/**
 * Back through a = x W + b: accumulates dW = x^T d (+ lambda W) and db = sum d; returns
 * dx = d W^T when the layer's input needs a gradient (`needInput`), else d unchanged.
 */
function affineBackward(x: Float64Array, w: Float64Array, d: Float64Array, gw: Float64Array, gb: Float64Array, rows: number, n: number, m: number, lambda: number, needInput: boolean): Float64Array {
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < n; k++) {
      const v = x[r * n + k]!;
      if (v === 0) continue;
      for (let j = 0; j < m; j++) gw[k * m + j] += v * d[r * m + j]!;
    }
    for (let j = 0; j < m; j++) gb[j] += d[r * m + j]!;
  }
  if (lambda !== 0) for (let i = 0; i < w.length; i++) gw[i] += lambda * w[i]!;
  if (!needInput) return d;
  const dx = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < n; k++) {
      let s = 0;
      for (let j = 0; j < m; j++) s += d[r * m + j]! * w[k * m + j]!;
      dx[r * n + k] = s;
    }
  }
  return dx;
}

/** a = h W + b, accumulated row by row (a zero input adds nothing: skipped). */
function affine(h: Float64Array, w: Float64Array, b: Float64Array, rows: number, n: number, m: number): Float64Array {
  const a = new Float64Array(rows * m);
  for (let r = 0; r < rows; r++) {
    const out = a.subarray(r * m, (r + 1) * m);
    out.set(b);
    for (let k = 0; k < n; k++) {
      const v = h[r * n + k]!;
      if (v === 0) continue;
      for (let j = 0; j < m; j++) out[j] += v * w[k * m + j]!;
    }
  }
  return a;
}

/** Per column: xhat = (a - mean) / sqrt(var + BN_EPS) with the biased batch variance, as batchNormInPlace. */
function normalize(a: Float64Array, rows: number, m: number): { xhat: Float64Array; std: Float64Array } {
  const xhat = new Float64Array(a.length);
  const std = new Float64Array(m);
  for (let j = 0; j < m; j++) {
    let s = 0;
    for (let r = 0; r < rows; r++) s += a[r * m + j]!;
    const mean = s / rows;
    let v = 0;
    for (let r = 0; r < rows; r++) v += (a[r * m + j]! - mean) ** 2;
    std[j] = Math.sqrt(v / rows + BN_EPS);
    for (let r = 0; r < rows; r++) xhat[r * m + j] = (a[r * m + j]! - mean) / std[j]!;
  }
  return { xhat, std };
}

/**
 * Back through y = gamma xhat + beta, xhat = (a - mean) / std (biased variance): accumulates
 * dgamma, dbeta and returns da = (dxhat - mean(dxhat) - xhat mean(dxhat xhat)) / std per column.
 */
function batchNormBackward(dy: Float64Array, xhat: Float64Array, std: Float64Array, gamma: Float64Array, dGamma: Float64Array, dBeta: Float64Array, rows: number, m: number): Float64Array {
  const da = new Float64Array(dy.length);
  for (let j = 0; j < m; j++) {
    let sumD = 0;
    let sumDX = 0;
    for (let r = 0; r < rows; r++) {
      const i = r * m + j;
      dGamma[j] += dy[i]! * xhat[i]!;
      dBeta[j] += dy[i]!;
      const dx = dy[i]! * gamma[j]!;
      sumD += dx;
      sumDX += dx * xhat[i]!;
    }
    for (let r = 0; r < rows; r++) {
      const i = r * m + j;
      da[i] = (dy[i]! * gamma[j]! - sumD / rows - (xhat[i]! * sumDX) / rows) / std[j]!;
    }
  }
  return da;
}
