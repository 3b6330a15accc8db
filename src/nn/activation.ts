import * as tf from '@tensorflow/tfjs';

export const ACTIVATIONS = ['sigmoid', 'tanh', 'relu', 'leaky-relu', 'elu'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/** How figures and claims name them. */
export const ACTIVATION_LABEL: Record<Activation, string> = { sigmoid: 'sigmoid', tanh: 'tanh', relu: 'ReLU', 'leaky-relu': 'Leaky ReLU', elu: 'ELU' };

/** Leaky ReLU's slope for negative input: max(x, 0.01 x), the lecture's. */
export const LEAKY_RELU_SLOPE = 0.01;
/** ELU's alpha: x for x > 0, alpha (exp(x) - 1) below (tfjs's elu has alpha 1, the lecture's). */
export const ELU_ALPHA = 1;

export function activate(name: Activation, x: tf.Tensor): tf.Tensor {
  switch (name) {
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'tanh':
      return tf.tanh(x);
    case 'relu':
      return tf.relu(x);
    case 'leaky-relu':
      return tf.leakyRelu(x, LEAKY_RELU_SLOPE);
    case 'elu':
      return tf.elu(x);
  }
}
