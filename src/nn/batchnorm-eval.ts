/**
 * Batch norm at evaluation time: which mean and variance normalise a BN layer's input when the
 * network is evaluated (Mlp.logits / Mlp.predict with a `BnEval`).
 *
 * - `running` (the default, what training leaves): the running averages every training step
 *   updates, `running = m*running + (1-m)*batch_stat` with m = 0.9, both starting at 0, the
 *   variance being the batch's biased variance (divided by the batch size).
 * - `given`: statistics handed in per layer, e.g. the population statistics of a data set
 *   (`populationStatistics`) or running averages of another momentum (`RunningAverages`).
 * - `batch`: the evaluated rows, split into consecutive groups of `groupSize`, each normalised
 *   by its own mean and biased variance, as a training step normalises its batch (one group of
 *   all rows is the whole batch; groups of 1 have variance 0, so every output is beta).
 *
 * The formulas are the training step's: y = gamma * (x - mean) / sqrt(var + eps) + beta.
 */
import * as tf from '@tensorflow/tfjs';
import type { MnistSplit } from '../data/mnist.js';
import { IMAGE_SIZE } from '../data/mnist.js';
import type { Mlp } from './mlp.js';

/** One BN layer's statistics as tensors (float32). */
export interface BnTensors {
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/** One BN layer's statistics as numbers (float64). */
export interface BnMoments {
  mean: Float64Array;
  variance: Float64Array;
}

export type BnEval = { kind: 'running' } | { kind: 'given'; stats: BnTensors[] } | { kind: 'batch'; groupSize: number };

export const RUNNING: BnEval = { kind: 'running' };

/** m * prev + (1 - m) * value: the running-average update (the suite's, with m = 0.9, and every tracked momentum's). */
export function runningAverage(prev: tf.Tensor, value: tf.Tensor, momentum: number): tf.Tensor {
  return tf.add(tf.mul(prev, momentum), tf.mul(value, 1 - momentum));
}

/** gamma * (x - mean) / sqrt(var + eps) + beta with given statistics (the kernels evaluation has always used). */
export function normalizeWith(x: tf.Tensor2D, mean: tf.Tensor1D, variance: tf.Tensor1D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor2D {
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), gamma), beta) as tf.Tensor2D;
}

/** Each consecutive group of `groupSize` rows normalised by its own mean and biased variance. */
export function normalizeByGroups(x: tf.Tensor2D, groupSize: number, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor2D {
  const [n, d] = x.shape;
  if (!Number.isInteger(groupSize) || groupSize < 1 || n % groupSize !== 0) throw new Error(`cannot split ${n} rows into batches of ${groupSize}`);
  const groups = tf.reshape(x, [n / groupSize, groupSize, d]);
  const { mean, variance } = tf.moments(groups, 1, true);
  const xhat = tf.div(tf.sub(groups, mean), tf.sqrt(tf.add(variance, eps)));
  return tf.reshape(tf.add(tf.mul(xhat, gamma), beta), [n, d]);
}

/** Float64 mean and biased variance of each column of rows stored in chunks (two passes: the mean, then squared deviations). */
export function columnMoments(chunks: readonly Float32Array[], cols: number): BnMoments {
  const mean = new Float64Array(cols);
  const variance = new Float64Array(cols);
  let rows = 0;
  for (const c of chunks) {
    for (let i = 0; i < c.length; i += cols) for (let j = 0; j < cols; j++) mean[j]! += c[i + j]!;
    rows += c.length / cols;
  }
  if (rows === 0) throw new Error('no rows to take statistics of');
  for (let j = 0; j < cols; j++) mean[j]! /= rows;
  for (const c of chunks) {
    for (let i = 0; i < c.length; i += cols) {
      for (let j = 0; j < cols; j++) {
        const dev = c[i + j]! - mean[j]!;
        variance[j]! += dev * dev;
      }
    }
  }
  for (let j = 0; j < cols; j++) variance[j]! /= rows;
  return { mean, variance };
}

/** Float32 tensors of float64 statistics (the caller disposes them, e.g. with disposeStats). */
export function toTensors(moments: readonly BnMoments[]): BnTensors[] {
  return moments.map((m) => ({ mean: tf.tensor1d(Float32Array.from(m.mean)), variance: tf.tensor1d(Float32Array.from(m.variance)) }));
}

export function disposeStats(stats: readonly BnTensors[]): void {
  for (const s of stats) tf.dispose([s.mean, s.variance]);
}

/** Runs f with the given statistics as tensors, then frees them. */
export function withGiven<T>(moments: readonly BnMoments[], f: (bnEval: BnEval) => T): T {
  const stats = toTensors(moments);
  try {
    return f({ kind: 'given', stats });
  } finally {
    disposeStats(stats);
  }
}

/** A tensor's values as float64 (for comparing statistics). */
const f64 = (t: tf.Tensor): Float64Array => Float64Array.from(t.dataSync());

/** The network's own running statistics, per BN layer (its variables: do not dispose). */
export function runningTensors(net: Mlp): BnTensors[] {
  return net.bn.map((l) => ({ mean: l.runningMean as tf.Tensor1D, variance: l.runningVar as tf.Tensor1D }));
}

/** Statistics as numbers. */
export function toMoments(stats: readonly BnTensors[]): BnMoments[] {
  return stats.map((s) => ({ mean: f64(s.mean), variance: f64(s.variance) }));
}

/**
 * Population statistics: the exact mean and (biased, divided by the count) variance of each BN
 * layer's input over every row of `split`, layer by layer in evaluation mode. Layer l's input
 * is computed with layers 0..l-1 already normalised by their population statistics (as the
 * network will be evaluated), so one forward pass over the data, in chunks of `chunkRows`
 * images, gives every layer's statistics. Sums run in float64 over the float32 activations.
 */
export function populationStatistics(net: Mlp, split: MnistSplit, chunkRows = 10_000): BnMoments[] {
  if (net.bn.length === 0) throw new Error('the network has no batch-norm layers');
  const out: BnMoments[] = [];
  // The current layer's inputs, chunk by chunk (null: the images themselves, made as needed).
  let inputs: tf.Tensor2D[] | null = null;
  const starts: number[] = [];
  for (let r = 0; r < split.count; r += chunkRows) starts.push(r);
  const imageChunk = (r: number) => {
    const rows = Math.min(chunkRows, split.count - r);
    return tf.tensor2d(split.images.subarray(r * IMAGE_SIZE, (r + rows) * IMAGE_SIZE), [rows, IMAGE_SIZE]);
  };
  try {
    for (let l = 0; l < net.bn.length; l++) {
      const affine: tf.Tensor2D[] = [];
      const values: Float32Array[] = [];
      starts.forEach((r, i) => {
        const h = inputs ? inputs[i]! : imageChunk(r);
        const a = tf.tidy(() => net.affine(h, l, 'eval'));
        if (!inputs) h.dispose();
        affine.push(a);
        values.push(a.dataSync() as Float32Array);
      });
      const moments = columnMoments(values, affine[0]!.shape[1]);
      out.push(moments);
      if (inputs) tf.dispose(inputs);
      const stats = toTensors(out);
      try {
        inputs = affine.map((a) => tf.tidy(() => net.afterAffine(a, l, 'eval', { kind: 'given', stats })));
      } finally {
        disposeStats(stats);
        tf.dispose(affine);
      }
    }
  } finally {
    if (inputs) tf.dispose(inputs);
  }
  return out;
}

/**
 * Running averages of several momenta, following one training run: attached to a network, it
 * sees each BN layer's batch mean and variance at every training step (the same numbers the
 * network's own running statistics are updated from) and updates its own averages with the
 * same kernels (runningAverage). Starting at 0 like the network's, the averages for momentum
 * 0.9 equal the network's running statistics bit for bit. Training never reads them, so
 * tracking any number of momenta leaves the run unchanged.
 */
export class RunningAverages {
  private readonly vars: Map<number, { mean: tf.Variable; variance: tf.Variable }[]> = new Map();

  constructor(
    readonly momenta: readonly number[],
    widths: readonly number[],
  ) {
    for (const m of momenta) {
      if (!(m >= 0 && m < 1)) throw new Error(`a momentum must be in [0, 1), got ${m}`);
      if (this.vars.has(m)) throw new Error(`momentum ${m} given twice`);
      // tidy frees the zeros; each variable keeps its own reference to the data.
      const layers = tf.tidy(() => widths.map((w) => ({ mean: tf.variable(tf.zeros([w]), false), variance: tf.variable(tf.zeros([w]), false) })));
      this.vars.set(m, layers);
    }
  }

  /** Tracks `net` from now on (one tracker per network; a network has one observer). */
  attach(net: Mlp): void {
    if (net.bn.length !== this.layers()) throw new Error(`the network has ${net.bn.length} BN layers, the averages ${this.layers()}`);
    net.onBatchStatistics = (layer, mean, variance) => this.observe(layer, mean, variance);
  }

  private layers(): number {
    return this.vars.values().next().value?.length ?? 0;
  }

  /** One training step's batch statistics of BN layer `layer`. */
  observe(layer: number, mean: tf.Tensor1D, variance: tf.Tensor1D): void {
    tf.tidy(() => {
      for (const [m, layers] of this.vars) {
        const v = layers[layer]!;
        v.mean.assign(runningAverage(v.mean, mean, m));
        v.variance.assign(runningAverage(v.variance, variance, m));
      }
    });
  }

  /** The averages of momentum m, per BN layer, as tensors owned by the tracker (do not dispose). */
  tensors(m: number): BnTensors[] {
    const layers = this.vars.get(m);
    if (!layers) throw new Error(`momentum ${m} is not tracked`);
    return layers.map((v) => ({ mean: v.mean as tf.Tensor1D, variance: v.variance as tf.Tensor1D }));
  }

  dispose(): void {
    for (const layers of this.vars.values()) for (const v of layers) tf.dispose([v.mean, v.variance]);
    this.vars.clear();
  }
}

/**
 * How far estimated statistics are from reference ones, over every unit of every layer, in the
 * units normalisation cares about: the mean error |mean - ref mean| / sqrt(ref var + eps) and
 * the scale error |sqrt((var + eps) / (ref var + eps)) - 1|, each averaged over units.
 */
export function statisticsError(estimate: readonly BnMoments[], reference: readonly BnMoments[], eps: number): { mean: number; scale: number } {
  let meanErr = 0;
  let scaleErr = 0;
  let units = 0;
  reference.forEach((ref, l) => {
    const est = estimate[l]!;
    for (let j = 0; j < ref.mean.length; j++) {
      const refStd = Math.sqrt(ref.variance[j]! + eps);
      meanErr += Math.abs(est.mean[j]! - ref.mean[j]!) / refStd;
      scaleErr += Math.abs(Math.sqrt(est.variance[j]! + eps) / refStd - 1);
      units++;
    }
  });
  return { mean: meanErr / units, scale: scaleErr / units };
}

/** Whether two sets of statistics hold the same float32 values, bit for bit. */
export function sameBits(a: readonly BnTensors[], b: readonly BnTensors[]): boolean {
  if (a.length !== b.length) return false;
  const eq = (x: tf.Tensor, y: tf.Tensor) => {
    const bits = (t: tf.Tensor) => {
      const f = t.dataSync() as Float32Array;
      return new Uint32Array(f.buffer, f.byteOffset, f.length);
    };
    const u = bits(x);
    const v = bits(y);
    return u.length === v.length && u.every((w, i) => w === v[i]);
  };
  return a.every((s, l) => eq(s.mean, b[l]!.mean) && eq(s.variance, b[l]!.variance));
}
