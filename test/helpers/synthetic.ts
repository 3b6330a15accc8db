/** Test data in MNIST's shape that a small net can learn in a few epochs. */
import type { MnistSplit } from '../../src/data/mnist.js';
import { Rng } from '../../src/rng.js';

/** A learnable synthetic task in MNIST's shape: the class is where the brightest of 10 blocks is. */
export function syntheticSplit(n: number, seed: number): MnistSplit {
  const rng = new Rng(seed, 'synthetic');
  const images = new Float32Array(n * 784);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const label = rng.int(10);
    labels[i] = label;
    for (let p = 0; p < 784; p++) images[i * 784 + p] = rng.uniform() * 0.3 + (Math.floor(p / 78.4) === label ? 0.6 : 0);
  }
  return { images, labels, count: n };
}
