import { describe, expect, it } from 'vitest';
import { initLabel, initWeights } from '../src/nn/init.js';
import { Rng } from '../src/rng.js';
import { descend, makeData, quadraticForm, fullLoss } from '../experiments/batch-size/paths.js';
import { wiggle } from '../experiments/batch-size/study.js';
import { distinctUnits } from '../experiments/symmetry/study.js';

describe('constant init', () => {
  it('sets every weight to the constant, bit for bit, and draws nothing without noise', () => {
    const rng = new Rng(1, 'x');
    const w = initWeights({ constant: 0.01 }, 3, 4, rng);
    expect([...w]).toEqual(new Array(12).fill(Math.fround(0.01)));
    expect(rng.nextUint32()).toBe(new Rng(1, 'x').nextUint32());
    expect(initLabel({ constant: 0 })).toBe('const=0');
  });

  it('adds the noise around the constant', () => {
    const w = initWeights({ constant: 0.01, noise: 1e-4 }, 100, 100, new Rng(2, 'y'));
    const mean = w.reduce((a, b) => a + b, 0) / w.length;
    expect(mean).toBeCloseTo(0.01, 5);
    expect(new Set(w).size).toBeGreaterThan(9000);
  });
});

describe('distinct units', () => {
  it('counts columns with their bias, bit for bit and within a relative 1e-6', () => {
    // 2 inputs, 3 units: units 0 and 2 equal, unit 1 differs by 1e-8 relative (close, not exact).
    const w = new Float32Array([1, 1 + 1e-7, 1, 2, 2, 2]);
    const b = new Float32Array([0, 0, 0]);
    expect(distinctUnits(w, b, 2, 3)).toEqual({ exact: 2, close: 1 });
    expect(distinctUnits(w, new Float32Array([0, 0, 1]), 2, 3)).toEqual({ exact: 3, close: 2 });
    expect(distinctUnits(new Float32Array(6), new Float32Array(3), 2, 3)).toEqual({ exact: 1, close: 1 });
  });
});

describe('batch-size paths and wiggle', () => {
  it('full-batch descent lowers the loss at every update and ends at the least-squares minimum', () => {
    const d = makeData(1000, [1, 0.25], [1, 2], 0.5, new Rng(0, 'd'));
    const q = quadraticForm(d);
    const p = descend(d, [-2, -3], 0.2, 1000, 300, new Rng(0, 'b'));
    for (let i = 1; i < p.loss.length; i++) expect(p.loss[i]!).toBeLessThan(p.loss[i - 1]!);
    expect(p.loss.at(-1)! - q.minLoss).toBeLessThan(0.02);
    expect(fullLoss(d, q.wStar)).toBe(q.minLoss);
  });

  it('wiggle is 0 on an exact quadratic and the residual std with n - 3 degrees of freedom otherwise', () => {
    const quad = Array.from({ length: 30 }, (_, i) => 1 + 0.1 * i - 0.002 * i * i);
    expect(wiggle(quad)!).toBeLessThan(1e-9);
    const alt = Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? 1 : -1));
    // Last third: 10 points alternating +-1; the best quadratic is near 0, so the residual std is near sqrt(10 / 7).
    expect(wiggle(alt)!).toBeCloseTo(Math.sqrt(10 / 7), 1);
    expect(wiggle([1, 2, 3])).toBeNull();
    expect(wiggle([...quad.slice(0, 29), null])).toBeNull();
  });
});
