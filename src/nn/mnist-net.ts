/**
 * The lecture's MNIST network, as every MNIST study builds it: 784 pixel inputs, the study's
 * hidden widths, 10 classes; and the clean-up of a set of trained networks.
 */
import { IMAGE_SIZE, NUM_CLASSES } from '../data/mnist.js';
import type { Optimizer } from '../optim/optimizers.js';
import type { Rng } from '../rng.js';
import { Mlp, type MlpSpec } from './mlp.js';

/** `layers` hidden layers of `width` units: hiddenOf(4) is the 5-layer net's, hiddenOf(6) the 7-layer net's. */
export const hiddenOf = (layers: number, width = 100): number[] => Array.from({ length: layers }, () => width);

export function mnistNet(hidden: readonly number[], spec: Omit<MlpSpec, 'sizes'>, initRng: Rng): Mlp {
  return new Mlp({ sizes: [IMAGE_SIZE, ...hidden, NUM_CLASSES], ...spec }, initRng);
}

/** Frees every network's weights and every optimizer's state. */
export function disposeTrainees(trainees: readonly { net: Mlp; optimizer: Optimizer }[]): void {
  for (const t of trainees) {
    t.net.dispose();
    t.optimizer.dispose();
  }
}
