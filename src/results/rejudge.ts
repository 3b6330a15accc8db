/**
 * Re-judging a result file: its claims recomputed, with the current rules, from the series and
 * summaries it stores (no training). A rule or threshold that changes after a run is applied
 * to the committed results this way, so the report and the page never show a verdict the
 * current rules would not give. A study whose claims need a series the file does not have
 * (it was recorded before the series existed) cannot be re-judged: run it again.
 */
import type { ClaimCheck, AnyStudy } from '../study.js';
import { typedResult } from '../study.js';
import { asJson } from '../store/json.js';
import { combineClaims } from './aggregate.js';
import { ClaimsSchema, type Claim, type StudyResult } from './schema.js';

export interface Rejudged {
  result: StudyResult;
  /** One line per claim whose verdict changed, appeared or went away ("id: holds -> inconclusive (reason)"). */
  verdictChanges: string[];
  /** Whether anything in the claims changed (also their text or numbers). */
  changed: boolean;
}

export function rejudge(study: AnyStudy, result: StudyResult): Rejudged {
  const typed = typedResult(study, result);
  const perSeed = typed.runs.map((run) => ({ seed: run.seed, claims: asJson(study.claims({ series: run.series, summary: run.summary, timings: run.timings }, typed.config) as ClaimCheck[]) }));
  // Parsed as a result file's claims are read (the schema's key order), so that an unchanged claim compares equal.
  const claims: Claim[] = ClaimsSchema.parse(asJson(combineClaims(perSeed)));
  const verdictChanges: string[] = [];
  for (const c of claims) {
    const before = result.claims.find((x) => x.id === c.id);
    const why = c.reason ? ` (${c.reason})` : '';
    if (!before) verdictChanges.push(`${c.id}: new, ${c.verdict}${why}`);
    else if (before.verdict !== c.verdict) verdictChanges.push(`${c.id}: ${before.verdict} -> ${c.verdict}${why}`);
  }
  for (const b of result.claims) if (!claims.some((c) => c.id === b.id)) verdictChanges.push(`${b.id}: no longer checked (was ${b.verdict})`);
  const changed = JSON.stringify(claims) !== JSON.stringify(result.claims);
  return { result: { ...result, claims }, verdictChanges, changed };
}
