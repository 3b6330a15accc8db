/**
 * The lecture's loss-curve smoothing: a weighted moving average whose weights are an
 * 11-point Kaiser window with beta 2, normalised to sum 1. Its ends are handled by mirroring
 * the series, so the smoothed curve has as many points as the raw one.
 */

/**
 * Modified Bessel function of the first kind, order 0, from its power series
 * I0(x) = sum_k ((x/2)^k / k!)^2. Every term is positive, so summing until a term no longer
 * changes the total is accurate for the small arguments a window needs (beta up to ~50).
 */
export function besselI0(x: number): number {
  const q = (x * x) / 4;
  let term = 1;
  let sum = 1;
  for (let k = 1; k < 500; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

/** Kaiser window of `length` points: w[n] = I0(beta * sqrt(1 - r^2)) / I0(beta), r from -1 to 1. */
export function kaiserWindow(length: number, beta: number): number[] {
  if (!Number.isInteger(length) || length < 1) throw new Error(`window length must be a positive integer, got ${length}`);
  if (length === 1) return [1];
  const norm = besselI0(beta);
  return Array.from({ length }, (_, n) => {
    const r = (2 * n) / (length - 1) - 1;
    return besselI0(beta * Math.sqrt(Math.max(0, 1 - r * r))) / norm;
  });
}

export interface SmoothOptions {
  /** Odd window length (the lecture's 11). */
  window?: number;
  /** Kaiser shape parameter (the lecture's 2). */
  beta?: number;
}

/**
 * Smooths `values` with a normalised Kaiser window centred on each point. Past the ends the
 * series is mirrored the way the lecture's helper pads it: at the start without repeating the
 * first point (x[-1] = x[1]), at the end repeating the last one (x[n] = x[n-1]). A series
 * shorter than the window is returned unchanged. A null (a diverged, non-finite loss) makes
 * every smoothed point whose window touches it null, so a gap stays a gap.
 */
export function smoothKaiser(values: readonly (number | null)[], options: SmoothOptions = {}): (number | null)[] {
  const length = options.window ?? 11;
  const beta = options.beta ?? 2;
  if (length % 2 !== 1) throw new Error(`window length must be odd, got ${length}`);
  const n = values.length;
  if (n < length) return values.slice();
  const w = kaiserWindow(length, beta);
  const total = w.reduce((a, b) => a + b, 0);
  const half = (length - 1) / 2;
  const at = (j: number): number | null => values[j < 0 ? -j : j >= n ? 2 * n - 1 - j : j] ?? null;
  const out: (number | null)[] = new Array(n);
  for (let i = 0; i < n; i++) {
    let acc = 0;
    let gap = false;
    for (let d = -half; d <= half; d++) {
      const v = at(i + d);
      if (v === null || !Number.isFinite(v)) {
        gap = true;
        break;
      }
      acc += w[d + half]! * v;
    }
    out[i] = gap ? null : acc / total;
  }
  return out;
}
