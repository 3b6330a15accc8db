/**
 * S13's probes at initialization (per-layer gradient norm, mean activation, one-sign share)
 * against values worked out by hand on tiny nets, its claims on made-up summaries, and a short
 * real run (tensors freed, every number present).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { curvesOf } from './helpers/curves.js';
import { activationFunctions, type ActivationFunctionsConfig, type ActivationRow, type ActivationFunctionsSummary } from '../experiments/activation-functions/study.js';
import { layerGradientNorms, meanActivations, oneSignShares } from '../experiments/activation-functions/probe.js';
import { defaultMnistDir, loadMnist, type Mnist } from '../src/data/mnist.js';
import type { Activation } from '../src/nn/activation.js';
import { Mlp } from '../src/nn/mlp.js';
import { gradientsTape } from '../src/nn/reference.js';
import { Rng } from '../src/rng.js';
import { disposeBatch, toBatch, type Batch } from '../src/train/batches.js';
import { testContext } from './helpers/context.js';

/** A net with the given weights (biases 0). */
function netWith(activation: Activation, weights: number[][][]): Mlp {
  const sizes = [weights[0]!.length, ...weights.map((w) => w[0]!.length)];
  const net = new Mlp({ sizes, activation, init: 'xavier' }, new Rng(1));
  weights.forEach((w, l) => net.weights[l]!.assign(tf.tensor2d(w)));
  return net;
}

function batchOf(x: number[][], labels: number[], classes: number): Batch {
  const y = labels.map((c) => Array.from({ length: classes }, (_, k) => (k === c ? 1 : 0)));
  return { x: tf.tensor2d(x), y: tf.tensor2d(y), labels: Uint8Array.from(labels) };
}

describe('S13 probes at initialization', () => {
  it('one-sign share: all-positive inputs give one sign per neuron, inputs of both signs do not (worked by hand)', () => {
    // x = [1, 0]; layer 1: z = x W1 = [1, -1]. Layer 1's input (pixels) is >= 0: each neuron's
    // column is [dz_j, 0], one sign. tanh: h = [0.76, -0.76], both signs: the output layer's
    // columns are h * dz_j, two signs each. sigmoid: h = [0.73, 0.27] > 0: one sign each.
    const w = [
      [
        [1, -1],
        [0.5, 0.5],
      ],
      [
        [1, -2],
        [0.3, 0.4],
      ],
    ];
    const example = batchOf([[1, 0]], [0], 2);
    const tanh = netWith('tanh', w);
    const sigmoid = netWith('sigmoid', w);
    expect(oneSignShares(tanh, example)).toEqual([
      { share: 1, zeroNeurons: 0 },
      { share: 0, zeroNeurons: 0 },
    ]);
    expect(oneSignShares(sigmoid, example)).toEqual([
      { share: 1, zeroNeurons: 0 },
      { share: 1, zeroNeurons: 0 },
    ]);
    // ReLU: h = [1, 0]; the second hidden unit is off, so its incoming gradients are all zero
    // (left out of the share); the output layer's columns are [dz_j, 0]: one sign.
    const relu = netWith('relu', w);
    expect(oneSignShares(relu, example)).toEqual([
      { share: 1, zeroNeurons: 1 },
      { share: 1, zeroNeurons: 0 },
    ]);
    expect(() => oneSignShares(relu, batchOf([[1, 0], [0, 1]], [0, 1], 2))).toThrow(/one example/);
    [tanh, sigmoid, relu].forEach((n) => n.dispose());
    disposeBatch(example);
  });

  it('mean activation: zero weights put every sigmoid unit at 0.5 and every tanh unit at 0', () => {
    const zeros = [[[0, 0], [0, 0]], [[0, 0], [0, 0]], [[0, 0], [0, 0]]];
    const x = tf.tensor2d([[0.3, 0.9], [1, 0.2]]);
    const s = netWith('sigmoid', zeros);
    const t = netWith('tanh', zeros);
    expect(meanActivations(s, x)).toEqual([0.5, 0.5]);
    expect(meanActivations(t, x)).toEqual([0, 0]);
    // and a worked value: one tanh layer, z = [0.3*1 + 0.9*0, 1*1 + 0.2*0] for unit 1, 0 for unit 2
    const one = netWith('tanh', [[[1, 0], [0, 0]], [[1, 1], [1, 1]]]);
    expect(meanActivations(one, x)[0]).toBeCloseTo((Math.tanh(0.3) + Math.tanh(1)) / 4, 6);
    [s, t, one].forEach((n) => n.dispose());
    x.dispose();
  });

  it('gradient norms are the Frobenius norms of the tape\'s weight gradients, layer by layer', () => {
    const mnist = loadMnist(defaultMnistDir(), { trainLimit: 64, withTest: false });
    const batch = toBatch(mnist.train);
    const net = new Mlp({ sizes: [784, 20, 20, 10], activation: 'elu', init: 'he' }, new Rng(3, 'init'));
    const norms = layerGradientNorms(net, batch);
    const { grads } = gradientsTape(net, batch.x, batch.y);
    const expected = [0, 2, 4].map((i) => Math.sqrt(Array.from(grads[i]!.dataSync()).reduce((s, v) => s + v * v, 0)));
    norms.forEach((n, l) => expect(n).toBeCloseTo(expected[l]!, 6));
    expect(norms.every((n) => n > 0)).toBe(true);
    tf.dispose(grads);
    net.dispose();
    disposeBatch(batch);
  });
});

function row(over: Partial<ActivationRow>): ActivationRow {
  return {
    init: 'he',
    finalLoss: 0.3,
    testAccuracy: 0.9,
    diverged: false,
    gradNorm: [1, 1, 1, 1, 1],
    firstOverLast: 1,
    maxOverMin: 1,
    meanActivation: [0.3, 0.3, 0.3, 0.3],
    oneSignShare: [1, 1, 1, 1, 1],
    zeroGradientNeurons: [0, 0, 0, 0, 0],
    ...over,
  };
}

const config = activationFunctions.profiles.lecture;

function claimsOf(summary: ActivationFunctionsSummary): Record<string, boolean> {
  const run = { series: { loss: curvesOf(summary), divergedAt: {}, gradNorm: {}, labels: {} }, summary };
  return Object.fromEntries(activationFunctions.claims(run, config).map((c) => [c.id, c.verdict === 'holds']));
}

describe('S13 claims', () => {
  const lectureLike: ActivationFunctionsSummary = {
    sigmoid: row({ init: 'xavier', finalLoss: 1.5, firstOverLast: 0.004, meanActivation: [0.49, 0.5, 0.51, 0.5], oneSignShare: [1, 1, 1, 1, 1] }),
    tanh: row({ init: 'xavier', finalLoss: 0.4, meanActivation: [-0.02, 0.01, 0, 0], oneSignShare: [1, 0, 0, 0.01, 0] }),
    relu: row({ finalLoss: 0.3, maxOverMin: 3 }),
    'leaky-relu': row({ finalLoss: 0.3 }),
    elu: row({ finalLoss: 0.25 }),
  };

  it('hold on a run that behaves as the lecture says', () => {
    expect(claimsOf(lectureLike)).toEqual({
      'sigmoid-highest-loss': true,
      'sigmoid-vanishing-gradient': true,
      'relu-he-gradient-spread': true,
      'sigmoid-mean-half': true,
      'tanh-mean-zero': true,
      'one-sign-share': true,
    });
  });

  it('fail where the numbers say otherwise', () => {
    const c = claimsOf({
      ...lectureLike,
      sigmoid: row({ init: 'xavier', finalLoss: 0.2, firstOverLast: 0.2, meanActivation: [0.5, 0.5, 0.5, 0.65], oneSignShare: [1, 1, 0.99, 1, 1] }),
      tanh: row({ finalLoss: 0.4, meanActivation: [0.15, 0, 0, 0], oneSignShare: [1, 0, 0.1, 0, 0] }),
      relu: row({ maxOverMin: 10 }),
    });
    expect(Object.values(c).every((h) => !h)).toBe(true);
  });

  const verdictsOf = (summary: ActivationFunctionsSummary) =>
    Object.fromEntries(activationFunctions.claims({ series: { loss: curvesOf(summary), divergedAt: {}, gradNorm: {}, labels: {} }, summary }, config).map((c) => [c.id, c]));

  it('"sigmoid ends highest" holds when sigmoid did not learn at all (stuck at ln 10): the claim predicts it', () => {
    expect(verdictsOf({ ...lectureLike, sigmoid: row({ ...lectureLike.sigmoid, finalLoss: 2.3 }) })['sigmoid-highest-loss']!.verdict).toBe('holds');
  });

  it('"sigmoid ends highest" is inconclusive when a net it is compared with did not learn, and fails when one is really higher', () => {
    const stuck = verdictsOf({ ...lectureLike, tanh: row({ ...lectureLike.tanh, finalLoss: 2.29 }) })['sigmoid-highest-loss']!;
    expect(stuck.verdict).toBe('inconclusive');
    expect(stuck.reason).toContain('tanh: final loss 2.290 >= 2.072');
    expect(verdictsOf({ ...lectureLike, elu: row({ ...lectureLike.elu, finalLoss: 1.6 }) })['sigmoid-highest-loss']!.verdict).toBe('FAILS');
  });
});

describe('S13 run (real MNIST, a few iterations)', () => {
  it('probes, trains, records every number, and frees its tensors', async () => {
    const data = loadMnist(defaultMnistDir(), { trainLimit: 300, testLimit: 100 });
    const mnist = (): Mnist => data;
    const small: ActivationFunctionsConfig = { ...config, trainSize: 300, hidden: [16, 16], batchSize: 32, iterations: 6, tail: 3, probeSize: 50 };
    const t = testContext({ study: activationFunctions, config: small, mnist });
    const before = tf.memory().numTensors;
    const run = await activationFunctions.run(small, t.ctx);
    expect(tf.memory().numTensors).toBe(before);
    t.close();
    for (const name of ['sigmoid', 'tanh', 'relu', 'leaky-relu', 'elu']) {
      const r = run.summary[name]!;
      expect(run.series.loss[name]).toHaveLength(6);
      expect(r.gradNorm).toHaveLength(3);
      expect(r.meanActivation).toHaveLength(2);
      expect(r.oneSignShare).toHaveLength(3);
      expect(run.timings![`msPerStep.${name}`]).toBeGreaterThan(0);
    }
    expect(run.series.labels['leaky-relu']).toBe('Leaky ReLU (He)');
    // Same init scheme, same stream: ReLU and Leaky ReLU start from identical weights, so their
    // first-layer gradients at init differ only through the negative side.
    expect(run.summary.relu!.gradNorm[0]).not.toBe(run.summary['leaky-relu']!.gradNorm[0]);
    expect(run.summary.sigmoid!.oneSignShare.slice(1).every((s) => s === 1)).toBe(true);
    const claims = activationFunctions.claims(run, small);
    expect(claims.map((c) => c.id)).toContain('one-sign-share');
    expect(activationFunctions.figures({ study: 'activation-functions', config: small, runs: [{ ...run, seed: 0, durationMs: 1, timings: {} }], seeds: [0], profile: 'quick', environment: { backend: 'wasm' } } as never)).toHaveLength(2);
  });
});
