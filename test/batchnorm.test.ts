/**
 * Batch norm of src/nn/mlp.ts checked against a float64 reference written here from the
 * definition in docs/STUDIES.md (batch mean, biased batch variance, eps 1e-6, gamma/beta; running
 * mean/var with momentum 0.9 starting at 0 for evaluation), plus the S5 study at a tiny size.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { BN_EPS, BN_MOMENTUM, Mlp } from '../src/nn/mlp.js';
import { Rng } from '../src/rng.js';
import { Sgd } from '../src/optim/optimizers.js';
import { trainEpochs } from '../src/train/loop.js';
import { disposeBatch, toBatch } from '../src/train/batches.js';
import { batchnorm, logspace, type BatchnormConfig } from '../experiments/batchnorm/study.js';
import { loadMnist, defaultMnistDir } from '../src/data/mnist.js';
import { runInTest } from './helpers/context.js';

type Mat = Float64Array; // row-major

/** Parameters of a BN net as float64 copies, in Mlp.params() order: W, b, gamma, beta per hidden layer; W, b last. */
interface Params64 {
  w: Mat[];
  b: Float64Array[];
  gamma: Float64Array[];
  beta: Float64Array[];
}

function copyParams(net: Mlp): Params64 {
  const f64 = (v: tf.Variable) => Float64Array.from(v.dataSync());
  return {
    w: net.weights.map(f64),
    b: net.biases.map(f64),
    gamma: net.bn.map((l) => f64(l.gamma)),
    beta: net.bn.map((l) => f64(l.beta)),
  };
}

/** The flat list of parameter arrays in Mlp.params() order (views into p, so writing perturbs p). */
function flatParams(p: Params64): Float64Array[] {
  const out: Float64Array[] = [];
  for (let l = 0; l < p.w.length; l++) {
    out.push(p.w[l]!, p.b[l]!);
    if (l < p.gamma.length) out.push(p.gamma[l]!, p.beta[l]!);
  }
  return out;
}

interface Stats {
  mean: Float64Array;
  variance: Float64Array;
}

/**
 * Float64 forward pass of affine -> BN -> ReLU ... -> affine. mode 'train' normalises with
 * the batch statistics (and returns them per layer); 'eval' with the given running statistics.
 */
function forward64(p: Params64, sizes: number[], x: Float64Array, rows: number, mode: 'train' | 'eval', running?: Stats[]) {
  let h = x;
  const batchStats: Stats[] = [];
  const last = sizes.length - 2;
  for (let l = 0; l <= last; l++) {
    const n = sizes[l]!;
    const m = sizes[l + 1]!;
    const a = new Float64Array(rows * m);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < m; j++) {
        let s = p.b[l]![j]!;
        for (let k = 0; k < n; k++) s += h[r * n + k]! * p.w[l]![k * m + j]!;
        a[r * m + j] = s;
      }
    }
    if (l === last) return { logits: a, batchStats };
    const mean = new Float64Array(m);
    const variance = new Float64Array(m);
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let r = 0; r < rows; r++) s += a[r * m + j]!;
      mean[j] = s / rows;
      let v = 0;
      for (let r = 0; r < rows; r++) v += (a[r * m + j]! - mean[j]!) ** 2;
      variance[j] = v / rows; // biased, as the lecture's np.mean(xc**2)
    }
    batchStats.push({ mean, variance });
    const use = mode === 'train' ? { mean, variance } : running![l]!;
    const out = new Float64Array(rows * m);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < m; j++) {
        const xhat = (a[r * m + j]! - use.mean[j]!) / Math.sqrt(use.variance[j]! + BN_EPS);
        out[r * m + j] = Math.max(0, p.gamma[l]![j]! * xhat + p.beta[l]![j]!);
      }
    }
    h = out;
  }
  throw new Error('unreachable');
}

/** Mean softmax cross-entropy of float64 logits against integer labels. */
function crossEntropy64(logits: Float64Array, labels: Uint8Array, classes: number): number {
  let total = 0;
  for (let r = 0; r < labels.length; r++) {
    const row = logits.subarray(r * classes, (r + 1) * classes);
    const mx = Math.max(...row);
    let s = 0;
    for (const z of row) s += Math.exp(z - mx);
    total += mx + Math.log(s) - row[labels[r]!]!;
  }
  return total / labels.length;
}

/** A tiny BN net and a batch: 6 inputs, hidden 5 and 4, 3 classes, 8 rows. */
function tinySetup(seed: number) {
  const sizes = [6, 5, 4, 3];
  const net = new Mlp({ sizes, activation: 'relu', init: { std: 0.7 }, batchNorm: true }, Rng.stream(seed, 'init'));
  // gamma and beta away from their 1/0 start so their gradients are checked at a general point
  tf.tidy(() => {
    net.bn.forEach((l, i) => {
      const rng = Rng.stream(seed, `gb${i}`);
      l.gamma.assign(tf.tensor1d(Array.from({ length: l.gamma.size }, () => 1 + 0.3 * rng.normal())));
      l.beta.assign(tf.tensor1d(Array.from({ length: l.beta.size }, () => 0.2 * rng.normal())));
    });
  });
  const rows = 8;
  const dataRng = Rng.stream(seed, 'data');
  const x64 = Float64Array.from({ length: rows * sizes[0]! }, () => dataRng.normal());
  const labels = Uint8Array.from({ length: rows }, () => dataRng.int(3));
  const x = tf.tensor2d(Float32Array.from(x64), [rows, sizes[0]!]);
  const yOneHot = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), 3).toFloat() as tf.Tensor2D);
  return { sizes, net, rows, x64: Float64Array.from(Float32Array.from(x64)), labels, x, yOneHot };
}

function norm(v: number[]): number {
  return Math.sqrt(v.reduce((a, b) => a + b * b, 0));
}

describe('batch norm gradients (tfjs autodiff) vs centered differences', () => {
  it('the float64 reference forward matches the Mlp train-mode loss', () => {
    const s = tinySetup(1);
    const loss32 = tf.tidy(() => s.net.loss(s.x, s.yOneHot, 'train').dataSync()[0]!);
    const p = copyParams(s.net);
    const loss64 = crossEntropy64(forward64(p, s.sizes, s.x64, s.rows, 'train').logits, s.labels, 3);
    expect(Math.abs(loss32 - loss64) / loss64).toBeLessThan(1e-5);
    s.net.dispose();
    tf.dispose([s.x, s.yOneHot]);
  });

  it.each([
    ['x only', false],
    ['with x^T (the training loop\'s first-layer path)', true],
  ])('agree to a small relative error: numerical side in float64 (h = 1e-6), %s', (_label, withXT) => {
    const s = tinySetup(2);
    const xT = withXT ? tf.transpose(s.x) as tf.Tensor2D : undefined;
    const { grads } = s.net.gradients(s.x, s.yOneHot, xT);
    xT?.dispose();
    const auto = grads.map((g) => Array.from(g.dataSync()));
    tf.dispose(grads);
    const p = copyParams(s.net);
    const flat = flatParams(p);
    const loss = () => crossEntropy64(forward64(p, s.sizes, s.x64, s.rows, 'train').logits, s.labels, 3);
    const h = 1e-6; // float64: truncation ~h^2, rounding ~1e-16/h, both far below float32 noise
    const numeric = flat.map((arr) =>
      Array.from(arr, (_, i) => {
        const keep = arr[i]!;
        arr[i] = keep + h;
        const up = loss();
        arr[i] = keep - h;
        const down = loss();
        arr[i] = keep;
        return (up - down) / (2 * h);
      }),
    );
    // Relative error of the whole gradient, and of each element whose gradient is not tiny.
    const a = auto.flat();
    const n = numeric.flat();
    const relAll = norm(a.map((v, i) => v - n[i]!)) / Math.max(norm(a), norm(n));
    const scale = Math.max(...n.map(Math.abs));
    let relMaxElement = 0;
    for (let i = 0; i < a.length; i++) {
      if (Math.abs(n[i]!) < 1e-3 * scale) continue;
      relMaxElement = Math.max(relMaxElement, Math.abs(a[i]! - n[i]!) / Math.max(Math.abs(a[i]!), Math.abs(n[i]!)));
    }
    console.log(`BN gradient check (float32 autodiff vs float64 centered differences, h=${h}): ` +
      `relative error of the whole gradient ${relAll.toExponential(2)}, worst element ${relMaxElement.toExponential(2)} over ${a.length} parameters`);
    expect(relAll).toBeLessThan(1e-5);
    expect(relMaxElement).toBeLessThan(1e-3);
    // The bias before a BN layer cancels in (x - mean): its gradient is zero, up to float32 noise.
    for (const idx of [1, 5]) expect(Math.max(...auto[idx]!.map(Math.abs))).toBeLessThan(1e-6 * scale);
    s.net.dispose();
    tf.dispose([s.x, s.yOneHot]);
  });

  it('agree within float32 limits when the numerical side is the tfjs float32 loss (h = 1e-3)', () => {
    const s = tinySetup(3);
    const { grads } = s.net.gradients(s.x, s.yOneHot);
    const auto = grads.map((g) => Array.from(g.dataSync()));
    tf.dispose(grads);
    // float32 loss: its rounding error (~1e-7 * L / h) grows as h shrinks; as h grows, so does
    // the chance that +-h moves a ReLU input across 0 (a kink, where the difference quotient
    // mixes two slopes). On this net (seed 3) the whole-gradient relative error was 4.7e-2 at
    // h = 1e-2 and 3.3e-2 at 3e-3 (kinks), 3.0e-3 at 1e-3, 1.1e-3 at 3e-4 and 3.7e-3 at 1e-4
    // (rounding). h = 1e-3 is the step we use; the float64 check above is the precise one.
    const h = 1e-3;
    const params = s.net.params();
    const loss = () => tf.tidy(() => s.net.loss(s.x, s.yOneHot, 'train').dataSync()[0]!);
    const numeric: number[] = [];
    for (const v of params) {
      const base = v.dataSync().slice();
      for (let i = 0; i < base.length; i++) {
        const at = (d: number) => {
          const moved = base.slice();
          moved[i] = base[i]! + d;
          tf.tidy(() => v.assign(tf.tensor(moved, v.shape)));
          return { loss: loss(), at: moved[i]! };
        };
        const up = at(h);
        const down = at(-h);
        // divide by the step float32 actually took (base +- h is rounded)
        numeric.push((up.loss - down.loss) / (up.at - down.at));
      }
      tf.tidy(() => v.assign(tf.tensor(base, v.shape)));
    }
    const a = auto.flat();
    const relAll = norm(a.map((x, i) => x - numeric[i]!)) / Math.max(norm(a), norm(numeric));
    console.log(`BN gradient check (float32 autodiff vs float32 centered differences, h=${h}): relative error of the whole gradient ${relAll.toExponential(2)}`);
    expect(relAll).toBeLessThan(1e-2);
    s.net.dispose();
    tf.dispose([s.x, s.yOneHot]);
  });
});

describe('batch norm train mode vs eval mode', () => {
  it('running statistics start at 0 and move 10% toward the batch statistics per train-mode pass', () => {
    const s = tinySetup(4);
    const p = copyParams(s.net);
    const { batchStats } = forward64(p, s.sizes, s.x64, s.rows, 'train');
    for (const l of s.net.bn) {
      expect(Array.from(l.runningMean.dataSync()).every((v) => v === 0)).toBe(true);
      expect(Array.from(l.runningVar.dataSync()).every((v) => v === 0)).toBe(true);
    }
    const train1 = tf.tidy(() => Array.from(s.net.logits(s.x, 'train').dataSync()));
    const m = 1 - BN_MOMENTUM;
    s.net.bn.forEach((l, i) => {
      const rm = l.runningMean.dataSync();
      const rv = l.runningVar.dataSync();
      batchStats[i]!.mean.forEach((mu, j) => expect(rm[j]!).toBeCloseTo(m * mu, 5));
      batchStats[i]!.variance.forEach((v, j) => expect(rv[j]!).toBeCloseTo(m * v, 5));
    });
    // Evaluation uses those running statistics (0.1 of the batch's): our float64 eval pass
    // with them gives the same logits, and these differ clearly from the train-mode logits.
    const running = batchStats.map((b) => ({ mean: b.mean.map((v) => m * v), variance: b.variance.map((v) => m * v) }));
    const eval64 = forward64(p, s.sizes, s.x64, s.rows, 'eval', running).logits;
    const evalTf = tf.tidy(() => Array.from(s.net.logits(s.x, 'eval').dataSync()));
    const evalScale = Math.max(...Array.from(eval64, Math.abs));
    evalTf.forEach((v, i) => expect(Math.abs(v - eval64[i]!)).toBeLessThan(1e-4 * evalScale));
    const train64 = forward64(p, s.sizes, s.x64, s.rows, 'train').logits;
    train1.forEach((v, i) => expect(Math.abs(v - train64[i]!)).toBeLessThan(1e-4 * Math.max(1, Math.abs(train64[i]!))));
    const gap = Math.max(...evalTf.map((v, i) => Math.abs(v - train1[i]!)));
    expect(gap).toBeGreaterThan(0.1);
    // Eval mode leaves the running statistics alone.
    const before = s.net.bn.map((l) => Array.from(l.runningVar.dataSync()));
    tf.tidy(() => s.net.logits(s.x, 'eval'));
    expect(s.net.bn.map((l) => Array.from(l.runningVar.dataSync()))).toEqual(before);
    s.net.dispose();
    tf.dispose([s.x, s.yOneHot]);
  });

  it('after many passes on one batch eval mode reproduces train mode on it, but not on another batch', () => {
    const s = tinySetup(5);
    let train: number[] = [];
    // 0.9^300 ~ 2e-14: the running statistics are the batch's own
    for (let k = 0; k < 300; k++) train = tf.tidy(() => Array.from(s.net.logits(s.x, 'train').dataSync()));
    const evalSame = tf.tidy(() => Array.from(s.net.logits(s.x, 'eval').dataSync()));
    const scale = Math.max(...train.map(Math.abs));
    expect(Math.max(...evalSame.map((v, i) => Math.abs(v - train[i]!)))).toBeLessThan(1e-4 * scale);
    // Another batch, drawn at a different scale: train mode normalises it with its own
    // statistics, eval mode with the first batch's, so the two disagree.
    const rng = Rng.stream(5, 'other');
    const other = tf.tensor2d(Float32Array.from({ length: s.rows * 6 }, () => 3 * rng.normal() + 1), [s.rows, 6]);
    const evalOther = tf.tidy(() => Array.from(s.net.logits(other, 'eval').dataSync()));
    const trainOther = tf.tidy(() => Array.from(s.net.logits(other, 'train').dataSync()));
    expect(Math.max(...evalOther.map((v, i) => Math.abs(v - trainOther[i]!)))).toBeGreaterThan(0.1 * scale);
    // A single row: train mode sees zero variance and outputs beta for every input, eval mode does not.
    const row = (i: number) => tf.slice(s.x, [i, 0], [1, 6]);
    const trainRows = [0, 1].map((i) => tf.tidy(() => Array.from(s.net.logits(row(i) as tf.Tensor2D, 'train').dataSync())));
    expect(trainRows[0]!.map((v, j) => v - trainRows[1]![j]!).every((d) => Math.abs(d) < 1e-5)).toBe(true);
    const evalRows = [0, 1].map((i) => tf.tidy(() => Array.from(s.net.logits(row(i) as tf.Tensor2D, 'eval').dataSync())));
    expect(Math.max(...evalRows[0]!.map((v, j) => Math.abs(v - evalRows[1]![j]!)))).toBeGreaterThan(1e-3);
    other.dispose();
    s.net.dispose();
    tf.dispose([s.x, s.yOneHot]);
  });
});

describe('S5 batchnorm study', () => {
  it('logspace(0, -4, 16) runs from 1 to 1e-4', () => {
    const w = logspace(0, -4, 16);
    expect(w).toHaveLength(16);
    expect(w[0]).toBe(1);
    expect(w[15]).toBeCloseTo(1e-4, 12);
    expect(w[1]).toBeCloseTo(10 ** (-4 / 15), 12);
  });

  it('BN/no-BN training on shared batches leaks no tensors', () => {
    const images = new Float32Array(40 * 784).map((_, i) => (i % 7) / 7);
    const labels = Uint8Array.from({ length: 40 }, (_, i) => i % 10);
    const train = { images, labels, count: 40 };
    const evalSet = toBatch(train);
    const sizes = [784, 20, 20, 10];
    const trainees = [true, false].map((bn) => ({
      name: bn ? 'bn' : 'plain',
      net: new Mlp({ sizes, activation: 'relu' as const, init: { std: 0.1 }, batchNorm: bn }, Rng.stream(0, 'init')),
      optimizer: new Sgd(0.01),
    }));
    const run = (epochs: number) => trainEpochs({ trainees, train, batchSize: 10, epochs, rng: Rng.stream(0, 'b'), evalSets: { train: evalSet } });
    run(1);
    const before = tf.memory().numTensors;
    run(3);
    expect(tf.memory().numTensors).toBe(before);
    for (const t of trainees) t.net.dispose();
    disposeBatch(evalSet);
  });

  it('runs at a tiny size, repeats exactly for a seed, and states its claims with numbers', async () => {
    const mnist = loadMnist(defaultMnistDir());
    const config: BatchnormConfig = { ...batchnorm.profiles.quick, trainSize: 200, scales: [1, 0.05, 1e-4], epochs: 3 };
    const run = (seed: number) => runInTest(batchnorm, config, () => mnist, { seed });
    const start = tf.memory().numTensors;
    const a = await run(0);
    expect(tf.memory().numTensors).toBe(start);
    const b = await run(0);
    expect(b.series).toEqual(a.series);
    const acc = a.series.accuracy;
    expect(acc.bn).toHaveLength(3);
    for (const curve of [...acc.bn, ...acc.plain]) {
      expect(curve).toHaveLength(3);
      for (const v of curve) expect(v).toBeGreaterThanOrEqual(0);
    }
    const claims = batchnorm.claims(a, config);
    expect(claims.map((c) => c.id)).toEqual(['bn-ahead-at-end', 'bn-ahead-on-average', 'no-bn-extremes-near-chance', 'bn-never-near-chance', 'bn-less-dependent-on-w']);
    for (const c of claims) expect(Object.keys(c.numbers).length).toBeGreaterThan(0);
  });
});
