import { describe, expect, it } from 'vitest';
import { Rng } from '../src/rng.js';
import { draw, gridValues, positionOf, valueAt, type Axis } from '../src/search/sampling.js';

const LR: Axis = { scale: 'log', range: [1e-6, 1e-2] };
const BETA: Axis = { scale: 'averaging', range: [0.9, 0.999] };
const LINEAR: Axis = { scale: 'uniform', range: [2, 10] };

describe('sampling scales', () => {
  it('maps positions to values on each scale (hand-computed)', () => {
    // log: 10^(-6 + 4u)
    expect(valueAt(LR, 0)).toBeCloseTo(1e-6, 18);
    expect(valueAt(LR, 0.5)).toBeCloseTo(1e-4, 16);
    expect(valueAt(LR, 0.25)).toBeCloseTo(1e-5, 17);
    expect(valueAt(LR, 1)).toBeCloseTo(1e-2, 14);
    // past the top end by a tenth of the range: 10^(-2 + 0.4)
    expect(valueAt(LR, 1.1)).toBeCloseTo(10 ** -1.6, 14);
    // averaging: 1 - 10^(-1 - 2u): the middle is beta 0.99 (window 100 steps)
    expect(valueAt(BETA, 0)).toBeCloseTo(0.9, 14);
    expect(valueAt(BETA, 0.5)).toBeCloseTo(0.99, 14);
    expect(valueAt(BETA, 1)).toBeCloseTo(0.999, 14);
    // uniform: 2 + 8u
    expect(valueAt(LINEAR, 0.25)).toBe(4);
  });

  it('positionOf inverts valueAt, also outside the range', () => {
    for (const axis of [LR, BETA, LINEAR]) {
      for (const u of [-0.2, 0, 0.1, 0.5, 0.93, 1, 1.1]) expect(positionOf(axis, valueAt(axis, u))).toBeCloseTo(u, 10);
    }
    expect(positionOf(LR, 7.914e-3)).toBeCloseTo((Math.log10(7.914e-3) + 6) / 4, 12);
  });

  it('a grid takes the centres of equal cells on the scale', () => {
    const g = gridValues(LR, 4).map(Math.log10);
    [-5.5, -4.5, -3.5, -2.5].forEach((v, i) => expect(g[i]).toBeCloseTo(v, 12));
    expect(gridValues(LINEAR, 2)).toEqual([4, 8]);
    const b = gridValues(BETA, 2).map((x) => Math.log10(1 - x));
    expect(b[0]).toBeCloseTo(-1.5, 12);
    expect(b[1]).toBeCloseTo(-2.5, 12);
  });

  it('a log draw is the same number as 10^U(log10 lo, log10 hi) from the same stream (S7 draws unchanged)', () => {
    const a = Rng.stream(3, 'hparams:1:7');
    const b = Rng.stream(3, 'hparams:1:7');
    for (let i = 0; i < 100; i++) expect(draw(a, LR)).toBe(10 ** b.uniformIn(Math.log10(1e-6), Math.log10(1e-2)));
    const c = Rng.stream(3, 'x');
    const d = Rng.stream(3, 'x');
    for (let i = 0; i < 100; i++) expect(c.logUniform(1e-8, 1e-4)).toBe(draw(d, { scale: 'log', range: [1e-8, 1e-4] }));
  });

  it('10,000 draws give the notes\' shares: uniform on 1e-4..1 puts about 90% in 0.1..1, log 25%', () => {
    const rng = new Rng(11);
    const n = 10_000;
    const inTop = (axis: Axis) => Array.from({ length: n }, () => draw(rng, axis)).filter((v) => v >= 0.1).length / n;
    expect(Math.abs(inTop({ scale: 'uniform', range: [1e-4, 1] }) - 0.9)).toBeLessThan(0.012);
    expect(Math.abs(inTop({ scale: 'log', range: [1e-4, 1] }) - 0.25)).toBeLessThan(0.018);
    const above99 = Array.from({ length: n }, () => draw(rng, BETA)).filter((b) => b >= 0.99).length / n;
    expect(Math.abs(above99 - 0.5)).toBeLessThan(0.02);
  });

  it('refuses ranges its scale cannot hold', () => {
    expect(() => valueAt({ scale: 'log', range: [0, 1] }, 0.5)).toThrow(/0 < lo <= hi/);
    expect(() => valueAt({ scale: 'averaging', range: [0.9, 1] }, 0.5)).toThrow(/hi < 1/);
    expect(() => valueAt({ scale: 'uniform', range: [3, 1] }, 0.5)).toThrow(/lo <= hi/);
    expect(() => gridValues(LR, 0)).toThrow(/n >= 1/);
  });
});
