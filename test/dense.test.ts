import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { dense, denseTfjsGrad } from '../src/nn/dense.js';
import { Rng } from '../src/rng.js';

function maxRelDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.div(tf.abs(tf.sub(a, b)), tf.add(tf.abs(b), 1e-6))).dataSync()[0]!);
}

describe('dense op with explicit transposes', () => {
  it('gives the same value and gradients as tfjs\'s own matMul gradient', () => {
    const rng = new Rng(1);
    const x = tf.tensor2d(rng.normalArray(32 * 50), [32, 50]);
    const w = tf.tensor2d(rng.normalArray(50 * 20, 0.1), [50, 20]);
    const b = tf.tensor1d(rng.normalArray(20));
    // a loss that gives every output element its own weight
    const r = tf.tensor2d(rng.normalArray(32 * 20), [32, 20]);
    const ours = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(tf.mul(tf.relu(dense(xx as tf.Tensor2D, ww as tf.Tensor2D, bb as tf.Tensor1D)), r)));
    const theirs = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(tf.mul(tf.relu(denseTfjsGrad(xx as tf.Tensor2D, ww as tf.Tensor2D, bb as tf.Tensor1D)), r)));
    const g1 = ours([x, w, b]);
    const g2 = theirs([x, w, b]);
    for (let i = 0; i < 3; i++) {
      expect(g1[i]!.shape).toEqual(g2[i]!.shape);
      expect(maxRelDiff(g1[i]!, g2[i]!)).toBeLessThan(1e-4);
    }
    expect(maxRelDiff(dense(x, w, b), denseTfjsGrad(x, w, b))).toBeLessThan(1e-6);
    tf.dispose([x, w, b, r, ...g1, ...g2]);
  });
});
