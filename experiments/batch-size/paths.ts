/**
 * The two-parameter part of S16: least squares on a fixed synthetic data set whose two features
 * have very different scales, so the loss's contours are long ellipses. Gradient descent with
 * the full data set, with one example, and with 32 examples per update, from one start at one
 * rate; the full-data loss after every update. Written out in float64 (the update rule is the
 * lesson): loss(w) = 1/(2N) sum_i (w . x_i - t_i)^2, its gradient on a batch B is
 * 1/|B| sum_{i in B} (w . x_i - t_i) x_i.
 */
import { Rng } from '../../src/rng.js';

export interface LinearData {
  x1: Float64Array;
  x2: Float64Array;
  t: Float64Array;
}

/** N points: x1 ~ N(0, s1^2), x2 ~ N(0, s2^2), t = w . x + N(0, noise^2). */
export function makeData(n: number, scales: [number, number], weights: [number, number], noise: number, rng: Rng): LinearData {
  const x1 = new Float64Array(n);
  const x2 = new Float64Array(n);
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x1[i] = rng.normal() * scales[0];
    x2[i] = rng.normal() * scales[1];
    t[i] = weights[0] * x1[i]! + weights[1] * x2[i]! + rng.normal() * noise;
  }
  return { x1, x2, t };
}

export function fullLoss(d: LinearData, w: [number, number]): number {
  let s = 0;
  for (let i = 0; i < d.t.length; i++) {
    const r = w[0] * d.x1[i]! + w[1] * d.x2[i]! - d.t[i]!;
    s += r * r;
  }
  return s / (2 * d.t.length);
}

/** The batch gradient at w over the examples `rows`. */
export function batchGradient(d: LinearData, w: [number, number], rows: ArrayLike<number>): [number, number] {
  let g1 = 0;
  let g2 = 0;
  for (let k = 0; k < rows.length; k++) {
    const i = rows[k]!;
    const r = w[0] * d.x1[i]! + w[1] * d.x2[i]! - d.t[i]!;
    g1 += r * d.x1[i]!;
    g2 += r * d.x2[i]!;
  }
  return [g1 / rows.length, g2 / rows.length];
}

/** The loss as a quadratic: H = (1/N) X^T X, its minimizer w* and the loss there (for exact contours). */
export function quadraticForm(d: LinearData): { h: [number, number, number]; wStar: [number, number]; minLoss: number } {
  const n = d.t.length;
  let a = 0, b = 0, c = 0, p = 0, q = 0; // prettier-ignore
  for (let i = 0; i < n; i++) {
    a += d.x1[i]! * d.x1[i]!;
    b += d.x1[i]! * d.x2[i]!;
    c += d.x2[i]! * d.x2[i]!;
    p += d.x1[i]! * d.t[i]!;
    q += d.x2[i]! * d.t[i]!;
  }
  const det = a * c - b * b;
  const wStar: [number, number] = [(c * p - b * q) / det, (a * q - b * p) / det];
  return { h: [a / n, b / n, c / n], wStar, minLoss: fullLoss(d, wStar) };
}

export interface DescentPath {
  batchSize: number;
  w1: number[];
  w2: number[];
  /** Full-data loss at the start and after every update. */
  loss: number[];
}

/** `updates` steps of rate lr; a batch of the whole set uses every example, else draws with replacement. */
export function descend(d: LinearData, start: [number, number], lr: number, batchSize: number, updates: number, rng: Rng): DescentPath {
  const n = d.t.length;
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const w: [number, number] = [start[0], start[1]];
  const path: DescentPath = { batchSize, w1: [w[0]], w2: [w[1]], loss: [fullLoss(d, w)] };
  for (let u = 0; u < updates; u++) {
    const rows = batchSize >= n ? all : rng.choice(n, batchSize);
    const [g1, g2] = batchGradient(d, w, rows);
    w[0] -= lr * g1;
    w[1] -= lr * g2;
    path.w1.push(w[0]);
    path.w2.push(w[1]);
    path.loss.push(fullLoss(d, w));
  }
  return path;
}
