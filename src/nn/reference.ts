/**
 * What the hand-written training pass is measured against, kept out of `Mlp`:
 * - `gradientsTape`: the same loss differentiated by tfjs's gradient tape (tf.variableGrads
 *   over `net.loss`, whose dense and loss ops carry their own gradients): the reference the
 *   hand-written pass must match bit for bit (test/backward*.test.ts), and the tape core the
 *   bench times;
 * - `TapeMlp`: a network whose training steps go through that tape;
 * - `TfjsGradientMlp`: a network left to tfjs's own matMul gradient (plain matMul + add, the
 *   activation never fused, tfjs's log-softmax), the bench's slowest baseline.
 */
import * as tf from '@tensorflow/tfjs';
import type { FusedActivation } from './activation.js';
import { Mlp } from './mlp.js';

/** The training-mode loss and every parameter's gradient (in params() order) through the tape; the caller disposes the gradients. */
export function gradientsTape(net: Mlp, x: tf.Tensor2D, yOneHot: tf.Tensor2D, xT?: tf.Tensor2D): { loss: number; grads: tf.Tensor[] } {
  const params = net.params();
  const { value, grads } = tf.variableGrads(() => net.loss(x, yOneHot, 'train', xT), params);
  const loss = value.dataSync()[0]!;
  value.dispose();
  return { loss, grads: params.map((p) => grads[p.name]!) };
}

/** The affine map `x W + b` left to tfjs's own matMul gradient (for comparison tests and the bench). */
export function denseTfjsGrad(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  return tf.add(tf.matMul(x, w), b) as tf.Tensor2D;
}

/** The training core before the hand-written backward: every step through tfjs's gradient tape. */
export class TapeMlp extends Mlp {
  override gradients(x: tf.Tensor2D, yOneHot: tf.Tensor2D, xT?: tf.Tensor2D): { loss: number; grads: tf.Tensor[] } {
    return gradientsTape(this, x, yOneHot, xT);
  }
}

/** tfjs's own gradient of every op: no dense op of ours, no fused kernel, in training and evaluation alike. */
export class TfjsGradientMlp extends TapeMlp {
  protected override fusedActivation(): FusedActivation {
    return 'linear';
  }

  override affine(h: tf.Tensor2D, l: number): tf.Tensor2D {
    return denseTfjsGrad(h, this.weights[l] as tf.Tensor2D, this.biases[l] as tf.Tensor1D);
  }

  protected override crossEntropy(logits: tf.Tensor2D, yOneHot: tf.Tensor2D): tf.Scalar {
    return tf.neg(tf.mean(tf.sum(tf.mul(yOneHot, tf.logSoftmax(logits)), 1))) as tf.Scalar;
  }
}
