/**
 * Dropout at test time, three ways, for a trained net without batch norm (Mlp's public API only):
 *
 * - the scaled full net: every unit kept, each hidden output multiplied by the keep
 *   probability 1 - r. This is how the suite evaluates (mlp.ts: the lecture's non-inverted
 *   dropout scales at test time, not in training), and `logitsWith(net, x, scaled(net))` gives
 *   the bits of `net.logits(x, 'eval')`;
 * - the unscaled full net: every unit kept and nothing multiplied. Its hidden outputs are
 *   1 / (1 - r) times larger, in expectation, than the ones the next layer saw in training;
 * - Monte-Carlo dropout: K forward passes, each with a fresh random mask on every hidden layer
 *   (kept with probability 1 - r and not rescaled: exactly the masks of training), and the
 *   class probabilities (softmax) averaged over the K passes: an average over K of the
 *   "thinned" nets the training sampled from, i.e. an ensemble inside one net.
 *
 * Masks come from a named random stream (MaskStream), so the same (seed, name) gives the same
 * masks on every backend and in every process.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng.js';
import { ACTIVATION_RULES } from './activation.js';
import type { Mlp } from './mlp.js';

/**
 * What multiplies hidden layer `layer`'s output (after its activation), `rows` x `cols`: a mask
 * tensor of that shape, or one number for every unit.
 */
export type LayerMultiplier = (layer: number, rows: number, cols: number) => tf.Tensor2D | number;

/** Every unit kept and scaled by the keep probability 1 - r: the suite's own evaluation. */
export const scaled = (net: Mlp): LayerMultiplier => {
  const r = net.spec.dropout ?? 0;
  return () => 1 - r;
};

/** Every unit kept, nothing scaled. */
export const unscaled: LayerMultiplier = () => 1;

/**
 * Logits of x (evaluation mode: no gradient, each affine layer as the net evaluates it) with
 * each hidden layer's output multiplied by `multiplier`. Call inside tf.tidy.
 */
export function logitsWith(net: Mlp, x: tf.Tensor2D, multiplier: LayerMultiplier): tf.Tensor2D {
  if (net.bn.length > 0) throw new Error('test-time dropout here is for nets without batch norm');
  const rule = ACTIVATION_RULES[net.spec.activation];
  // The net's evaluation runs the activation inside the affine kernel when the kernel can take
  // it (no batch norm in between, see Mlp.fusedActivation); Mlp.affine then returns its output.
  const fusedInAffine = rule.fused !== undefined;
  const last = net.weights.length - 1;
  let h = x;
  for (let l = 0; l < last; l++) {
    const a = net.affine(h, l, 'eval');
    const y = fusedInAffine ? a : (rule.forward(a) as tf.Tensor2D);
    h = tf.mul(y, multiplier(l, y.shape[0], y.shape[1])) as tf.Tensor2D;
  }
  return net.affine(h, last, 'eval');
}

/** Softmax probabilities of every row of x under `multiplier`, row-major rows x classes. */
export function probabilitiesWith(net: Mlp, x: tf.Tensor2D, multiplier: LayerMultiplier): Float32Array {
  return tf.tidy(() => tf.softmax(logitsWith(net, x, multiplier)).dataSync() as Float32Array);
}

/** Predicted class per row under `multiplier`: the arg-max of the logits, as Mlp.predict takes it. */
export function predictWith(net: Mlp, x: tf.Tensor2D, multiplier: LayerMultiplier): Int32Array {
  return tf.tidy(() => tf.argMax(logitsWith(net, x, multiplier), 1).dataSync() as Int32Array);
}

/**
 * Dropout masks drawn from the named stream (seed, name): each unit kept (1) with probability
 * 1 - ratio, else 0, by the rule training uses (uniform > ratio), row-major.
 */
export class MaskStream {
  private readonly rng: Rng;

  constructor(
    seed: number,
    readonly name: string,
    readonly ratio: number,
  ) {
    if (!(ratio >= 0 && ratio < 1)) throw new Error(`a dropout ratio must be in [0, 1), got ${ratio}`);
    this.rng = Rng.stream(seed, name);
  }

  next(rows: number, cols: number): Float32Array {
    const mask = new Float32Array(rows * cols);
    for (let i = 0; i < mask.length; i++) mask[i] = this.rng.uniform() > this.ratio ? 1 : 0;
    return mask;
  }

  /** A multiplier that draws a fresh mask for every hidden layer it is asked for. */
  multiplier(): LayerMultiplier {
    return (_layer, rows, cols) => tf.tensor2d(this.next(rows, cols), [rows, cols]);
  }
}

/**
 * Monte-Carlo dropout: forward passes with masks from `masks` (one fresh mask per hidden layer
 * per pass), the softmax averaged over the first K passes for every K in `ks` (ascending): the
 * K = 10 average is over the same first 10 passes the K = 30 one starts with. Returns each K's
 * mean probabilities, row-major rows x classes (summed in float64, stored as float32).
 */
export function monteCarloProbabilities(net: Mlp, x: tf.Tensor2D, masks: MaskStream, ks: readonly number[], onPass?: (pass: number) => void): Map<number, Float32Array> {
  if (ks.length === 0 || ks.some((k, i) => !Number.isInteger(k) || k < 1 || (i > 0 && k <= ks[i - 1]!))) {
    throw new Error(`ks must be whole numbers >= 1 in ascending order, got ${ks.join(', ')}`);
  }
  const out = new Map<number, Float32Array>();
  let sum: Float64Array | null = null;
  const kMax = ks.at(-1)!;
  for (let pass = 1; pass <= kMax; pass++) {
    const p = probabilitiesWith(net, x, masks.multiplier());
    sum ??= new Float64Array(p.length);
    for (let i = 0; i < p.length; i++) sum[i]! += p[i]!;
    if (ks.includes(pass)) out.set(pass, Float32Array.from(sum, (s) => s / pass));
    onPass?.(pass);
  }
  return out;
}

/** Predicted class per row (arg-max; ties to the lower class, as tf.argMax) of row-major probabilities. */
export function argMaxRows(p: Float32Array, classes: number): Int32Array {
  const rows = p.length / classes;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (p[r * classes + c]! > p[r * classes + best]!) best = c;
    out[r] = best;
  }
  return out;
}

/** Mean cross-entropy -log p(label) of row-major probabilities (a probability of 0 counts as 1e-12). */
export function crossEntropyOf(p: Float32Array, labels: Uint8Array, classes: number): number {
  let s = 0;
  for (let r = 0; r < labels.length; r++) s -= Math.log(Math.max(p[r * classes + labels[r]!]!, 1e-12));
  return s / labels.length;
}
