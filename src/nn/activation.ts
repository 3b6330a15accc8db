/**
 * The activations, each one entry of a table that both passes read: its forward op, its
 * backward (the arithmetic tfjs's own gradient of that op runs), and, for those the affine
 * kernel can take in (tf.fused.matMul's relu and sigmoid), the gradient the dense op of
 * dense.ts computes for it from the output. A new activation is one entry here.
 */
import * as tf from '@tensorflow/tfjs';
import { eluBackward, leakyReluBackward, reluBackward, sigmoidBackward, tanhBackward } from './layers.js';

export const ACTIVATIONS = ['sigmoid', 'tanh', 'relu', 'leaky-relu', 'elu'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/** How figures and claims name them. */
export const ACTIVATION_LABEL: Record<Activation, string> = { sigmoid: 'sigmoid', tanh: 'tanh', relu: 'ReLU', 'leaky-relu': 'Leaky ReLU', elu: 'ELU' };

/** Leaky ReLU's slope for negative input: max(x, 0.01 x), the lecture's. */
export const LEAKY_RELU_SLOPE = 0.01;
/** ELU's alpha: x for x > 0, alpha (exp(x) - 1) below (tfjs's elu has alpha 1, the lecture's). */
export const ELU_ALPHA = 1;

/** The activations tf.fused.matMul can apply inside the affine kernel ('linear': none). */
export type FusedActivation = 'linear' | 'relu' | 'sigmoid';

export interface ActivationRule {
  /** y = f(z). */
  forward(z: tf.Tensor): tf.Tensor;
  /** dL/dz from dL/dy, given the op's input z and output y, as tfjs's gradient of `forward` computes it. */
  backward(dout: tf.Tensor2D, z: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor2D;
  /**
   * Set when the affine layer before it may run it in its own kernel (when nothing stands
   * between them): the kernel's activation, and dL/dz as the dense op computes it from the
   * output y (for ReLU the output's sign rather than the input's: the same values).
   */
  fused?: { kernel: Exclude<FusedActivation, 'linear'>; backward(dout: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor2D };
}

export const ACTIVATION_RULES: Record<Activation, ActivationRule> = {
  sigmoid: { forward: (z) => tf.sigmoid(z), backward: (d, _z, y) => sigmoidBackward(d, y), fused: { kernel: 'sigmoid', backward: sigmoidBackward } },
  tanh: { forward: (z) => tf.tanh(z), backward: (d, _z, y) => tanhBackward(d, y) },
  relu: { forward: (z) => tf.relu(z), backward: (d, z) => reluBackward(d, z), fused: { kernel: 'relu', backward: reluBackward } },
  'leaky-relu': { forward: (z) => tf.leakyRelu(z, LEAKY_RELU_SLOPE), backward: (d, z) => leakyReluBackward(d, z, LEAKY_RELU_SLOPE) },
  elu: { forward: (z) => tf.elu(z), backward: (d, _z, y) => eluBackward(d, y) },
};

export function activate(name: Activation, x: tf.Tensor): tf.Tensor {
  return ACTIVATION_RULES[name].forward(x);
}
