/**
 * What a network looks like inside, layer by layer, without training it:
 * - the norm of each layer's weight (and bias) gradient on a batch, from the same hand-written
 *   backward pass a training step runs (Mlp.gradients), or from gradients a step already has;
 * - each unit's mean and standard deviation, over a fixed probe batch, of what every layer after
 *   the first receives as input (the output of the hidden layer before it, after its batch norm
 *   and activation), as a training step would compute it on that batch.
 * Neither changes the network: the probe runs in evaluation mode, with batch norm normalising
 * by the probe batch's own statistics (what training mode does) but leaving the running
 * statistics alone, and dropout (if any) at its evaluation scaling, no mask drawn.
 */
import * as tf from '@tensorflow/tfjs';
import type { Mlp } from '../nn/mlp.js';

export interface LayerGradientNorms {
  /** ||dL/dW_l|| (Frobenius) per affine layer, input first. */
  weight: number[];
  /** ||dL/db_l|| per affine layer; null for a layer without bias. */
  bias: (number | null)[];
}

function norm(t: tf.Tensor): number {
  return tf.tidy(() => tf.sqrt(tf.sum(tf.square(t))).dataSync()[0]!);
}

/** Per-layer gradient norms from gradients in net.params() order (e.g. a training step's, before its update). */
export function gradientNormsOf(net: Mlp, grads: readonly tf.Tensor[]): LayerGradientNorms {
  const params = net.params();
  if (grads.length !== params.length) throw new Error(`expected ${params.length} gradients (one per parameter), got ${grads.length}`);
  const at = (v: tf.Variable): tf.Tensor | null => {
    const i = params.indexOf(v);
    return i < 0 ? null : grads[i]!;
  };
  return {
    weight: net.weights.map((w) => norm(at(w)!)),
    bias: net.biases.map((b) => {
      const g = at(b);
      return g === null ? null : norm(g);
    }),
  };
}

/** Per-layer gradient norms of the training-mode loss on one batch; the net is not updated (its BN running statistics are: a training-mode pass). */
export function layerGradientNorms(net: Mlp, x: tf.Tensor2D, yOneHot: tf.Tensor2D): { loss: number } & LayerGradientNorms {
  const { loss, grads } = net.gradients(x, yOneHot);
  try {
    return { loss, ...gradientNormsOf(net, grads) };
  } finally {
    tf.dispose(grads);
  }
}

export interface UnitStatistics {
  /** mean[k][j]: unit j's mean over the probe batch of the input of affine layer k + 1. */
  mean: number[][];
  /** Biased standard deviation, likewise. */
  std: number[][];
}

/**
 * Per-unit mean and std, over the probe batch x, of the input of every affine layer after the
 * first (so one entry per hidden layer: what it hands on). Batch norm uses the probe batch's own
 * mean and variance, as in a training step on that batch; running statistics are not touched.
 */
export function layerInputStatistics(net: Mlp, x: tf.Tensor2D): UnitStatistics {
  const n = x.shape[0];
  const out: UnitStatistics = { mean: [], std: [] };
  tf.tidy(() => {
    let h = x;
    for (let l = 0; l + 1 < net.weights.length; l++) {
      h = net.afterAffine(net.affine(h, l, 'eval'), l, 'eval', { kind: 'batch', groupSize: n });
      const { mean, variance } = tf.moments(h, 0);
      out.mean.push(Array.from(mean.dataSync()));
      out.std.push(Array.from(tf.sqrt(variance).dataSync()));
    }
  });
  return out;
}
