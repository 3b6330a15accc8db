/**
 * S13's measurements of a network at initialization, before any update:
 * - the norm of each layer's weight gradient ||dL/dW_l|| on a batch of probe images;
 * - the mean activation of each hidden layer on those images;
 * - for one example, per layer, the share of neurons whose incoming weight gradients all
 *   share a sign. For one example dL/dW_l = x^T dz (an outer product), so neuron j's column is
 *   x * dz_j: when every entry of the layer's input x is positive (sigmoid outputs), all its
 *   entries have the sign of dz_j. This is measured on the real gradient, not assumed.
 */
import * as tf from '@tensorflow/tfjs';
import type { Mlp } from '../../src/nn/mlp.js';
import { activate } from '../../src/nn/activation.js';
import type { Batch } from '../../src/train/batches.js';

/** Each weight matrix's gradient, in layer order, as float32 arrays (the caller's batch). */
function weightGradients(net: Mlp, batch: Batch): { values: Float32Array; rows: number; cols: number }[] {
  const { grads } = net.gradients(batch.x, batch.y, batch.xT);
  const params = net.params();
  try {
    return net.weights.map((w) => {
      const g = grads[params.indexOf(w)]!;
      const [rows, cols] = g.shape as [number, number];
      return { values: g.dataSync() as Float32Array, rows, cols };
    });
  } finally {
    tf.dispose(grads);
  }
}

/** ||dL/dW_l|| (Frobenius, summed in double precision) of every layer on `batch`. */
export function layerGradientNorms(net: Mlp, batch: Batch): number[] {
  return weightGradients(net, batch).map(({ values }) => Math.sqrt(values.reduce((s, v) => s + v * v, 0)));
}

/** Mean activation of every hidden layer over the batch's rows and the layer's units (the forward pass of evaluation). */
export function meanActivations(net: Mlp, x: tf.Tensor2D): number[] {
  const out: number[] = [];
  tf.tidy(() => {
    let h = x;
    for (let l = 0; l + 1 < net.weights.length; l++) {
      h = activate(net.spec.activation, tf.add(tf.matMul(h, net.weights[l]!), net.biases[l]!)) as tf.Tensor2D;
      out.push(tf.mean(h).dataSync()[0]!);
    }
  });
  return out;
}

export interface OneSignShare {
  /** Share of neurons (among those with a non-zero gradient) whose non-zero incoming weight gradients all have one sign; null if none has one. */
  share: number | null;
  /** Neurons whose incoming gradients are all zero (no sign to share; left out of the share). */
  zeroNeurons: number;
}

/** Per layer, for the one example in `example` (a batch of one row). */
export function oneSignShares(net: Mlp, example: Batch): OneSignShare[] {
  if (example.x.shape[0] !== 1) throw new Error('the one-sign share is measured on one example');
  return weightGradients(net, example).map(({ values, rows, cols }) => {
    let oneSign = 0;
    let zero = 0;
    for (let j = 0; j < cols; j++) {
      let pos = 0;
      let neg = 0;
      for (let i = 0; i < rows; i++) {
        const v = values[i * cols + j]!;
        if (v > 0) pos++;
        else if (v < 0) neg++;
      }
      if (pos + neg === 0) zero++;
      else if (pos === 0 || neg === 0) oneSign++;
    }
    return { share: cols > zero ? oneSign / (cols - zero) : null, zeroNeurons: zero };
  });
}
