/**
 * Verdict helpers every study's claims use.
 *
 * The did-not-learn rule: a comparison between nets at chance level says nothing about the
 * lecture's point (a run where dropout 0.5 left the net at 13% "narrows the gap" trivially), so
 * when a net the claim *needs to learn* did not, the run cannot decide and the claim is
 * inconclusive, with the reason. Only those nets are checked: a claim that predicts a net
 * learns slowest or not at all (sigmoid's highest loss, std=0.01 stuck near ln 10) is judged
 * on that prediction, and the net it predicts to be stuck is not passed here.
 *
 * "Learned at all", for 10 classes: accuracy above 0.2 (twice chance; a net that predicts one
 * class scores the majority share, about 0.11 on MNIST), or a loss below 0.9 ln 10 (ln 10 =
 * 2.303 is the loss of a uniform guess; a net that barely moved stays within 10% of it).
 */
import { judgeDifference, type DifferenceVerdict, type Expectation, type PairedEvidence } from './difference.js';
import type { Verdict } from './results/schema.js';
import type { ClaimCheck } from './study.js';

export const CHANCE_LOSS = Math.log(10);
export const LEARNED_ACCURACY_ABOVE = 0.2;
export const LEARNED_LOSS_BELOW = 0.9 * CHANCE_LOSS;

export type NetOutcome = { accuracy?: number | null; loss?: number | null };

/** A yes/no check's verdict. */
export function verdictOf(holds: boolean): Verdict {
  return holds ? 'holds' : 'FAILS';
}

/** Why each net did not learn ("sgd: final loss 2.30 >= 2.07"); empty when all did. */
export function notLearned(nets: Record<string, NetOutcome>): string[] {
  const out: string[] = [];
  for (const [name, n] of Object.entries(nets)) {
    if (n.accuracy !== undefined) {
      if (n.accuracy === null || !(n.accuracy > LEARNED_ACCURACY_ABOVE)) out.push(`${name}: accuracy ${n.accuracy === null ? 'none' : n.accuracy.toFixed(3)} <= ${LEARNED_ACCURACY_ABOVE}`);
    } else if (n.loss !== undefined) {
      if (n.loss === null || !(n.loss < LEARNED_LOSS_BELOW)) out.push(`${name}: final loss ${n.loss === null ? 'none (diverged)' : n.loss.toFixed(3)} >= ${LEARNED_LOSS_BELOW.toFixed(3)}`);
    }
  }
  return out;
}

/**
 * A comparing claim: inconclusive, saying why, when a net in `mustLearn` (the nets the claim
 * needs to have learned) did not; else as checked.
 */
export function comparing(claim: ClaimCheck, mustLearn: Record<string, NetOutcome>): ClaimCheck {
  const reasons = notLearned(mustLearn);
  if (reasons.length === 0) return claim;
  return { ...claim, verdict: 'inconclusive', reason: `a net the claim needs to learn did not (${reasons.join('; ')})`, numbers: { ...claim.numbers, didNotLearn: reasons } };
}

/** A claim's verdict, reason and numbers from the suite's rule of real differences (src/difference.ts). */
export function byDifference(dv: DifferenceVerdict): Pick<ClaimCheck, 'verdict' | 'reason'> & { test: string } {
  return { verdict: dv.verdict, ...(dv.reason ? { reason: dv.reason } : {}), test: dv.difference.test };
}

/** The worse of two verdicts: FAILS over inconclusive over holds (a claim of several parts). */
export function worst(...vs: Verdict[]): Verdict {
  return vs.includes('FAILS') ? 'FAILS' : vs.includes('inconclusive') ? 'inconclusive' : 'holds';
}

/**
 * Two nets trained on the same batches, compared by their loss on each of the last `tail`
 * batches (the window their "final loss" averages): the paired evidence of src/difference.ts.
 * Null when either curve has no value there (a diverged net).
 */
export function tailPairs(a: readonly (number | null)[], b: readonly (number | null)[], tail: number): PairedEvidence | null {
  const n = Math.min(a.length, b.length, tail);
  const xa = a.slice(a.length - n);
  const xb = b.slice(b.length - n);
  if (n === 0 || xa.some((v) => v === null || !Number.isFinite(v)) || xb.some((v) => v === null || !Number.isFinite(v))) return null;
  return { kind: 'paired', unit: 'batch', a: xa as number[], b: xb as number[] };
}

/**
 * A loss comparison of two nets on shared batches under the rule of real differences: the
 * verdict, its reason and the test's line. A missing curve (diverged) makes it inconclusive.
 */
export function lossDifference(expect: Expectation, a: readonly (number | null)[] | undefined, b: readonly (number | null)[] | undefined, tail: number): { verdict: Verdict; reason?: string; test: string } {
  const pairs = a && b ? tailPairs(a, b, tail) : null;
  if (!pairs) return { verdict: 'inconclusive', reason: 'a curve has no loss in the final window (diverged or missing)', test: 'none' };
  return byDifference(judgeDifference(expect, pairs));
}

/** Several sub-comparisons of one claim: the worst verdict, the reasons of those that decided it, each test by name. */
export function allOf(parts: Record<string, { verdict: Verdict; reason?: string; test: string }>): { verdict: Verdict; reason?: string; tests: Record<string, string> } {
  const entries = Object.entries(parts);
  const verdict = worst(...entries.map(([, p]) => p.verdict));
  const reasons = entries.filter(([, p]) => p.verdict === verdict && p.reason).map(([k, p]) => `${k}: ${p.reason}`);
  return { verdict, ...(verdict !== 'holds' && reasons.length ? { reason: reasons.join('; ') } : {}), tests: Object.fromEntries(entries.map(([k, p]) => [k, p.test])) };
}
