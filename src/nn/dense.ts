/**
 * The affine layer `x W + b`, optionally followed by its activation, as a tfjs op with a
 * hand-written gradient, for the gradient tape: gradientsTape (src/nn/reference.ts, the
 * reference the tape-free training pass of layers.ts is tested against, bit for bit)
 * differentiates it.
 *
 * Why: on the wasm backend only plain 2-D matMul runs through XNNPACK. tfjs's own gradient of
 * matMul asks for transposed operands (transposeA/transposeB), which take a loop about ten
 * times slower. Here the products with a transposed operand go through kernels.ts, which on
 * wasm transposes explicitly first (so both gradient products are plain matMuls) and on
 * tensorflow uses the product's transpose flags:
 *   dx = dy W^T,   dW = x^T dy,   db = sum over rows of dy.
 * For the first layer, whose input is data, dx is never computed.
 *
 * The forward asks tf.fused.matMul for matMul + bias + ReLU/sigmoid in one kernel, but while
 * the tape records (gradient depth > 0) tfjs fuses only a linear activation: with ReLU or
 * sigmoid it runs matMul, add and the activation as three kernels (and the fused kernel would
 * round differently). Outside the tape (evaluation) the whole thing is one kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { ACTIVATION_RULES, type FusedActivation } from './activation.js';
import { nativeBiasGrad, productTransposedA, productTransposedB } from './kernels.js';

export type { FusedActivation } from './activation.js';

type GradFunc = (dy: tf.Tensor2D, saved: tf.Tensor[]) => tf.Tensor[];

/** dL/dz from dL/dy for y = act(z), written with the saved output y. */
function activationGrad(act: FusedActivation, dy: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor2D {
  return act === 'linear' ? dy : ACTIVATION_RULES[act].fused!.backward(dy, y);
}

function forward(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, act: FusedActivation): tf.Tensor2D {
  return tf.fused.matMul({ a: x, b: w, bias: b, activation: act }) as tf.Tensor2D;
}

const ops = new Map<string, (...args: tf.Tensor[]) => tf.Tensor2D>();

/** One customGrad op per (activation, whether x needs a gradient). */
function op(act: FusedActivation, inputGrad: boolean): (...args: tf.Tensor[]) => tf.Tensor2D {
  const key = `${act}:${inputGrad}`;
  let f = ops.get(key);
  if (f) return f;
  if (inputGrad) {
    f = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, save: tf.GradSaveFunc) => {
      const value = forward(x, w, b, act);
      save([x, w, value]);
      const gradFunc: GradFunc = (dy, saved) => {
        const [xs, ws, ys] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        const dz = activationGrad(act, dy, ys);
        return [productTransposedB(dz, ws), productTransposedA(xs, dz), (nativeBiasGrad(dz) ?? tf.sum(dz, 0))];
      };
      return { value, gradFunc };
    }) as unknown as Parameters<typeof tf.customGrad>[0]) as (...args: tf.Tensor[]) => tf.Tensor2D;
  } else {
    // x^T is an extra input (not differentiated) so that the caller can supply it ready-made.
    f = tf.customGrad(((xT: tf.Tensor2D, x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, save: tf.GradSaveFunc) => {
      const value = forward(x, w, b, act);
      save([xT, x, value]);
      const gradFunc: GradFunc = (dy, saved) => {
        const [xTs, xs, ys] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        const dz = activationGrad(act, dy, ys);
        // customGrad wants one gradient per input; the data's are never used (tfjs checks the
        // shape of a gradient only for inputs on the path to a variable, so if x ever were
        // one, this scalar would fail loudly instead of passing a wrong gradient).
        return [tf.scalar(0), tf.scalar(0), productTransposedA(xs, dz, xTs), (nativeBiasGrad(dz) ?? tf.sum(dz, 0))];
      };
      return { value, gradFunc };
    }) as unknown as Parameters<typeof tf.customGrad>[0]) as (...args: tf.Tensor[]) => tf.Tensor2D;
  }
  ops.set(key, f);
  return f;
}

/** `act(x W + b)`, differentiable with plain matMuls only. */
export function dense(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, act: FusedActivation = 'linear'): tf.Tensor2D {
  return op(act, true)(x, w, b);
}

/**
 * The first layer: `act(x W + b)` where x is data, so no gradient for x is formed.
 * `xT` is x transposed (the caller can build it for free while assembling the batch).
 */
export function denseOnData(x: tf.Tensor2D, xT: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, act: FusedActivation = 'linear'): tf.Tensor2D {
  return op(act, false)(xT, x, w, b);
}
