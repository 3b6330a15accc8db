/**
 * Data as tensors: a split held on the backend once (for repeated evaluation), minibatches
 * drawn with replacement (the lecture's np.random.choice), and one-hot labels.
 */
import * as tf from '@tensorflow/tfjs';
import { IMAGE_SIZE, NUM_CLASSES, gatherRows, type MnistSplit } from '../data/mnist.js';
import type { Rng } from '../rng.js';

export interface Batch {
  x: tf.Tensor2D;
  y: tf.Tensor2D;
  labels: Uint8Array;
  /** x transposed (784 x n), for training batches: the first layer's weight gradient is xT dy. */
  xT?: tf.Tensor2D;
}

/** The rows of a row-major n x d matrix as a d x n matrix; cheaper here than a kernel launch. */
function transposed(data: Float32Array, n: number, d: number): Float32Array {
  const out = new Float32Array(n * d);
  for (let r = 0; r < n; r++) for (let c = 0; c < d; c++) out[c * n + r] = data[r * d + c]!;
  return out;
}

export function oneHot(labels: Uint8Array): Float32Array {
  const out = new Float32Array(labels.length * NUM_CLASSES);
  for (let i = 0; i < labels.length; i++) out[i * NUM_CLASSES + labels[i]!] = 1;
  return out;
}

export function toBatch(split: MnistSplit): Batch {
  return {
    x: tf.tensor2d(split.images, [split.count, IMAGE_SIZE]),
    y: tf.tensor2d(oneHot(split.labels), [split.count, NUM_CLASSES]),
    labels: split.labels,
  };
}

/** A training batch of `size` rows drawn with replacement, with its transpose. */
export function sampleBatch(split: MnistSplit, size: number, rng: Rng): Batch {
  const rows = gatherRows(split, rng.choice(split.count, size));
  return { ...toBatch(rows), xT: tf.tensor2d(transposed(rows.images, rows.count, IMAGE_SIZE), [IMAGE_SIZE, rows.count]) };
}

export function disposeBatch(b: Batch): void {
  b.x.dispose();
  b.y.dispose();
  b.xT?.dispose();
}

/** Share of rows whose predicted class equals the label. */
export function accuracyOf(predicted: Int32Array, labels: Uint8Array): number {
  let hit = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) hit++;
  return labels.length === 0 ? NaN : hit / labels.length;
}
