/**
 * The hand-written backward pass (Mlp.gradients, src/nn/layers.ts) against the gradient tape
 * (gradientsTape in src/nn/reference.ts, tf.variableGrads): bit for bit, not "close". Two copies of each network
 * start from the same weights, see the same real MNIST batches and draw the same dropout
 * masks; one trains on the new core, the other on the tape. Every loss of every step, every
 * gradient of the first 5 steps, and every parameter (and BN's running statistics) every 10
 * steps must have identical float32 bits.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultMnistDir, loadMnist } from '../src/data/mnist.js';
import type { Activation } from '../src/nn/activation.js';
import { Mlp, type MlpSpec } from '../src/nn/mlp.js';
import { gradientsTape } from '../src/nn/reference.js';
import { OPTIMIZER_NAMES, makeOptimizer, type OptimizerName } from '../src/optim/optimizers.js';
import { Rng } from '../src/rng.js';
import { disposeBatch, sampleBatch } from '../src/train/batches.js';

const STEPS = 200;
const BATCH = 16;
const train = loadMnist(defaultMnistDir(), { trainLimit: 500, withTest: false }).train;

const LR: Record<OptimizerName, number> = { sgd: 0.1, momentum: 0.05, nesterov: 0.05, adagrad: 0.05, rmsprop: 0.005, adam: 0.005 };

/** Every parameter and running statistic of a net, as raw float32 bits. */
function state(net: Mlp): Uint32Array[] {
  return [...net.params(), ...net.bn.flatMap((l) => [l.runningMean, l.runningVar])].map(rawBits);
}

function rawBits(t: tf.Tensor): Uint32Array {
  return new Uint32Array(Float32Array.from(t.dataSync()).buffer);
}

function firstDifference(a: Uint32Array[], b: Uint32Array[]): string | null {
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < a[i]!.length; j++) if (a[i]![j] !== b[i]![j]) return `tensor ${i}, element ${j}`;
  }
  return null;
}

const bits = (x: number) => new Uint32Array(Float32Array.of(x).buffer)[0]!;

interface Variant {
  name: string;
  spec: Partial<MlpSpec>;
  optimizers: readonly OptimizerName[];
  /** Give the first layer x^T ready-made, as the training loop does. */
  withXT?: boolean;
}

const VARIANTS: Variant[] = [
  { name: 'plain', spec: {}, optimizers: OPTIMIZER_NAMES, withXT: true },
  { name: 'batch norm', spec: { batchNorm: true }, optimizers: OPTIMIZER_NAMES, withXT: true },
  { name: 'dropout 0.2', spec: { dropout: 0.2 }, optimizers: OPTIMIZER_NAMES, withXT: true },
  { name: 'weight decay 0.01', spec: { weightDecay: 0.01 }, optimizers: OPTIMIZER_NAMES, withXT: true },
  { name: 'BN + dropout + decay, no x^T', spec: { batchNorm: true, dropout: 0.1, weightDecay: 0.001 }, optimizers: ['sgd', 'adam'], withXT: false },
];

function compare(activation: Activation, v: Variant, optimizer: OptimizerName): void {
  const spec: MlpSpec = { sizes: [784, 16, 12, 10], activation, init: activation === 'sigmoid' || activation === 'tanh' ? 'xavier' : 'he', ...v.spec };
  const seed = 7;
  const ours = new Mlp(spec, Rng.stream(seed, 'init'));
  const tape = new Mlp(spec, Rng.stream(seed, 'init'));
  const optOurs = makeOptimizer(optimizer, LR[optimizer]);
  const optTape = makeOptimizer(optimizer, LR[optimizer]);
  const rng = new Rng(seed, 'batches');
  const where = `${activation}, ${v.name}, ${optimizer}`;
  try {
    expect(firstDifference(state(ours), state(tape))).toBeNull();
    for (let step = 0; step < STEPS; step++) {
      const b = sampleBatch(train, BATCH, rng);
      const xT = v.withXT ? b.xT : undefined;
      const a = ours.gradients(b.x, b.y, xT);
      const r = gradientsTape(tape, b.x, b.y, xT);
      disposeBatch(b);
      if (bits(a.loss) !== bits(r.loss)) throw new Error(`${where}: step ${step}: loss ${a.loss} (ours) vs ${r.loss} (tape)`);
      if (step < 5) {
        const gd = firstDifference(a.grads.map(rawBits), r.grads.map(rawBits));
        if (gd) throw new Error(`${where}: step ${step}: gradient differs at ${gd}`);
      }
      optOurs.update(ours.params(), a.grads);
      optTape.update(tape.params(), r.grads);
      tf.dispose([...a.grads, ...r.grads]);
      if (step % 10 === 9) {
        const d = firstDifference(state(ours), state(tape));
        if (d) throw new Error(`${where}: step ${step}: weights differ at ${d}`);
      }
    }
  } finally {
    ours.dispose();
    tape.dispose();
    optOurs.dispose();
    optTape.dispose();
  }
}

describe('hand-written backward pass vs the gradient tape: bit-identical over 200 steps', () => {
  // The tests are synchronous; give the event loop a turn between them so vitest's worker can
  // answer its parent (otherwise a long file trips its RPC timeout).
  afterEach(() => new Promise<void>((resolve) => setImmediate(resolve)));

  for (const activation of ['relu', 'sigmoid', 'tanh'] as const) {
    for (const v of VARIANTS) {
      for (const o of v.optimizers) it(`${activation}, ${v.name}, ${o}`, () => compare(activation, v, o));
    }
  }
  // Leaky ReLU and ELU: every variant; two update rules suffice (the activation's backward
  // does not depend on the rule, and the six rules are checked above).
  for (const activation of ['leaky-relu', 'elu'] as const) {
    for (const v of VARIANTS) {
      for (const o of ['sgd', 'adam'] as const) it(`${activation}, ${v.name}, ${o}`, () => compare(activation, v, o));
    }
  }

  it('really trains: the loss of the plain ReLU net falls (so the comparison is not between two frozen nets)', () => {
    const net = new Mlp({ sizes: [784, 16, 12, 10], activation: 'relu', init: 'he' }, Rng.stream(7, 'init'));
    const opt = makeOptimizer('sgd', 0.1);
    const rng = new Rng(7, 'batches');
    const losses: number[] = [];
    for (let step = 0; step < STEPS; step++) {
      const b = sampleBatch(train, BATCH, rng);
      const { loss, grads } = net.gradients(b.x, b.y, b.xT);
      disposeBatch(b);
      opt.update(net.params(), grads);
      tf.dispose(grads);
      losses.push(loss);
    }
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean(losses.slice(-20))).toBeLessThan(0.6 * mean(losses.slice(0, 20)));
    net.dispose();
    opt.dispose();
  });

  it('uses no gradient tape: no tf.variableGrads/grad on the training path', () => {
    const net = new Mlp({ sizes: [784, 8, 10], activation: 'relu', init: 'he', batchNorm: true, dropout: 0.1, weightDecay: 0.01 }, Rng.stream(1, 'init'));
    const b = sampleBatch(train, 4, new Rng(1, 'b'));
    const engine = tf.engine() as unknown as { startTape?: () => void };
    const original = engine.startTape;
    let tapes = 0;
    engine.startTape = function (this: unknown) {
      tapes++;
      return original!.call(this);
    };
    try {
      tf.dispose(net.gradients(b.x, b.y, b.xT).grads);
      expect(tapes).toBe(0);
      tf.dispose(gradientsTape(net, b.x, b.y, b.xT).grads);
      expect(tapes).toBe(1);
    } finally {
      engine.startTape = original;
      disposeBatch(b);
      net.dispose();
    }
  });
});
