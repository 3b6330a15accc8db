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

/**
 * A training batch of `size` rows drawn with replacement, with its transpose (by the transpose
 * kernel: a copy, so the same values, and faster than building it in JavaScript; `npm run
 * bench` history in the README).
 */
export function sampleBatch(split: MnistSplit, size: number, rng: Rng): Batch {
  const b = toBatch(gatherRows(split, rng.choice(split.count, size)));
  return { ...b, xT: tf.transpose(b.x) };
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

/** Share of the most frequent label: what a net that predicts one class scores at best. */
export function majorityShare(labels: Uint8Array): number {
  const counts = new Map<number, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  return labels.length === 0 ? NaN : Math.max(...counts.values()) / labels.length;
}
