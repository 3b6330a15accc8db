/**
 * When a difference between two nets is real: the one rule every comparing claim of the suite
 * uses (docs/STUDIES.md, "Verdicts and when a difference is real", gives the rule and its reasons).
 *
 * The evidence comes in one of three forms:
 *   - one run, two accuracies on the same n test images, with the discordant counts (images
 *     only A gets right, images only B gets right): McNemar's exact test, real when the
 *     two-sided p-value is below 0.05;
 *   - one run, two accuracies on the same n images, without discordant counts: real when the
 *     difference exceeds 2 standard errors of a difference of two binomial proportions,
 *     sqrt((pA(1-pA) + pB(1-pB)) / n). Ignoring the pairing makes this stricter than McNemar
 *     (two nets' errors on shared images are positively correlated), never looser;
 *     A difference of sums of accuracies on independent counts (two nets' train-test gaps)
 *     is judged the same way, its standard error summed over its parts;
 *   - paired values: one pair per seed, or one pair per shared training batch of one run (two
 *     nets trained on the same batches, their losses on each). Real when the 95% t-interval of
 *     the mean paired difference excludes 0. Consecutive batches' differences are correlated,
 *     so batch pairs are first averaged in BATCH_BLOCKS consecutive blocks and the interval is
 *     taken over the block means (a batch-means interval); seed pairs are used as they are.
 *
 * `judgeDifference` turns the evidence and the claim's predicted direction into a verdict:
 * a real difference the claim predicts holds, a real difference against it FAILS, and a
 * difference within the noise is inconclusive (unless the claim only says "at least", which a
 * difference within the noise does not contradict).
 */
import type { Verdict } from './results/schema.js';

/** Two-sided level of every test here. */
export const ALPHA = 0.05;
/** Multiple of the binomial standard error a single run's accuracy difference must exceed. */
export const BINOMIAL_SE_MULTIPLE = 2;
/** Paired batch values are averaged in this many consecutive blocks before the t-interval. */
export const BATCH_BLOCKS = 10;

export interface AccuracyEvidence {
  kind: 'accuracy';
  /** Test images both accuracies were measured on. */
  n: number;
  a: number;
  b: number;
  /** Images A classifies correctly and B does not, and the reverse (both or neither). */
  aOnly?: number;
  bOnly?: number;
}

export interface PairedEvidence {
  kind: 'paired';
  /** What one pair is: a seed (independent runs), or a shared batch of one run. */
  unit: 'seed' | 'batch';
  a: number[];
  b: number[];
}

/**
 * One run, a difference of sums of accuracies measured on independent counts (e.g. two nets'
 * train-test gaps: train on 300 images, test on 10,000): judged like an accuracy difference
 * without discordant counts, by 2 standard errors sqrt(sum p(1-p)/n) over its parts.
 */
export interface BinomialEvidence {
  kind: 'binomial';
  difference: number;
  parts: { p: number; n: number }[];
}

export type Evidence = AccuracyEvidence | PairedEvidence | BinomialEvidence;

export interface Difference {
  /** a - b (for paired values, the mean of the paired differences). */
  difference: number;
  real: boolean;
  /** The test that decided, in words, with its statistic. */
  test: string;
}

/** Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom. */
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

/** t quantile for a 95% two-sided interval; past 30 degrees of freedom, the Cornish-Fisher first term. */
export function tQuantile975(df: number): number {
  if (!(df >= 1)) throw new Error(`degrees of freedom must be at least 1, got ${df}`);
  if (df <= 30) return T975[Math.floor(df) - 1]!;
  const z = 1.959964;
  return z + (z ** 3 + z) / (4 * df);
}

/** Two-sided exact binomial p-value of k successes in n trials at p = 1/2 (McNemar's exact test). */
export function mcnemarExactP(aOnly: number, bOnly: number): number {
  const n = aOnly + bOnly;
  if (n === 0) return 1;
  const k = Math.min(aOnly, bOnly);
  // P(X <= k) for X ~ Bin(n, 1/2), summed in log space (n can be thousands).
  let logTerm = -n * Math.LN2; // log C(n,0) / 2^n
  let tail = Math.exp(logTerm);
  for (let i = 1; i <= k; i++) {
    logTerm += Math.log((n - i + 1) / i);
    tail += Math.exp(logTerm);
  }
  return Math.min(1, 2 * tail);
}

function blockMeans(values: number[], blocks: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < blocks; b++) {
    const from = Math.floor((b * values.length) / blocks);
    const to = Math.floor(((b + 1) * values.length) / blocks);
    if (to > from) out.push(values.slice(from, to).reduce((s, v) => s + v, 0) / (to - from));
  }
  return out;
}

function pairedDifference(e: PairedEvidence): Difference {
  if (e.a.length !== e.b.length) throw new Error(`paired values differ in length: ${e.a.length} and ${e.b.length}`);
  if (e.a.length === 0) throw new Error('no paired values');
  const diffs = e.a.map((x, i) => x - e.b[i]!);
  const d = e.unit === 'batch' ? blockMeans(diffs, BATCH_BLOCKS) : diffs;
  const n = d.length;
  const mean = d.reduce((s, v) => s + v, 0) / n;
  if (n < 2) return { difference: mean, real: false, test: `one ${e.unit} pair: no interval` };
  const sd = Math.sqrt(d.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  const half = tQuantile975(n - 1) * (sd / Math.sqrt(n));
  const what = e.unit === 'batch' ? `${n} block means of ${diffs.length} shared batches` : `${n} seeds`;
  // A difference at the level of float rounding is none, even when the pairs agree exactly.
  const rounding = 1e-12 * Math.max(...e.a.map(Math.abs), ...e.b.map(Math.abs));
  return {
    difference: mean,
    real: Math.abs(mean) > Math.max(half, rounding),
    test: `paired 95% t-interval over ${what}: ${fmt(mean)} +- ${fmt(half)}`,
  };
}

function accuracyDifference(e: AccuracyEvidence): Difference {
  const difference = e.a - e.b;
  if (e.aOnly !== undefined && e.bOnly !== undefined) {
    const p = mcnemarExactP(e.aOnly, e.bOnly);
    return { difference, real: p < ALPHA, test: `McNemar exact: ${e.aOnly} vs ${e.bOnly} discordant images, p = ${fmt(p)}` };
  }
  return binomialDifference({ kind: 'binomial', difference, parts: [{ p: e.a, n: e.n }, { p: e.b, n: e.n }] }, `on ${e.n} images`);
}

function binomialDifference(e: BinomialEvidence, on = `over ${e.parts.map((x) => x.n).join(' + ')} images`): Difference {
  const se = Math.sqrt(e.parts.reduce((s, x) => s + (x.p * (1 - x.p)) / x.n, 0));
  const bound = BINOMIAL_SE_MULTIPLE * se;
  return {
    difference: e.difference,
    real: Math.abs(e.difference) > bound,
    test: `|difference| ${fmt(Math.abs(e.difference))} vs ${BINOMIAL_SE_MULTIPLE} binomial SE ${fmt(bound)} ${on}`,
  };
}

/** Whether the difference a - b is real under the suite's rule. */
export function realDifference(e: Evidence): Difference {
  return e.kind === 'paired' ? pairedDifference(e) : e.kind === 'binomial' ? binomialDifference(e) : accuracyDifference(e);
}

/**
 * What a claim predicts about a - b: 'higher' (a > b), 'lower' (a < b), or 'notLower' /
 * 'notHigher' (a >= b, a <= b: only a real difference the other way contradicts them).
 */
export type Expectation = 'higher' | 'lower' | 'notLower' | 'notHigher';

export interface DifferenceVerdict {
  verdict: Verdict;
  reason?: string;
  difference: Difference;
}

export function judgeDifference(expect: Expectation, e: Evidence): DifferenceVerdict {
  const d = realDifference(e);
  const up = d.difference > 0;
  if (expect === 'notLower' || expect === 'notHigher') {
    const against = d.real && (expect === 'notLower' ? !up : up);
    return { verdict: against ? 'FAILS' : 'holds', difference: d };
  }
  if (!d.real) return { verdict: 'inconclusive', reason: `the difference is within the noise (${d.test})`, difference: d };
  return { verdict: (expect === 'higher') === up ? 'holds' : 'FAILS', difference: d };
}

function fmt(x: number): string {
  const a = Math.abs(x);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? x.toExponential(2) : String(Number(x.toPrecision(3)));
}
