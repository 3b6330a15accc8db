/**
 * How a hyperparameter search places its trials on one axis: the notes' three scales.
 *
 * - 'uniform': the value itself is uniform in [lo, hi] (a layer count, a dropout ratio).
 * - 'log': log10 of the value is uniform (a learning rate, a weight decay): each decade gets
 *   the same share of trials. Uniform on 1e-4..1 would put 90% of them in 0.1..1.
 * - 'averaging': log10(1 - beta) is uniform (momentum, RMSprop's rho, Adam's betas), since
 *   beta near 1 is sensitive: 0.999 -> 0.9995 doubles the averaging window 1/(1-beta), while
 *   0.9 -> 0.9005 leaves it at about 10 steps. Here lo and hi are betas, e.g. [0.9, 0.999].
 *
 * Everything goes through one map from a position u in [0, 1] (the axis from lo to hi, evenly
 * spaced on its scale) to a value: a random draw is the value at a uniform u, a grid takes the
 * centres of n equal cells, and a position outside [0, 1] reaches past an end of the range (a
 * search that widens its range at a border).
 */
import type { Rng } from '../rng.js';

export type Range = [lo: number, hi: number];
export type Scale = 'uniform' | 'log' | 'averaging';

export interface Axis {
  scale: Scale;
  range: Range;
}

/** The axis's ends on its own scale: the numbers a position interpolates between. */
function ends(axis: Axis): Range {
  const [lo, hi] = axis.range;
  const ok = axis.scale === 'uniform' ? lo <= hi : axis.scale === 'log' ? lo > 0 && lo <= hi : lo <= hi && hi < 1;
  if (!ok || !Number.isFinite(lo) || !Number.isFinite(hi)) {
    const need = axis.scale === 'uniform' ? 'lo <= hi' : axis.scale === 'log' ? '0 < lo <= hi' : 'lo <= hi < 1';
    throw new RangeError(`a ${axis.scale} axis needs ${need}, got [${lo}, ${hi}]`);
  }
  if (axis.scale === 'uniform') return [lo, hi];
  if (axis.scale === 'log') return [Math.log10(lo), Math.log10(hi)];
  return [Math.log10(1 - lo), Math.log10(1 - hi)];
}

/** The value at position u of the axis (0 = lo, 1 = hi, evenly spaced on the axis's scale). */
export function valueAt(axis: Axis, u: number): number {
  const [a, b] = ends(axis);
  const t = a + (b - a) * u;
  if (axis.scale === 'uniform') return t;
  if (axis.scale === 'log') return 10 ** t;
  return 1 - 10 ** t;
}

/** Where `value` lies on the axis: the inverse of valueAt (outside [0, 1] beyond the ends). */
export function positionOf(axis: Axis, value: number): number {
  const [a, b] = ends(axis);
  const t = axis.scale === 'uniform' ? value : axis.scale === 'log' ? Math.log10(value) : Math.log10(1 - value);
  return b === a ? 0.5 : (t - a) / (b - a);
}

/** One random draw: uniform on the axis's scale. */
export function draw(rng: Rng, axis: Axis): number {
  return valueAt(axis, rng.uniform());
}

/**
 * n grid values: the centres of n equal cells of the axis on its scale (positions
 * (i + 1/2) / n), so a grid covers the same range a random draw does, cell for cell.
 */
export function gridValues(axis: Axis, n: number): number[] {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`a grid needs n >= 1 values, got ${n}`);
  return Array.from({ length: n }, (_, i) => valueAt(axis, (i + 0.5) / n));
}
