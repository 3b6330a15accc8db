/**
 * The affine layer `x W + b` with a hand-written gradient.
 *
 * Why: on the wasm backend only plain 2-D matMul runs through XNNPACK. tfjs's own gradient of
 * matMul asks for transposed operands (transposeA/transposeB), which take a loop about ten
 * times slower (DESIGN.md "Facts"). Here the operand is transposed explicitly first, so both
 * gradient products are plain matMuls:
 *   dx = dy W^T,   dW = x^T dy,   db = sum over rows of dy.
 */
import * as tf from '@tensorflow/tfjs';

const denseWithExplicitTransposes = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, save: tf.GradSaveFunc) => {
  save([x, w]);
  const value = tf.add(tf.matMul(x, w), b) as tf.Tensor2D;
  const gradFunc = (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
    const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
    return [tf.matMul(dy, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dy), tf.sum(dy, 0)];
  };
  return { value, gradFunc };
}) as unknown as Parameters<typeof tf.customGrad>[0]);

/** `x W + b`, differentiable with plain matMuls only. */
export function dense(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  return denseWithExplicitTransposes(x, w, b) as tf.Tensor2D;
}

/** The same affine map left to tfjs's own matMul gradient (for comparison tests and the benchmark). */
export function denseTfjsGrad(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  return tf.add(tf.matMul(x, w), b) as tf.Tensor2D;
}
