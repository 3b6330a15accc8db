import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { drawHyperparameters } from '../experiments/hyperparameter-search/study.js';
import {
  bestSoFar,
  distinctLogValues,
  fourDGrid,
  fourDRandom,
  gridTrials,
  randomTrials,
  repetitionSeed,
  samplingScales,
  searchStrategies,
  tpeHyperparameters,
  type SearchStrategiesConfig,
} from '../experiments/search-strategies/study.js';
import type { Mnist } from '../src/data/mnist.js';
import { testContext } from './helpers/context.js';
import { syntheticSplit } from './helpers/synthetic.js';

const lecture = searchStrategies.profiles.lecture;

describe('S11 pieces', () => {
  it('a 4x4 grid: every pair of the cell centres of the log ranges once, in a seeded order', () => {
    const g = gridTrials(lecture, 0);
    expect(g).toHaveLength(16);
    const lrs = [...new Set(g.map((t) => Math.round(Math.log10(t.lr) * 1e6) / 1e6))].sort((a, b) => a - b);
    const decays = [...new Set(g.map((t) => Math.round(Math.log10(t.decay) * 1e6) / 1e6))].sort((a, b) => a - b);
    expect(lrs).toEqual([-5.5, -4.5, -3.5, -2.5]);
    expect(decays).toEqual([-7.5, -6.5, -5.5, -4.5]);
    expect(new Set(g.map((t) => `${t.lr}:${t.decay}`)).size).toBe(16);
    expect(gridTrials(lecture, 0)).toEqual(g);
    expect(gridTrials(lecture, 1)).not.toEqual(g);
  });

  it("random trials are S7's stage-1 draws of the repetition's seed", () => {
    const r = randomTrials(lecture, 3);
    expect(r).toHaveLength(16);
    r.forEach((hp, i) => expect(hp).toEqual(drawHyperparameters(3, 1, i, lecture.lrRange, lecture.decayRange)));
  });

  it('the 4-D grid: 2^4 combinations of the cell centres, widths and batch sizes on log2 scales; random draws inside the box', () => {
    const g = fourDGrid(lecture, 0);
    expect(g).toHaveLength(16);
    expect([...new Set(g.map((t) => t.width))].sort((a, b) => a - b)).toEqual([50, 200]);
    expect([...new Set(g.map((t) => t.batchSize))].sort((a, b) => a - b)).toEqual([32, 128]);
    expect(new Set(g.map((t) => `${t.lr}:${t.decay}:${t.width}:${t.batchSize}`)).size).toBe(16);
    const r = fourDRandom(lecture, 0);
    expect(r).toHaveLength(16);
    for (const t of r) {
      expect(t.width).toBeGreaterThanOrEqual(25);
      expect(t.width).toBeLessThanOrEqual(400);
      expect(t.batchSize).toBeGreaterThanOrEqual(16);
      expect(t.batchSize).toBeLessThanOrEqual(256);
    }
    expect(new Set(r.map((t) => t.width)).size).toBeGreaterThan(8);
    expect(fourDRandom(lecture, 0)).toEqual(r);
  });

  it("TPE's trials: random search's before n0, then the estimator's, a function of the seed and the trials before", () => {
    const before = randomTrials(lecture, 2, 8).map((hp, i) => ({ ...hp, val: i / 10 }));
    expect(tpeHyperparameters(lecture, 2, 3, before.slice(0, 3))).toEqual(randomTrials(lecture, 2, 4)[3]);
    const hp = tpeHyperparameters(lecture, 2, 8, before);
    expect(tpeHyperparameters(lecture, 2, 8, before)).toEqual(hp);
    expect(hp.lr).toBeGreaterThanOrEqual(lecture.lrRange[0]);
    expect(hp.lr).toBeLessThanOrEqual(lecture.lrRange[1]);
    expect(hp.decay).toBeGreaterThanOrEqual(lecture.decayRange[0]);
    expect(hp.decay).toBeLessThanOrEqual(lecture.decayRange[1]);
  });

  it('repetition seeds: seed s covers s*R .. s*R+R-1', () => {
    expect([0, 1, 2, 3, 4].map((r) => repetitionSeed(0, r, 5))).toEqual([0, 1, 2, 3, 4]);
    expect(repetitionSeed(2, 1, 5)).toBe(11);
  });

  it('counts distinct values at 0.01 decade and the best so far', () => {
    expect(distinctLogValues([1e-3, 1.01e-3, 1.1e-3, 1e-2])).toBe(3);
    expect(bestSoFar([null, 0.2, 0.1, 0.5, null])).toEqual([null, 0.2, 0.2, 0.5, 0.5]);
  });

  it("the sampling shares: the notes' arithmetic as expectations, 10,000 draws within 4 standard errors", () => {
    const { summary: s, rate, beta } = samplingScales(0, 10_000);
    // uniform on 1e-4..1: (1 - 0.1) / (1 - 1e-4); log: one decade of four
    expect(s.rateUniform.expected).toBeCloseTo(0.9 / 0.9999, 12);
    expect(s.rateLog.expected).toBeCloseTo(0.25, 12);
    // beta uniform on 0.9..0.999: (0.999 - 0.99) / 0.099; through log10(1-beta): -2..-3 of -1..-3
    expect(s.betaUniform.expected).toBeCloseTo(0.009 / 0.099, 12);
    expect(s.betaLog.expected).toBeCloseTo(0.5, 12);
    expect(s.rateUniform.tolerance).toBeCloseTo(4 * Math.sqrt((0.9 / 0.9999) * (1 - 0.9 / 0.9999) / 10_000), 12);
    for (const x of [s.rateUniform, s.rateLog, s.betaUniform, s.betaLog]) expect(Math.abs(x.observed - x.expected)).toBeLessThanOrEqual(x.tolerance);
    expect(s.windows).toEqual({ 'window(0.999)': 1000, 'window(0.9995)': 2000, 'window(0.9)': 10, 'window(0.9005)': 10.050251 });
    // every draw lands in a bin, and the histograms count the same draws as the shares
    for (const h of [rate, beta]) for (const c of Object.values(h.counts)) expect(c.reduce((a, b) => a + b, 0)).toBe(10_000);
    // rate bins are 0.25 decade (the top decade: the last 4); window bins 0.125 decade (100+ steps: the last 8)
    const top = (c: number[], bins: number) => c.slice(-bins).reduce((a, b) => a + b, 0) / 10_000;
    expect(top(rate.counts.uniform!, 4)).toBe(s.rateUniform.observed);
    expect(top(rate.counts.log!, 4)).toBe(s.rateLog.observed);
    expect(top(beta.counts.uniform!, 8)).toBe(s.betaUniform.observed);
    expect(top(beta.counts.log!, 8)).toBe(s.betaLog.observed);
  });
});

const mnist = { train: syntheticSplit(600, 1), test: syntheticSplit(100, 2), dir: 'synthetic' } as Mnist;
const tiny: SearchStrategiesConfig = { ...searchStrategies.profiles.quick, hidden: [16, 16], epochs: 3, gridPerAxis: 2, repetitions: 2, draws: 1000, s7Result: join(import.meta.dirname, 'fixtures', 'results', 'hyperparameter-search.json') };

describe('S11 run', () => {
  it('runs both strategies per repetition, frees its tensors, and checks S7 from its result file', async () => {
    const t = testContext({ study: searchStrategies, config: tiny, mnist: () => mnist });
    const before = tf.memory().numTensors;
    let run;
    try {
      run = await searchStrategies.run(tiny, t.ctx);
    } finally {
      t.close();
    }
    expect(tf.memory().numTensors).toBe(before);
    const { trials } = run.series;
    expect(trials).toHaveLength(2 * 2 * 4);
    for (const k of ['grid', 'random'] as const) for (const rep of [0, 1]) expect(trials.filter((x) => x.strategy === k && x.rep === rep)).toHaveLength(4);
    expect(run.summary.grid.distinctLr).toEqual([2, 2]);
    // The fixture's S7 run: best stage-1 lr 7.0e-3 sits on the top border; its stage 2 (1e-3..1e-2,
    // made before the rule) did not search the extended range, so the claim fails and says so.
    const s7 = run.summary.s7;
    expect(s7.borders.map((b) => [b.hyperparameter, b.side])).toContainEqual(['lr', 'high']);
    expect(s7.agrees).toBe(false);
    const claims = searchStrategies.claims(run, tiny);
    expect(claims.map((c) => c.id)).toEqual(['random-beats-grid', 'random-tries-more-lr', 'log-scale-shares', 'averaging-scale-shares', 's7-border-rule', 'tpe-not-beyond-random-5', 'random-beats-grid-4d']);
    // (d): random continued to budget 5 (its first 4 are part (a)'s), TPE sharing its first n0 = 4 trials
    const { bayes, fourD } = run.series;
    for (const k of ['random', 'tpe'] as const) for (const rep of [0, 1]) expect(bayes.filter((x) => x.strategy === k && x.rep === rep).map((x) => x.trial)).toEqual([0, 1, 2, 3, 4]);
    for (const rep of [0, 1]) {
      const r = bayes.filter((x) => x.strategy === 'random' && x.rep === rep);
      const p = bayes.filter((x) => x.strategy === 'tpe' && x.rep === rep);
      expect(p.slice(0, 4).map((x) => [x.lr, x.val])).toEqual(r.slice(0, 4).map((x) => [x.lr, x.val]));
      expect(r.slice(0, 4)).toEqual(trials.filter((x) => x.strategy === 'random' && x.rep === rep));
      expect(p[4]!.lr).not.toBe(r[4]!.lr);
    }
    expect(run.summary.budgets.map((b) => b.budget)).toEqual([5]);
    // (e): one grid point and one random draw per repetition, with their widths and batch sizes
    expect(fourD).toHaveLength(2 * 2);
    for (const t of fourD) {
      expect(t.width).toBeGreaterThanOrEqual(25);
      expect(t.width).toBeLessThanOrEqual(50);
      expect(t.batchSize).toBeGreaterThanOrEqual(100);
    }
    expect(claims.find((c) => c.id === 's7-border-rule')!.verdict === 'holds').toBe(false);
    expect(claims.find((c) => c.id === 'log-scale-shares')!.verdict === 'holds').toBe(true);
  });

  it('stops with one clear line when S7\'s result is missing', async () => {
    const t = testContext({ study: searchStrategies, config: tiny, mnist: () => mnist });
    try {
      await expect(searchStrategies.run({ ...tiny, s7Result: '/nonexistent/s7.json' }, t.ctx)).rejects.toThrow(/nonexistent\/s7.json: cannot be read/);
    } finally {
      t.close();
    }
  });
});
