import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { curvesOf } from './helpers/curves.js';
import { EXPLODE_ABOVE, initMnist, summarizeLoss, type InitMnistConfig, type RowSummary } from '../experiments/init-mnist/study.js';
import { IMAGE_SIZE, type Mnist, type MnistSplit } from '../src/data/mnist.js';
import { Rng } from '../src/rng.js';
import { testContext } from './helpers/context.js';

const config: InitMnistConfig = { ...initMnist.profiles.lecture, tail: 3, learnedBelow: 0.5 };

function row(over: Partial<RowSummary>): RowSummary {
  return {
    initialLoss: 2.3,
    finalLoss: 2.3,
    tailMin: 2.29,
    tailMax: 2.31,
    maxLoss: 2.35,
    explodedAt: null,
    divergedAt: null,
    firstMean50Below1: null,
    testAccuracy: 0.1,
    ...over,
  };
}

function claimsOf(summary: Record<string, RowSummary>): Record<string, boolean> {
  const run = { series: { loss: curvesOf(summary), divergedAt: {}, initialLoss: {}, ln10: Math.log(10) }, summary };
  return Object.fromEntries(initMnist.claims(run, config).map((c) => [c.id, c.verdict === 'holds']));
}

describe('S4 loss summary', () => {
  it('finds the final mean, the tail extremes, the explosion and the first 50-mean below 1', () => {
    const curve = [...Array(60).fill(0.9), 0.5, 0.4, 0.3];
    const s = summarizeLoss(curve, 3);
    expect(s.finalLoss).toBeCloseTo(0.4, 12);
    expect(s.tailMin).toBe(0.3);
    expect(s.tailMax).toBe(0.5);
    expect(s.maxLoss).toBe(0.9);
    expect(s.explodedAt).toBeNull();
    expect(s.firstMean50Below1).toBe(49);
  });

  it('marks the first iteration above 10 ln 10 or missing (diverged)', () => {
    expect(summarizeLoss([2.3, EXPLODE_ABOVE + 1, 5], 2).explodedAt).toBe(1);
    const diverged = summarizeLoss([2.3, 3, null, null], 2);
    expect(diverged.explodedAt).toBe(2);
    expect(diverged.finalLoss).toBeNull();
    expect(diverged.maxLoss).toBe(3);
  });
});

describe('S4 claims', () => {
  const lectureLike = {
    'std=0.01': row({ tailMin: 2.29, finalLoss: 2.30 }),
    xavier: row({ finalLoss: 0.28 }),
    he: row({ finalLoss: 0.2 }),
    'std=1': row({ explodedAt: 0, divergedAt: 3, finalLoss: null }),
  };

  it('hold on a run that ends like the lecture (2.30 / 0.28 / 0.20) with std=1 blowing up', () => {
    expect(claimsOf(lectureLike)).toEqual({ 'std001-no-learning': true, 'he-below-xavier': true, 'he-xavier-learn': true, 'std1-explodes': true });
  });

  it('fail where the run does not match', () => {
    expect(
      claimsOf({
        'std=0.01': row({ tailMin: 2.1 }),
        xavier: row({ finalLoss: 0.2 }),
        he: row({ finalLoss: 0.6 }),
        'std=1': row({ explodedAt: null }),
      }),
    ).toEqual({ 'std001-no-learning': false, 'he-below-xavier': false, 'he-xavier-learn': false, 'std1-explodes': false });
    // A diverged He has no final loss: neither comparison can hold (the loss comparison cannot decide).
    const c = claimsOf({ ...lectureLike, he: row({ finalLoss: null, divergedAt: 5 }) });
    expect(c['he-below-xavier']).toBe(false);
    expect(c['he-xavier-learn']).toBe(false);
  });
});

/** Random images with labels: enough for the loop to run, not to learn. */
function fakeSplit(count: number, rng: Rng): MnistSplit {
  const images = new Float32Array(count * IMAGE_SIZE);
  for (let i = 0; i < images.length; i++) images[i] = rng.uniform();
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) labels[i] = rng.int(10);
  return { images, labels, count };
}

describe('S4 run (synthetic data, a few iterations)', () => {
  it('trains four rows on the same batches, records std=1 without stopping the others, leaks no tensors', async () => {
    const rng = new Rng(3, 'fake-mnist');
    const mnist: Mnist = { train: fakeSplit(400, rng), test: fakeSplit(100, rng), dir: 'synthetic' };
    const small: InitMnistConfig = { ...initMnist.profiles.quick, trainSize: 400, iterations: 8, tail: 4, probeSize: 50 };
    const { ctx } = testContext({ study: initMnist, config: small, mnist: () => mnist });
    const before = tf.memory().numTensors;
    const run = await initMnist.run(small, ctx);
    expect(tf.memory().numTensors).toBe(before);
    const loss = run.series.loss;
    expect(Object.keys(loss)).toEqual(['std=0.01', 'xavier', 'he', 'std=1']);
    for (const name of ['std=0.01', 'xavier', 'he']) {
      expect(loss[name]).toHaveLength(8);
      expect(loss[name]!.every((x) => x !== null && Number.isFinite(x))).toBe(true);
    }
    const s = run.summary;
    // Random pixels in [0, 1] through std=1 weights give logits in the tens of thousands.
    expect(s['std=1']!.initialLoss).toBeGreaterThan(EXPLODE_ABOVE);
    expect(s['std=1']!.explodedAt).toBe(0);
    expect(s['std=0.01']!.initialLoss).toBeCloseTo(Math.log(10), 2);
    const claims = initMnist.claims(run, small);
    expect(claims.find((c) => c.id === 'std1-explodes')!.verdict === 'holds').toBe(true);
    // Same seed, same numbers.
    const again = await initMnist.run(small, ctx);
    expect(again.series.loss).toEqual(run.series.loss);
  });
});
