/**
 * 100 training steps of a small batch-norm + dropout net on real MNIST, on the tensorflow
 * backend, and a hash of every final weight's bits. Imported by test/backward-tensorflow.test.ts,
 * and run as a script (a separate process) to compare across processes and thread counts.
 */
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../src/backend.js';
import { defaultMnistDir, loadMnist } from '../../src/data/mnist.js';
import { Mlp } from '../../src/nn/mlp.js';
import { makeOptimizer } from '../../src/optim/optimizers.js';
import { Rng } from '../../src/rng.js';
import { disposeBatch, sampleBatch } from '../../src/train/batches.js';

/** Trains on the active backend and returns the hash of the losses' and final weights' bits. */
export function trainAndHash(): string {
  const train = loadMnist(defaultMnistDir(), { trainLimit: 1000, withTest: false }).train;
  const net = new Mlp({ sizes: [784, 100, 100, 10], activation: 'relu', init: 'he', batchNorm: true, dropout: 0.1, weightDecay: 0.001 }, Rng.stream(11, 'init'));
  const opt = makeOptimizer('adam', 0.001);
  const rng = new Rng(11, 'batches');
  const hash = createHash('sha256');
  for (let step = 0; step < 100; step++) {
    const b = sampleBatch(train, 64, rng);
    const { loss, grads } = net.gradients(b.x, b.y, b.xT);
    disposeBatch(b);
    opt.update(net.params(), grads);
    tf.dispose(grads);
    hash.update(Float32Array.of(loss));
  }
  for (const p of net.params()) hash.update(Float32Array.from(p.dataSync()));
  net.dispose();
  opt.dispose();
  return hash.digest('hex');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await selectBackend('tensorflow');
  process.stdout.write(`${trainAndHash()}\n`);
}
