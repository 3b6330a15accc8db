import { describe, expect, it } from 'vitest';
import { BOWL, SADDLE, gradientStep, hessianSize, newtonStep, valueAt, walk2d } from '../experiments/optimizer-paths/newton.js';

describe('second-order steps on a quadratic', () => {
  it('one Newton step reaches the stationary point of the bowl and of the saddle', () => {
    expect(newtonStep(BOWL, -7, 2)).toEqual([0, 0]);
    expect(newtonStep(SADDLE, -7, 0.01)).toEqual([0, 0]);
    // Elsewhere float64 rounding leaves a few 1e-16 (x/10 * 10 need not be x).
    for (const v of newtonStep(BOWL, 3, -1.5)) expect(Math.abs(v)).toBeLessThan(1e-12);
  });

  it('gradient descent slides off the saddle: f falls at every step, |y| grows by 1 + 2 lr', () => {
    const w = walk2d([-7, 0.01], 30, (x, y) => gradientStep(SADDLE, x, y, 0.1));
    const f = w.x.map((x, i) => valueAt(SADDLE, x, w.y[i]!));
    for (let i = 1; i < f.length; i++) expect(f[i]!).toBeLessThan(f[i - 1]!);
    expect(w.y[30]!).toBeCloseTo(0.01 * 1.2 ** 30, 10);
    expect(w.x[30]!).toBeCloseTo(-7 * 0.99 ** 30, 10);
  });

  it('the 5-layer MNIST net has 109,810 parameters, so its Hessian holds about 1.2e10 entries (48 GB in float32)', () => {
    const h = hessianSize([784, 100, 100, 100, 100, 10]);
    expect(h.parameters).toBe(784 * 100 + 100 + 3 * (100 * 100 + 100) + 100 * 10 + 10);
    expect(h.entries).toBe(109_810 ** 2);
    expect(h.float32Bytes).toBe(4 * 109_810 ** 2);
  });
});
