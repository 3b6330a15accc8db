import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { histogram, histogramRange, initActivations, layerStats } from '../experiments/init-activations/study.js';
import { initStd, initWeights } from '../src/nn/init.js';
import { Rng } from '../src/rng.js';
import { testContext } from './helpers/context.js';

function sampleStd(xs: Float32Array): number {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
}

function ctx(seed: number) {
  const noData = () => {
    throw new Error('S3 uses no data');
  };
  return testContext({ study: initActivations, config: initActivations.profiles.lecture, mnist: noData, seed, profile: 'lecture' }).ctx;
}

describe('init scales (src/nn/init.ts)', () => {
  it.each([
    ['std=1', { std: 1 }, 1],
    ['std=0.01', { std: 0.01 }, 0.01],
    ['xavier', 'xavier', Math.sqrt(1 / 100)],
    ['he', 'he', Math.sqrt(2 / 100)],
  ] as const)('%s draws N(0, s^2) with the stated s for fan-in 100', (_name, scheme, expected) => {
    expect(initStd(scheme, 100)).toBeCloseTo(expected, 12);
    const w = initWeights(scheme, 100, 2000, new Rng(11, 'init-test')); // 200,000 draws
    expect(Math.abs(sampleStd(w) / expected - 1)).toBeLessThan(0.01);
  });

  it('scales Xavier and He by the fan-in, not the fan-out', () => {
    expect(initStd('xavier', 784)).toBeCloseTo(1 / 28, 12);
    expect(initStd('he', 50)).toBeCloseTo(0.2, 12);
  });
});

describe('S3 statistics helpers', () => {
  const values = [0, 0, 0.04, 0.5, 0.54, 0.6, 0.96, 1, -1, -0.97];

  it('counts shares within 0.05 of -1, 0, 0.5 and 1 on hand-made data', () => {
    const h = histogram(values, -1, 1, 4);
    const s = layerStats(values, 0.05, h);
    expect(s.nearZero).toBeCloseTo(3 / 10, 12);
    expect(s.nearHalf).toBeCloseTo(2 / 10, 12);
    expect(s.nearOne).toBeCloseTo(2 / 10, 12);
    expect(s.nearMinusOne).toBeCloseTo(2 / 10, 12);
    expect(s.zeroShare).toBeCloseTo(2 / 10, 12);
    expect(s.min).toBe(-1);
    expect(s.max).toBe(1);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    expect(s.mean).toBeCloseTo(mean, 12);
    expect(s.std).toBeCloseTo(Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length), 12);
  });

  it('bins over [lo, hi] with the upper end in the last bin and records zeros and outliers', () => {
    const h = histogram([0, 0.1, 0.25, 0.5, 0.99, 1, 1.5, -0.2], 0, 1, 4);
    expect(h.edges).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(h.counts).toEqual([2, 1, 1, 2]);
    expect(h.zeros).toBe(1);
    expect(h.outside).toBe(2);
    // occupied bins: bins holding at least 1% of the values (all four here)
    expect(layerStats([0, 0.1, 0.25, 0.5, 0.99, 1, 1.5, -0.2], 0.05, h).occupiedBins).toBe(4);
  });

  it('uses the fixed ranges for sigmoid and tanh and the row maximum for ReLU', () => {
    expect(histogramRange('sigmoid', 7)).toEqual([0, 1]);
    expect(histogramRange('tanh', 7)).toEqual([-1, 1]);
    expect(histogramRange('relu', 7)).toEqual([0, 7]);
    expect(histogramRange('relu', 0)).toEqual([0, 1]);
  });
});

describe('S3 run', () => {
  it('records 12 rows of five 30-bin histograms, checks six claims, and leaks no tensors', async () => {
    const config = initActivations.profiles.lecture;
    const before = tf.memory().numTensors;
    const run = await initActivations.run(config, ctx(0));
    expect(tf.memory().numTensors).toBe(before);
    const rows = run.series.rows as { label: string; histograms: { counts: number[]; edges: number[] }[] }[];
    expect(rows).toHaveLength(12);
    for (const r of rows) {
      expect(r.histograms).toHaveLength(5);
      for (const h of r.histograms) {
        expect(h.counts).toHaveLength(30);
        expect(h.edges).toHaveLength(31);
        expect(h.counts.reduce((a, b) => a + b, 0)).toBe(1000 * 100);
      }
    }
    const claims = initActivations.claims(run, config);
    expect(claims.map((c) => c.id)).toEqual([
      'sigmoid-std1-saturates',
      'sigmoid-std001-centre',
      'sigmoid-xavier-spread',
      'relu-std001-collapses',
      'relu-xavier-shrinks',
      'relu-he-flat',
    ]);
    // The same seed gives the same numbers.
    const again = await initActivations.run(config, ctx(0));
    expect(again.summary).toEqual(run.summary);
  });
});
