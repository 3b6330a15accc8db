/**
 * S8's machinery: the notes' relative error, numerical derivatives by the forward and the
 * centered formula at every step h, the coordinates checked, and the two evaluators of the
 * loss at a moved coordinate: the suite's own float32 loss (tfjs, src/nn/mlp.ts) and the
 * float64 reference (reference.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { Mlp } from '../../src/nn/mlp.js';
import type { Rng } from '../../src/rng.js';
import { median } from '../../src/stats.js';
import { patternsDiffer, plainLayerInputs, plainLossFrom, referenceLoss, type RefBatch, type RefEval, type RefSpec } from './reference.js';

/** The notes' relative error |a - n| / max(|a|, |n|); 0 when both are exactly equal (also both 0). */
export function relativeError(a: number, n: number): number {
  if (a === n) return 0;
  return Math.abs(a - n) / Math.max(Math.abs(a), Math.abs(n));
}

/** One checked coordinate: parameter tensor (Mlp.params() order) and flat index into it. */
export interface Coordinate {
  tensor: number;
  index: number;
}

/** The loss (and, for the float64 ReLU reference, the on/off pattern) with one coordinate moved by delta. */
export type Evaluator = (c: Coordinate, delta: number) => RefEval;

export interface Derivatives {
  /** Per h: (f(x+h) - f(x)) / h */
  forward: number[];
  /** Per h: (f(x+h) - f(x-h)) / 2h */
  centered: number[];
  /** Per h: a ReLU input changed sign among x-h, x, x+h (null when the evaluator cannot tell). */
  crossed: (boolean | null)[];
}

/**
 * Numerical derivatives at one coordinate for every h. The evaluator is called for f(x) once
 * and for x+h, x-h per h: with fresh dropout masks every call draws new masks, as a check that
 * forgot to fix them would. The nominal h divides (what the notes' formulas write).
 */
export function derivatives(f: Evaluator, c: Coordinate, hs: readonly number[]): Derivatives {
  const f0 = f(c, 0);
  const out: Derivatives = { forward: [], centered: [], crossed: [] };
  for (const h of hs) {
    const plus = f(c, h);
    const minus = f(c, -h);
    out.forward.push((plus.loss - f0.loss) / h);
    out.centered.push((plus.loss - minus.loss) / (2 * h));
    out.crossed.push(f0.on ? patternsDiffer(f0.on, plus.on) || patternsDiffer(f0.on, minus.on) : null);
  }
  return out;
}

/**
 * Which coordinates to check: `perTensor` distinct flat indices per parameter tensor (all of a
 * smaller one), drawn by the rng, ascending. `skip(t, i)` leaves out coordinates whose gradient
 * is zero by construction (first-layer weights of a pixel that is 0 in every image).
 */
export function pickCoordinates(sizes: readonly number[], perTensor: number, rng: Rng, skip: (t: number, i: number) => boolean = () => false): Coordinate[] {
  const out: Coordinate[] = [];
  sizes.forEach((size, t) => {
    const candidates: number[] = [];
    for (let i = 0; i < size; i++) if (!skip(t, i)) candidates.push(i);
    const order = rng.permutation(candidates.length);
    const chosen = Array.from(order.subarray(0, Math.min(perTensor, candidates.length)), (k) => candidates[k]!).sort((a, b) => a - b);
    for (const index of chosen) out.push({ tensor: t, index });
  });
  return out;
}

/** Quantile q (0..1) of a list, linear between order statistics; null when empty. */
export function quantile(xs: readonly number[], q: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const at = q * (s.length - 1);
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return s[lo]! + (s[hi]! - s[lo]!) * (at - lo);
}

/** Median over coordinates of the relative errors at each h. */
export function medianPerH(errors: number[][], hCount: number): number[] {
  return Array.from({ length: hCount }, (_, k) => median(errors.map((e) => e[k]!))!);
}

// --- Evaluators -------------------------------------------------------------------------------

/**
 * The suite's float32 training-mode loss (Mlp.loss) with one coordinate set to fl32(x + delta):
 * the variable gets a new tensor (never its buffer written in place), and its old values back
 * before any other coordinate moves or x itself is evaluated. A dropout net draws fresh masks
 * on every call, as Mlp.loss does in training mode. The net's values stay moved after the last
 * call: the caller disposes the net, or evaluates delta 0 to put them back.
 */
export function float32Evaluator(net: Mlp, x: tf.Tensor2D, y: tf.Tensor2D): Evaluator {
  const params = net.params();
  const base = params.map((p) => p.dataSync().slice() as Float32Array);
  /** The tensor currently holding a moved value (put back only when another value is asked for). */
  let moved: number | null = null;
  const set = (t: number, values: Float32Array) => tf.tidy(() => params[t]!.assign(tf.tensor(values, params[t]!.shape)));
  return (c, delta) => {
    if (moved !== null && (delta === 0 || moved !== c.tensor)) {
      set(moved, base[moved]!);
      moved = null;
    }
    if (delta !== 0) {
      const values = base[c.tensor]!.slice();
      values[c.index] = values[c.index]! + delta;
      set(c.tensor, values);
      moved = c.tensor;
    }
    return { loss: tf.tidy(() => net.loss(x, y, 'train').dataSync()[0]!), on: null };
  };
}

/**
 * The float64 reference with one coordinate set to x + delta (in double precision). `masks`
 * gives the dropout masks of each call: the same ones every time (a fixed mask) or new ones.
 */
export function float64Evaluator(spec: RefSpec, params: Float64Array[], batch: RefBatch, masks: () => Float64Array[] | null = () => null): Evaluator {
  return (c, delta) => {
    const p = params[c.tensor]!;
    const keep = p[c.index]!;
    p[c.index] = keep + delta;
    try {
      return referenceLoss(spec, params, batch, masks());
    } finally {
      p[c.index] = keep;
    }
  };
}

/**
 * float64Evaluator for a plain net (no batch norm, dropout or penalty), faster: a moved
 * coordinate of layer L is evaluated from layer L's input at the unmoved parameters on, with
 * the same operations as referenceLoss (a test checks the bits are equal). The ReLU on/off
 * pattern is not recorded (null).
 */
export function plainFloat64Evaluator(spec: RefSpec, params: Float64Array[], batch: RefBatch): Evaluator {
  const inputs = plainLayerInputs(spec, params, batch);
  return (c, delta) => {
    const p = params[c.tensor]!;
    const keep = p[c.index]!;
    p[c.index] = keep + delta;
    try {
      const layer = Math.floor(c.tensor / 2);
      return { loss: plainLossFrom(spec, params, batch, layer, inputs[layer]!), on: null };
    } finally {
      p[c.index] = keep;
    }
  };
}
