/**
 * Mean softmax cross-entropy with its gradient written out: d/dz = (softmax(z) - y) / N.
 * The same value as -mean(sum(y * logSoftmax(z))), in fewer kernels than autodiff builds
 * (each kernel launch costs tens of microseconds on wasm; `npm run bench` measures it).
 */
import * as tf from '@tensorflow/tfjs';
import { logSoftmax } from './kernels.js';

const op = tf.customGrad(((logits: tf.Tensor2D, yOneHot: tf.Tensor2D, save: tf.GradSaveFunc) => {
  const logProb = logSoftmax(logits);
  save([logProb, yOneHot]);
  const n = logits.shape[0];
  const value = tf.div(tf.sum(tf.mul(yOneHot, logProb)), -n) as tf.Scalar;
  const gradFunc = (dy: tf.Scalar, saved: tf.Tensor[]) => {
    const [lp, y] = saved as [tf.Tensor2D, tf.Tensor2D];
    const dz = tf.mul(tf.sub(tf.exp(lp), y), tf.div(dy, n));
    // the labels are data: their gradient is never used (see denseOnData in dense.ts)
    return [dz, tf.scalar(0)];
  };
  return { value, gradFunc };
}) as unknown as Parameters<typeof tf.customGrad>[0]);

export function softmaxCrossEntropy(logits: tf.Tensor2D, yOneHot: tf.Tensor2D): tf.Scalar {
  return op(logits, yOneHot) as tf.Scalar;
}
