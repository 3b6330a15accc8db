/**
 * S9's machinery: the regime rules on hand-made loss curves, the update ratio on hand-computed
 * norms, the claims on made-up summaries, and the rate units on real MNIST (shared initial
 * weights and batches, divergence recorded, no tensor leaks).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { resolveMnistDir } from '../src/data/mnist.js';
import { mnistFrom } from '../src/exec/runner.js';
import { trainRate, updateRatios, EXPLODE_LOSS } from '../experiments/sanity-checks/rates.js';
import { classify, sanityChecks, summarizeRate, type RateSeries, type SanityChecksConfig } from '../experiments/sanity-checks/study.js';
import { runInTest } from './helpers/context.js';

const series = (loss: number[], o: Partial<RateSeries> = {}): RateSeries => ({ lr: 0.01, initialLoss: 2, loss, ratio: [[1e-3]], ratioIterations: [0], diverged: null, ...o });

describe('regime rules', () => {
  it('call a diverged run or one whose loss rose above 1.25 L0 too high', () => {
    expect(classify(series([1.9, 5], { diverged: { iteration: 1, loss: null } }), 1).regime).toBe('too high');
    // 2.6 > 1.25 * 2 = 2.5, even though it ends low.
    expect(classify(series([2.6, 0.5, 0.4]), 2).regime).toBe('too high');
    expect(classify(series([2.49, 0.5, 0.4]), 2).regime).toBe('good');
  });

  it('call a run good when its final loss (mean of the tail) is at most half of L0, else too low', () => {
    expect(classify(series([1.9, 1.2, 0.8]), 2)).toMatchObject({ regime: 'good', finalLoss: 1 });
    const low = classify(series([1.9, 1.2, 0.82]), 2);
    expect(low.regime).toBe('too low');
    expect(low.finalLoss).toBeCloseTo(1.01, 12);
  });

  it('takes the median update ratio over layers and recorded iterations, ignoring nulls', () => {
    const s = summarizeRate(series([1, 1], { ratio: [[1, 2, null as unknown as number], [3, 4, 5]] }), 1);
    expect(s.medianRatio).toBe(3);
    expect(s.medianRatioPerLayer).toEqual([1.5, 4]);
  });
});

describe('update ratio', () => {
  it('is lr ||dW|| / ||W|| per weight matrix (hand-computed norms)', () => {
    const w = [tf.tensor2d([[3], [4]]), tf.tensor2d([[1, 0], [0, 0]])];
    const g = [tf.tensor2d([[0.6], [0.8]]), tf.tensor1d([9]), tf.tensor2d([[0, 2], [0, 0]]), tf.tensor1d([9, 9])];
    const r = updateRatios(w, g, 0.1);
    expect(r[0]).toBeCloseTo(0.1 / 5, 7);
    expect(r[1]).toBeCloseTo(0.2, 7);
    tf.dispose([...w, ...g]);
  });
});

describe('claims', () => {
  const config = sanityChecks.profiles.quick;
  const rate = (lr: number, regime: 'too low' | 'good' | 'too high', medianRatio: number, finalLoss = regime === 'good' ? 0.5 : 2) => ({ lr, regime, why: '', finalLoss, maxLoss: 2, divergedAt: null, medianRatio, medianRatioPerLayer: [] });
  const run = (rates: ReturnType<typeof rate>[], initial = [2.3026, 2.31, 2.4]) => ({
    series: { initialLoss: initial.map((loss, i) => ({ lambda: [0, 0.01, 0.1][i]!, loss, penalty: 0 })), tinySet: { loss: [], accuracy: [], fittedAt: 9 }, rates: [] },
    summary: { initialLoss: {}, tinySet: { fittedAt: 9, finalLoss: 0.009, finalAccuracy: 1, iterations: 10 }, startLoss: 2.3, rates },
  });
  const verdicts = (r: ReturnType<typeof run>) => Object.fromEntries(sanityChecks.claims(r, config).map((c) => [c.id, c.verdict === 'holds']));

  it('hold for the notes\' picture', () => {
    const r = run([rate(1e-4, 'too low', 1e-5), rate(1e-2, 'good', 1e-3), rate(1e-1, 'good', 9e-3), rate(1, 'too high', 0.1)]);
    expect(verdicts(r)).toEqual({ 'initial-loss-ln10': true, 'initial-loss-rises': true, 'tiny-set-fitted': true, 'regimes-in-order': true, 'update-ratio-band': true });
  });

  it('fail when the regimes are out of order or one is missing, or a ratio is on the wrong side', () => {
    expect(verdicts(run([rate(1e-4, 'good', 1e-3), rate(1e-2, 'too low', 1e-5), rate(1, 'too high', 0.1)]))['regimes-in-order']).toBe(false);
    expect(verdicts(run([rate(1e-4, 'too low', 1e-5), rate(1, 'too high', 0.1)]))['regimes-in-order']).toBe(false);
    expect(verdicts(run([rate(1e-4, 'too low', 2e-4), rate(1e-2, 'good', 1e-3), rate(1, 'too high', 0.1)]))['update-ratio-band']).toBe(false);
    expect(verdicts(run([rate(1e-4, 'too low', 1e-5), rate(1e-2, 'good', 2e-2), rate(1, 'too high', 0.1)]))['update-ratio-band']).toBe(false);
    expect(verdicts(run([rate(1e-4, 'too low', 1e-5), rate(1e-2, 'good', 1e-3), rate(1, 'too high', 5e-3)]))['update-ratio-band']).toBe(false);
  });

  it('judge the band on the best rate: a slower rate the loss rule calls good may sit below it (the notes: "might be too low")', () => {
    const r = run([rate(1e-4, 'too low', 3e-6), rate(1e-3, 'good', 4.6e-5, 0.73), rate(1e-1, 'good', 3.3e-3, 0.03), rate(1, 'too high', 3e-2)]);
    expect(verdicts(r)['update-ratio-band']).toBe(true);
    const c = sanityChecks.claims(r, config).find((x) => x.id === 'update-ratio-band')!;
    expect(c.numbers.bestRate).toBe('lr=0.1');
  });

  it('fail when the initial loss is off ln 10 or does not rise', () => {
    const ok = [rate(1e-4, 'too low', 1e-5), rate(1e-2, 'good', 1e-3), rate(1, 'too high', 0.1)];
    expect(verdicts(run(ok, [2.32, 2.4, 2.5]))['initial-loss-ln10']).toBe(false);
    expect(verdicts(run(ok, [2.3026, 2.4, 2.4]))['initial-loss-rises']).toBe(false);
  });
});

describe('rate units on real MNIST', () => {
  const mnist = () => mnistFrom(resolveMnistDir());
  const config: SanityChecksConfig = { ...sanityChecks.profiles.quick, rates: { ...sanityChecks.profiles.quick.rates, trainSize: 1000, iterations: 6, ratioEvery: 2, tail: 2 } };
  const ctx = { seed: 0, mnist, cached: <T>(_k: string, make: () => T) => make() };

  it('share initial weights and batches, record the ratio every k-th iteration, stop at divergence, and free their tensors', () => {
    mnist();
    const before = tf.memory().numTensors;
    const low = trainRate(config, 1e-6, ctx);
    const mid = trainRate(config, 1e-2, ctx);
    const huge = trainRate(config, 1e4, ctx);
    expect(tf.memory().numTensors).toBe(before);
    expect(mid.initialLoss).toBe(low.initialLoss);
    expect(huge.initialLoss).toBe(low.initialLoss);
    expect(low.loss).toHaveLength(6);
    expect(low.ratioIterations).toEqual([0, 2, 4]);
    expect(low.ratio).toHaveLength(5);
    // Iteration 0 sees the same weights and batch at every rate: the ratio scales with lr.
    expect(mid.ratio[0]![0]! / low.ratio[0]![0]!).toBeCloseTo(1e4, 3);
    expect(huge.diverged).not.toBeNull();
    expect(huge.loss.length).toBeLessThan(6);
    expect(huge.diverged!.loss === null || huge.diverged!.loss > EXPLODE_LOSS).toBe(true);
    expect(trainRate(config, 1e-2, ctx).loss).toEqual(mid.loss);
  });

  it('run as units in the study with the same numbers', async () => {
    const small: SanityChecksConfig = { ...config, initialLoss: { ...config.initialLoss, images: 300 }, tinySet: { ...config.tinySet, budget: 3 }, rates: { ...config.rates, lrs: [1e-6, 1e-2] } };
    const r = await runInTest(sanityChecks, small, mnist);
    expect(r.series.rates.map((x) => x.loss)).toEqual([trainRate(small, 1e-6, ctx).loss, trainRate(small, 1e-2, ctx).loss]);
    expect(r.series.tinySet.loss).toHaveLength(3);
    expect(sanityChecks.claims(r, small).map((c) => c.id)).toEqual(['initial-loss-ln10', 'initial-loss-rises', 'tiny-set-fitted', 'regimes-in-order', 'update-ratio-band']);
  });
});
