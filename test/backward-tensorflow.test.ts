/**
 * The hand-written backward pass against the tape on the tensorflow backend (tfjs-node), as
 * test/backward.test.ts does on wasm: both run the kernels src/nn/kernels.ts picks for this
 * backend (transposed products as flags, TensorFlow's ReluGrad and LogSoftmax), and every loss
 * and every weight must have the same float32 bits over 200 steps. Then determinism on this
 * backend: the same seed gives the same bits in another process, with 1 or 2 intra-op threads.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defaultMnistDir, loadMnist } from '../src/data/mnist.js';
import type { Activation } from '../src/nn/activation.js';
import { Mlp, type MlpSpec } from '../src/nn/mlp.js';
import { gradientsTape } from '../src/nn/reference.js';
import { makeOptimizer, type OptimizerName } from '../src/optim/optimizers.js';
import { Rng } from '../src/rng.js';
import { disposeBatch, sampleBatch } from '../src/train/batches.js';
import { announce, nativeUnavailable } from './helpers/native.js';
import { trainAndHash } from './helpers/native-train.js';

const why = await nativeUnavailable();
const RUN = announce('backward-tensorflow.test.ts', why);

const train = loadMnist(defaultMnistDir(), { trainLimit: 500, withTest: false }).train;
const rawBits = (t: tf.Tensor) => new Uint32Array(Float32Array.from(t.dataSync()).buffer);
const bits = (x: number) => new Uint32Array(Float32Array.of(x).buffer)[0]!;

function firstDifference(a: tf.Tensor[], b: tf.Tensor[]): string | null {
  for (let i = 0; i < a.length; i++) {
    const x = rawBits(a[i]!);
    const y = rawBits(b[i]!);
    for (let j = 0; j < x.length; j++) if (x[j] !== y[j]) return `tensor ${i}, element ${j}`;
  }
  return null;
}

function compare(activation: Activation, extra: Partial<MlpSpec>, optimizer: OptimizerName, withXT: boolean): void {
  const spec: MlpSpec = { sizes: [784, 16, 12, 10], activation, init: activation === 'sigmoid' || activation === 'tanh' ? 'xavier' : 'he', ...extra };
  const ours = new Mlp(spec, Rng.stream(7, 'init'));
  const tape = new Mlp(spec, Rng.stream(7, 'init'));
  const oo = makeOptimizer(optimizer, optimizer === 'sgd' ? 0.1 : 0.005);
  const ot = makeOptimizer(optimizer, optimizer === 'sgd' ? 0.1 : 0.005);
  const rng = new Rng(7, 'batches');
  try {
    for (let step = 0; step < 200; step++) {
      const b = sampleBatch(train, 16, rng);
      const xT = withXT ? b.xT : undefined;
      const a = ours.gradients(b.x, b.y, xT);
      const r = gradientsTape(tape, b.x, b.y, xT);
      disposeBatch(b);
      if (bits(a.loss) !== bits(r.loss)) throw new Error(`step ${step}: loss ${a.loss} (ours) vs ${r.loss} (tape)`);
      if (step < 5) {
        const d = firstDifference(a.grads, r.grads);
        if (d) throw new Error(`step ${step}: gradient differs at ${d}`);
      }
      oo.update(ours.params(), a.grads);
      ot.update(tape.params(), r.grads);
      tf.dispose([...a.grads, ...r.grads]);
    }
    const state = (n: Mlp) => [...n.params(), ...n.bn.flatMap((l) => [l.runningMean, l.runningVar])];
    expect(firstDifference(state(ours), state(tape))).toBeNull();
  } finally {
    ours.dispose();
    tape.dispose();
    oo.dispose();
    ot.dispose();
  }
}

describe.runIf(RUN)('on the tensorflow backend', () => {
  let previous = '';
  beforeAll(async () => {
    if (why !== null) throw new Error(`CI is set but the tensorflow backend does not load (${why}): npm run native (.ci/run does this)`);
    previous = tf.getBackend();
    expect(await tf.setBackend('tensorflow')).toBe(true);
  });
  afterAll(async () => {
    if (previous) await tf.setBackend(previous);
  });
  afterEach(() => new Promise<void>((resolve) => setImmediate(resolve)));

  describe('hand-written backward pass vs the tape: the same bits for 200 steps', () => {
    const variants: [string, Partial<MlpSpec>, boolean][] = [
      ['plain', {}, true],
      ['batch norm', { batchNorm: true }, true],
      ['dropout 0.2 + decay 0.01', { dropout: 0.2, weightDecay: 0.01 }, true],
      ['BN + dropout + decay, no x^T', { batchNorm: true, dropout: 0.1, weightDecay: 0.001 }, false],
    ];
    // Every variant with ReLU (the kernels that differ from wasm's are its gradient, the
    // transposed products and log-softmax); the other activations in the plain and the full net.
    variants.forEach(([name, extra, withXT], i) => {
      const o = i % 2 ? 'adam' : 'sgd';
      it(`relu, ${name}, ${o}`, () => compare('relu', extra, o, withXT));
    });
    for (const activation of ['sigmoid', 'tanh', 'leaky-relu', 'elu'] as const) {
      if (activation === 'sigmoid' || activation === 'tanh') it(`${activation}, plain, sgd`, () => compare(activation, {}, 'sgd', true));
      it(`${activation}, BN + dropout + decay, adam`, () => compare(activation, variants[3]![1], 'adam', false));
    }
  });

  it('same seed, same bits: in this process, in two others, with 1 and 2 intra-op threads', async () => {
    const here = trainAndHash();
    const script = join(import.meta.dirname, 'helpers', 'native-train.ts');
    const tsx = join(import.meta.dirname, '..', 'node_modules', '.bin', 'tsx');
    const other = (threads: string) =>
      new Promise<string>((resolve, reject) =>
        execFile(tsx, [script], { env: { ...process.env, TF_NUM_INTRAOP_THREADS: threads } }, (err, stdout, stderr) =>
          err ? reject(new Error(`${err.message}: ${stderr}`)) : resolve(stdout.trim().split('\n').pop()!),
        ),
      );
    const [one, two] = [await other('1'), await other('2')];
    expect(one).toBe(here);
    expect(two).toBe(here);
  });
});
