/**
 * What every claim that compares methods checks first: that the nets it compares learned at
 * all. A comparison between nets at chance level says nothing about the lecture's point (a
 * run where dropout 0.5 left the net at 13% "narrows the gap" trivially), so such a claim
 * FAILS, with the reason among its numbers.
 *
 * "Learned at all", for 10 classes: accuracy above 0.2 (twice chance; a net that predicts one
 * class scores the majority share, about 0.11 on MNIST), or a loss below 0.9 ln 10 (ln 10 =
 * 2.303 is the loss of a uniform guess; a net that barely moved stays within 10% of it).
 */
import type { ClaimCheck } from './study.js';

export const CHANCE_LOSS = Math.log(10);
export const LEARNED_ACCURACY_ABOVE = 0.2;
export const LEARNED_LOSS_BELOW = 0.9 * CHANCE_LOSS;

/** Why each net did not learn ("sgd: final loss 2.30 >= 2.07"); empty when all did. */
export function notLearned(nets: Record<string, { accuracy?: number | null; loss?: number | null }>): string[] {
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

/** A comparing claim: FAILS, saying why, when a net it compares did not learn; else as checked. */
export function comparing(claim: ClaimCheck, nets: Record<string, { accuracy?: number | null; loss?: number | null }>): ClaimCheck {
  const reasons = notLearned(nets);
  if (reasons.length === 0) return claim;
  return { ...claim, holds: false, numbers: { ...claim.numbers, didNotLearn: reasons } };
}
