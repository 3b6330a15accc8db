/**
 * Weight initialisation as the lecture defines it: plain (not truncated) normal draws,
 * scaled by the fan-in n of the layer. How these scales keep activations alive is a lesson of
 * its own (the init studies).
 */
import type { Rng } from '../rng.js';

/** 'std=s' is N(0, s^2); Xavier is N(0, 1/n); He is N(0, 2/n). */
export type InitScheme = 'xavier' | 'he' | { std: number };

export function initStd(scheme: InitScheme, fanIn: number): number {
  if (scheme === 'xavier') return Math.sqrt(1 / fanIn);
  if (scheme === 'he') return Math.sqrt(2 / fanIn);
  return scheme.std;
}

export function initLabel(scheme: InitScheme): string {
  return typeof scheme === 'string' ? scheme : `std=${scheme.std}`;
}

/** A fanIn x fanOut weight matrix, row-major, drawn from the scheme. */
export function initWeights(scheme: InitScheme, fanIn: number, fanOut: number, rng: Rng): Float32Array {
  return rng.normalArray(fanIn * fanOut, initStd(scheme, fanIn));
}
