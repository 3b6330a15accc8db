import { describe, expect, it } from 'vitest';
import { judgeDifference, mcnemarExactP, realDifference, tQuantile975 } from '../src/difference.js';
import { comparing } from '../src/claims.js';
import { ResultSchema } from '../src/results/schema.js';

describe('McNemar exact test', () => {
  it('matches the binomial tail computed by hand', () => {
    expect(mcnemarExactP(0, 0)).toBe(1);
    // 5 discordant images all one way: 2 * (1/2)^5 = 0.0625, not below 0.05; 6 all one way: 0.03125.
    expect(mcnemarExactP(5, 0)).toBeCloseTo(0.0625, 12);
    expect(mcnemarExactP(0, 6)).toBeCloseTo(0.03125, 12);
    // 10 vs 2: 2 * (1 + 12 + 66) / 4096.
    expect(mcnemarExactP(10, 2)).toBeCloseTo((2 * 79) / 4096, 12);
    expect(mcnemarExactP(2, 10)).toBe(mcnemarExactP(10, 2));
    // Thousands of discordant images (log-space sum): 530 vs 470 is p ~ 0.06.
    const p = mcnemarExactP(530, 470);
    expect(p).toBeGreaterThan(0.05);
    expect(p).toBeLessThan(0.07);
    expect(mcnemarExactP(560, 440)).toBeLessThan(0.001);
  });

  it('decides a single run when the discordant counts are recorded', () => {
    expect(realDifference({ kind: 'accuracy', n: 10000, a: 0.9506, b: 0.95, aOnly: 5, bOnly: 0 }).real).toBe(false);
    expect(realDifference({ kind: 'accuracy', n: 10000, a: 0.9507, b: 0.95, aOnly: 7, bOnly: 0 }).real).toBe(true);
  });
});

describe('binomial standard error rule (accuracies only)', () => {
  it('calls 4 of 10,000 images near 95% noise and 2 points real', () => {
    const noise = judgeDifference('higher', { kind: 'accuracy', n: 10000, a: 0.9504, b: 0.95 });
    expect(noise.verdict).toBe('inconclusive');
    expect(noise.reason).toContain('within the noise');
    expect(judgeDifference('higher', { kind: 'accuracy', n: 10000, a: 0.97, b: 0.95 }).verdict).toBe('holds');
    expect(judgeDifference('higher', { kind: 'accuracy', n: 10000, a: 0.93, b: 0.95 }).verdict).toBe('FAILS');
  });
  it('uses 2 standard errors of a difference of proportions', () => {
    // 2 * sqrt((0.6*0.4 + 0.47*0.53) / 100) = 0.1399: a difference of 0.13 is noise.
    expect(realDifference({ kind: 'accuracy', n: 100, a: 0.6, b: 0.47 }).real).toBe(false);
    // 2 * sqrt((0.62*0.38 + 0.47*0.53) / 100) = 0.1392: 0.15 is real.
    expect(realDifference({ kind: 'accuracy', n: 100, a: 0.62, b: 0.47 }).real).toBe(true);
  });
});

describe('paired values', () => {
  it('t quantiles', () => {
    expect(tQuantile975(4)).toBe(2.776);
    expect(tQuantile975(30)).toBe(2.042);
    expect(tQuantile975(1000)).toBeCloseTo(1.962, 3);
    expect(() => tQuantile975(0)).toThrow();
  });
  it('seeds: the same difference in every seed is real, a sign that flips is not', () => {
    expect(realDifference({ kind: 'paired', unit: 'seed', a: [1.1, 2.2, 3.1, 4.3, 5.2], b: [1, 2, 3, 4, 5] }).real).toBe(true);
    expect(realDifference({ kind: 'paired', unit: 'seed', a: [2, 0, 2, 0, 2], b: [1, 1, 1, 1, 1] }).real).toBe(false);
    // mean 0.2, sd 0.1 over 5 seeds: half-width 2.776 * 0.1 / sqrt(5) = 0.124.
    const d = realDifference({ kind: 'paired', unit: 'seed', a: [0.3, 0.1, 0.2, 0.3, 0.1], b: [0, 0, 0, 0, 0] });
    expect(d.difference).toBeCloseTo(0.2, 12);
    expect(d.real).toBe(true);
    expect(d.test).toContain('5 seeds');
    expect(realDifference({ kind: 'paired', unit: 'seed', a: [1], b: [0] }).real).toBe(false);
  });
  it('batches are averaged in 10 blocks before the interval', () => {
    const b = Array.from({ length: 100 }, () => 0.5);
    const noisy = Array.from({ length: 100 }, (_, i) => 0.5 + (i % 2 === 0 ? 0.1 : -0.1));
    // Alternating +-0.1 cancels inside each block of 10: no difference at all.
    const d = realDifference({ kind: 'paired', unit: 'batch', a: noisy, b });
    expect(Math.abs(d.difference)).toBeLessThan(1e-12);
    expect(d.real).toBe(false);
    expect(d.test).toContain('10 block means of 100 shared batches');
    const lower = realDifference({ kind: 'paired', unit: 'batch', a: noisy.map((x) => x - 0.05), b });
    expect(lower.real).toBe(true);
    expect(judgeDifference('lower', { kind: 'paired', unit: 'batch', a: noisy.map((x) => x - 0.05), b }).verdict).toBe('holds');
    expect(() => realDifference({ kind: 'paired', unit: 'seed', a: [1, 2], b: [1] })).toThrow('differ in length');
  });
  it('"at least" is contradicted only by a real difference the other way', () => {
    expect(judgeDifference('notLower', { kind: 'accuracy', n: 10000, a: 0.9496, b: 0.95 }).verdict).toBe('holds');
    expect(judgeDifference('notLower', { kind: 'accuracy', n: 10000, a: 0.93, b: 0.95 }).verdict).toBe('FAILS');
    expect(judgeDifference('notHigher', { kind: 'accuracy', n: 10000, a: 0.97, b: 0.95 }).verdict).toBe('FAILS');
  });
});

describe('the did-not-learn rule', () => {
  const claim = { id: 'c', text: 't', verdict: 'holds' as const, numbers: {} };
  it('makes a claim inconclusive, with the reason, only for the nets passed to it', () => {
    expect(comparing(claim, { relu: { loss: 0.2 } })).toBe(claim);
    const c = comparing(claim, { relu: { loss: 0.2 }, tanh: { loss: 2.29 } });
    expect(c.verdict).toBe('inconclusive');
    expect(c.reason).toContain('tanh: final loss 2.290 >= 2.072');
    expect(comparing(claim, { bn: { accuracy: 0.11 } }).reason).toContain('bn: accuracy 0.110 <= 0.2');
  });
});

describe('result files with holds: boolean', () => {
  it('are read as holds / FAILS', () => {
    const claims = [
      { id: 'a', text: 't', holds: true, numbers: {} },
      { id: 'b', text: 't', holds: false, numbers: {}, perSeed: [{ seed: 0, holds: false, numbers: {} }] },
    ];
    const parsed = ResultSchema.shape.claims.parse(claims);
    expect(parsed.map((c) => c.verdict)).toEqual(['holds', 'FAILS']);
    expect(parsed[1]!.perSeed![0]!.verdict).toBe('FAILS');
    expect('holds' in parsed[0]!).toBe(false);
  });
});
