/**
 * Weight initialisation as the lecture defines it: plain (not truncated) normal draws,
 * scaled by the fan-in n of the layer. How these scales keep activations alive is a lesson of
 * its own (the init studies).
 */
import type { Rng } from '../rng.js';

/**
 * 'std=s' is N(0, s^2); Xavier is N(0, 1/n); He is N(0, 2/n). A constant sets every weight to
 * the same value c (the symmetric start that random init exists to avoid), optionally plus
 * N(0, noise^2).
 */
export type InitScheme = 'xavier' | 'he' | { std: number } | ConstantInit;
export interface ConstantInit {
  constant: number;
  noise?: number;
}

const isConstant = (scheme: InitScheme): scheme is ConstantInit => typeof scheme === 'object' && 'constant' in scheme;

/** The standard deviation of the scheme's draws (a constant's: its noise, 0 without). */
export function initStd(scheme: InitScheme, fanIn: number): number {
  if (scheme === 'xavier') return Math.sqrt(1 / fanIn);
  if (scheme === 'he') return Math.sqrt(2 / fanIn);
  if (isConstant(scheme)) return scheme.noise ?? 0;
  return scheme.std;
}

export function initLabel(scheme: InitScheme): string {
  if (typeof scheme === 'string') return scheme;
  if (isConstant(scheme)) return `const=${scheme.constant}${scheme.noise ? `+N(0,${scheme.noise}^2)` : ''}`;
  return `std=${scheme.std}`;
}

/** A fanIn x fanOut weight matrix, row-major, drawn from the scheme (a constant without noise draws nothing). */
export function initWeights(scheme: InitScheme, fanIn: number, fanOut: number, rng: Rng): Float32Array {
  if (!isConstant(scheme)) return rng.normalArray(fanIn * fanOut, initStd(scheme, fanIn));
  const w = scheme.noise ? rng.normalArray(fanIn * fanOut, scheme.noise) : new Float32Array(fanIn * fanOut);
  for (let i = 0; i < w.length; i++) w[i] = w[i]! + scheme.constant;
  return w;
}
