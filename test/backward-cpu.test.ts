/**
 * The hand-written backward pass against the tape on tfjs's pure-JS cpu backend (the other
 * backend that runs here; test/backward.test.ts covers wasm in full): bit-identical losses
 * and weights over 200 steps with batch norm, dropout and weight decay, for each activation.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultMnistDir, loadMnist } from '../src/data/mnist.js';
import { Mlp } from '../src/nn/mlp.js';
import { gradientsTape } from '../src/nn/reference.js';
import { makeOptimizer } from '../src/optim/optimizers.js';
import { Rng } from '../src/rng.js';
import { disposeBatch, sampleBatch } from '../src/train/batches.js';

const train = loadMnist(defaultMnistDir(), { trainLimit: 500, withTest: false }).train;
const rawBits = (t: tf.Tensor) => Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer));

describe('hand-written backward pass vs the tape on the cpu backend', () => {
  let previous = '';
  beforeAll(async () => {
    previous = tf.getBackend();
    await tf.setBackend('cpu');
  });
  afterAll(async () => {
    await tf.setBackend(previous);
  });

  for (const activation of ['relu', 'sigmoid', 'tanh', 'leaky-relu', 'elu'] as const) {
    it(`${activation}, BN + dropout + decay, adam: same bits for 200 steps`, () => {
      expect(tf.getBackend()).toBe('cpu');
      const spec = { sizes: [784, 16, 12, 10], activation, init: 'he' as const, batchNorm: true, dropout: 0.1, weightDecay: 0.01 };
      const ours = new Mlp(spec, Rng.stream(3, 'init'));
      const tape = new Mlp(spec, Rng.stream(3, 'init'));
      const oo = makeOptimizer('adam', 0.005);
      const ot = makeOptimizer('adam', 0.005);
      const rng = new Rng(3, 'batches');
      for (let step = 0; step < 200; step++) {
        const b = sampleBatch(train, 16, rng);
        const a = ours.gradients(b.x, b.y, b.xT);
        const r = gradientsTape(tape, b.x, b.y, b.xT);
        disposeBatch(b);
        expect(Math.fround(a.loss)).toBe(Math.fround(r.loss));
        oo.update(ours.params(), a.grads);
        ot.update(tape.params(), r.grads);
        tf.dispose([...a.grads, ...r.grads]);
      }
      ours.params().forEach((p, i) => expect(rawBits(p)).toEqual(rawBits(tape.params()[i]!)));
      ours.bn.forEach((l, i) => expect(rawBits(l.runningVar)).toEqual(rawBits(tape.bn[i]!.runningVar)));
      ours.dispose();
      tape.dispose();
      oo.dispose();
      ot.dispose();
    });
  }
});
