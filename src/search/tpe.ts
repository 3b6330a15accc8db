/**
 * A tree-structured Parzen estimator (TPE), the algorithm behind Hyperopt: Bayesian
 * hyperparameter search that models where good trials lie rather than the score itself.
 *
 * Every hyperparameter is handled as a position u in [0, 1] on its own axis (src/search/
 * sampling.ts: a rate's position is evenly spaced in log10, a width's in log2), so "near" means
 * near on the scale the search samples on. Given the trials so far (positions and scores,
 * higher better):
 *
 *   1. While fewer than n0 trials have a score, draw uniformly (a random search).
 *   2. Split the trials at the gamma quantile of the score: the best ceil(gamma * n) are "good",
 *      the rest "bad" (ties keep the earlier trial first; a failed trial scores -Infinity).
 *   3. Fit a Parzen (kernel) density to the good positions, l(u), and one to the bad, g(u):
 *      per hyperparameter independently (the "tree" of Hyperopt; here a flat one, every
 *      hyperparameter always present), their product over the axes.
 *   4. Draw `candidates` points from l and take the one with the highest l(u) / g(u), the
 *      point most likely to be good rather than bad (maximizing expected improvement under
 *      this model, Bergstra et al. 2011).
 *
 * The 1-D density (the bandwidth rule, after Hyperopt's adaptive Parzen estimator): a mixture
 * of normals truncated to [0, 1], one per point at the point, plus a prior component at the
 * centre 0.5 with sigma 1 (the whole axis) and weight `priorWeight` against 1 for each point.
 * Each point's sigma is the larger of its distances to its two neighbours in the sorted list
 * of the points and the prior's centre (the outermost measure to the ends 0 and 1), clipped
 * to [1 / min(100, n + 1), 1] for n points: wide where points are sparse, narrow where they
 * crowd, never a spike. No old trials are down-weighted (Hyperopt forgets beyond 25; our
 * searches are at most a few dozen trials).
 */
import type { Rng } from '../rng.js';

/** The constants of the estimator; TPE_CONSTANTS gives the values the suite uses. */
export interface TpeConstants {
  /** Random trials before the model is used (and the fewest scored trials it needs). */
  n0: number;
  /** Share of the trials counted as good. */
  gamma: number;
  /** Points drawn from the good density per suggestion. */
  candidates: number;
  /** Weight of the prior component against 1 for each point. */
  priorWeight: number;
}

/**
 * Hyperopt's gamma (0.25), candidate count (24) and prior weight (1). n0 = 8 instead of
 * Hyperopt's 20: with 20 random starts a 16-trial budget would be random search alone; 8 leaves
 * half of it to the model while still seeing a few trials per good/bad side (2 good of 8).
 */
export const TPE_CONSTANTS: TpeConstants = { n0: 8, gamma: 0.25, candidates: 24, priorWeight: 1 };

/** A trial as the estimator sees it: its position on each axis and its score (higher better). */
export interface Observation {
  position: number[];
  /** -Infinity (or NaN) for a failed trial: always bad. */
  score: number;
}

/** A truncated-normal mixture on [0, 1]. */
export interface Parzen {
  means: number[];
  sigmas: number[];
  /** Normalized to sum 1. */
  weights: number[];
}

/** The prior component: the axis's centre, sigma the whole axis. */
const PRIOR_MEAN = 0.5;
const PRIOR_SIGMA = 1;

export function checkConstants(c: TpeConstants): void {
  if (!Number.isInteger(c.n0) || c.n0 < 1) throw new RangeError(`TPE needs n0 >= 1, got ${c.n0}`);
  if (!(c.gamma > 0 && c.gamma < 1)) throw new RangeError(`TPE needs 0 < gamma < 1, got ${c.gamma}`);
  if (!Number.isInteger(c.candidates) || c.candidates < 1) throw new RangeError(`TPE needs candidates >= 1, got ${c.candidates}`);
  if (!(c.priorWeight > 0 && Number.isFinite(c.priorWeight))) throw new RangeError(`TPE needs a positive prior weight, got ${c.priorWeight}`);
}

const scoreOf = (o: Observation): number => (Number.isNaN(o.score) ? -Infinity : o.score);

/** The good and bad trials: the best ceil(gamma * n) (at least 1) and the rest; ties keep the earlier first. */
export function splitTrials(obs: Observation[], gamma: number): { good: Observation[]; bad: Observation[] } {
  const order = obs.map((_, i) => i);
  // -Infinity - -Infinity is NaN: such pairs fall back to the index order.
  order.sort((a, b) => {
    const d = scoreOf(obs[b]!) - scoreOf(obs[a]!);
    return Number.isNaN(d) || d === 0 ? a - b : d;
  });
  const nGood = Math.min(obs.length, Math.max(1, Math.ceil(gamma * obs.length)));
  return { good: order.slice(0, nGood).map((i) => obs[i]!), bad: order.slice(nGood).map((i) => obs[i]!) };
}

/** The adaptive Parzen density of points on [0, 1] (the bandwidth rule above). */
export function parzen(points: number[], priorWeight: number): Parzen {
  const n = points.length;
  const minSigma = 1 / Math.min(100, n + 1);
  // The points and the prior's centre, sorted; each point's sigma from its neighbours there.
  const all = [...points.map((u, i) => ({ u, i })), { u: PRIOR_MEAN, i: -1 }].sort((a, b) => a.u - b.u || a.i - b.i);
  const sigmas = new Array<number>(n).fill(0);
  all.forEach((p, k) => {
    if (p.i < 0) return;
    const left = k > 0 ? p.u - all[k - 1]!.u : p.u;
    const right = k < all.length - 1 ? all[k + 1]!.u - p.u : 1 - p.u;
    sigmas[p.i] = Math.min(PRIOR_SIGMA, Math.max(minSigma, left, right));
  });
  const total = n + priorWeight;
  return {
    means: [...points, PRIOR_MEAN],
    sigmas: [...sigmas, PRIOR_SIGMA],
    weights: [...points.map(() => 1 / total), priorWeight / total],
  };
}

/** The standard normal CDF (erf by Abramowitz and Stegun 7.1.26, error below 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/** The density of the mixture at u (each normal divided by its mass inside [0, 1]). */
export function density(p: Parzen, u: number): number {
  let s = 0;
  for (let k = 0; k < p.means.length; k++) {
    const m = p.means[k]!;
    const sd = p.sigmas[k]!;
    const mass = normalCdf((1 - m) / sd) - normalCdf(-m / sd);
    const z = (u - m) / sd;
    s += (p.weights[k]! * Math.exp(-0.5 * z * z)) / (sd * Math.sqrt(2 * Math.PI) * mass);
  }
  return s;
}

/** One draw from the mixture: a component by weight, then its normal, redrawn until inside [0, 1]. */
export function sampleParzen(p: Parzen, rng: Rng): number {
  let r = rng.uniform();
  let k = 0;
  while (k < p.weights.length - 1 && r >= p.weights[k]!) r -= p.weights[k++]!;
  // Every component keeps at least ~38% of its mass in [0, 1] (sigma <= 1, mean inside).
  for (;;) {
    const u = p.means[k]! + p.sigmas[k]! * rng.normal();
    if (u >= 0 && u <= 1) return u;
  }
}

/**
 * The next trial's position on `dims` axes. With fewer than n0 trials: a uniform draw.
 * Draws only from `rng`, so a search is a function of its seed and its trials' scores.
 */
export function suggest(obs: Observation[], dims: number, rng: Rng, c: TpeConstants): number[] {
  checkConstants(c);
  for (const o of obs) if (o.position.length !== dims) throw new RangeError(`an observation has ${o.position.length} positions, the search ${dims} axes`);
  if (obs.length < c.n0) return Array.from({ length: dims }, () => rng.uniform());
  const { good, bad } = splitTrials(obs, c.gamma);
  const l = Array.from({ length: dims }, (_, d) => parzen(good.map((o) => o.position[d]!), c.priorWeight));
  const g = Array.from({ length: dims }, (_, d) => parzen(bad.map((o) => o.position[d]!), c.priorWeight));
  let best: number[] = [];
  let bestRatio = -Infinity;
  for (let i = 0; i < c.candidates; i++) {
    const u = l.map((p) => sampleParzen(p, rng));
    // log l(u) - log g(u), the axes' densities multiplied (summed in log).
    let ratio = 0;
    for (let d = 0; d < dims; d++) ratio += Math.log(density(l[d]!, u[d]!)) - Math.log(density(g[d]!, u[d]!));
    if (ratio > bestRatio) {
      bestRatio = ratio;
      best = u;
    }
  }
  return best;
}
