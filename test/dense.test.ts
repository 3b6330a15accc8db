import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { dense, denseOnData } from '../src/nn/dense.js';
import { denseTfjsGrad } from '../src/nn/reference.js';
import { softmaxCrossEntropy } from '../src/nn/loss.js';
import { Rng } from '../src/rng.js';

/** Largest |a - b| / (|b| + 1e-3): relative where values are large, absolute near zero. */
function maxRelDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.div(tf.abs(tf.sub(a, b)), tf.add(tf.abs(b), 1e-3))).dataSync()[0]!);
}

const rng = new Rng(1);
const x = tf.tensor2d(rng.normalArray(32 * 50), [32, 50]);
const w = tf.tensor2d(rng.normalArray(50 * 20, 0.1), [50, 20]);
const b = tf.tensor1d(rng.normalArray(20, 0.1));
// a loss that gives every output element its own weight
const r = tf.tensor2d(rng.normalArray(32 * 20), [32, 20]);
const reference = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
  tf.sum(tf.mul(tf.relu(denseTfjsGrad(xx as tf.Tensor2D, ww as tf.Tensor2D, bb as tf.Tensor1D)), r)));

describe('dense op with explicit transposes', () => {
  it('gives the same gradients as tfjs\'s own matMul gradient (activation applied after)', () => {
    const ours = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(tf.mul(tf.relu(dense(xx as tf.Tensor2D, ww as tf.Tensor2D, bb as tf.Tensor1D)), r)));
    const g1 = ours([x, w, b]);
    const g2 = reference([x, w, b]);
    for (let i = 0; i < 3; i++) {
      expect(g1[i]!.shape).toEqual(g2[i]!.shape);
      expect(maxRelDiff(g1[i]!, g2[i]!)).toBeLessThan(1e-4);
    }
    tf.dispose([...g1, ...g2]);
  });

  it('fused ReLU forward and its gradient match the unfused ones', () => {
    const ours = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(tf.mul(dense(xx as tf.Tensor2D, ww as tf.Tensor2D, bb as tf.Tensor1D, 'relu'), r)));
    const g1 = ours([x, w, b]);
    const g2 = reference([x, w, b]);
    for (let i = 0; i < 3; i++) expect(maxRelDiff(g1[i]!, g2[i]!)).toBeLessThan(1e-4);
    const v1 = dense(x, w, b, 'relu');
    const v2 = tf.relu(denseTfjsGrad(x, w, b));
    expect(maxRelDiff(v1, v2)).toBeLessThan(1e-4); // float32: the fused kernel adds the bias in another order
    tf.dispose([...g1, ...g2, v1, v2]);
  });

  it('on data (first layer): the same weight and bias gradients, from a supplied x^T', () => {
    const xT = tf.transpose(x) as tf.Tensor2D;
    const ours = tf.grads((ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(denseOnData(x, xT, ww as tf.Tensor2D, bb as tf.Tensor1D, 'relu'), r)));
    const g1 = ours([w, b]);
    const g2 = reference([x, w, b]);
    expect(maxRelDiff(g1[0]!, g2[1]!)).toBeLessThan(1e-4);
    expect(maxRelDiff(g1[1]!, g2[2]!)).toBeLessThan(1e-4);
    tf.dispose([xT, ...g1, ...g2]);
  });
});

describe('softmax cross-entropy op', () => {
  it('matches -mean(sum(y log softmax z)) in value and gradient', () => {
    const z = tf.tensor2d(rng.normalArray(16 * 10, 3), [16, 10]);
    const labels = Array.from({ length: 16 }, (_, i) => i % 10);
    const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 10).toFloat() as tf.Tensor2D;
    const autodiff = (zz: tf.Tensor) => tf.neg(tf.mean(tf.sum(tf.mul(y, tf.logSoftmax(zz)), 1))) as tf.Scalar;
    const ours = (zz: tf.Tensor) => softmaxCrossEntropy(zz as tf.Tensor2D, y);
    expect(ours(z).dataSync()[0]).toBeCloseTo(autodiff(z).dataSync()[0]!, 5);
    const g1 = tf.grad(ours)(z);
    const g2 = tf.grad(autodiff)(z);
    expect(maxRelDiff(g1, g2)).toBeLessThan(1e-4);
    tf.dispose([z, y, g1, g2]);
  });
});
