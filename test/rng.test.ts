import { describe, expect, it } from 'vitest';
import { Rng } from '../src/rng.js';

describe('Rng', () => {
  it('repeats exactly for the same seed and stream', () => {
    const a = new Rng(7, 'batches');
    const b = new Rng(7, 'batches');
    const xs = Array.from({ length: 50 }, () => a.uniform());
    expect(Array.from({ length: 50 }, () => b.uniform())).toEqual(xs);
  });

  it('gives different draws for different seeds and streams', () => {
    expect(new Rng(1).uniform()).not.toBe(new Rng(2).uniform());
    expect(new Rng(1, 'a').uniform()).not.toBe(new Rng(1, 'b').uniform());
  });

  it('draws uniform integers in range with about equal counts', () => {
    const rng = new Rng(3);
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 100_000; i++) counts[rng.int(10)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
  });

  it('draws standard normals with mean 0 and std 1', () => {
    const xs = new Rng(4).normalArray(200_000);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(std - 1)).toBeLessThan(0.01);
  });

  it('permutation holds every index once', () => {
    const p = Array.from(new Rng(5).permutation(1000)).sort((a, b) => a - b);
    expect(p).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it('logUniform is uniform in log10 between the bounds', () => {
    const rng = new Rng(6);
    const logs = Array.from({ length: 20_000 }, () => Math.log10(rng.logUniform(1e-6, 1e-2)));
    expect(Math.min(...logs)).toBeGreaterThanOrEqual(-6);
    expect(Math.max(...logs)).toBeLessThan(-2);
    // each decade gets about a quarter of the draws
    for (let d = -6; d < -2; d++) {
      const share = logs.filter((l) => l >= d && l < d + 1).length / logs.length;
      expect(Math.abs(share - 0.25)).toBeLessThan(0.02);
    }
    expect(() => rng.logUniform(0, 1)).toThrow();
  });

  it('averagingRate samples beta = 1 - 10^U(a, b)', () => {
    const rng = new Rng(8);
    const betas = Array.from({ length: 10_000 }, () => rng.averagingRate(-3, -1));
    expect(Math.min(...betas)).toBeGreaterThanOrEqual(0.9);
    expect(Math.max(...betas)).toBeLessThanOrEqual(0.999);
    // half the draws have 1-beta below 10^-2, i.e. beta above 0.99
    const above = betas.filter((b) => b > 0.99).length / betas.length;
    expect(Math.abs(above - 0.5)).toBeLessThan(0.03);
  });
});
