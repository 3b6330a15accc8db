/**
 * Combining the runs of several seeds: numbers in the summaries become {mean, std, min, max}
 * (std with n-1), and a claim's verdict over seeds: FAILS when it fails in any seed, holds when
 * it holds in every seed, inconclusive otherwise (some seed could not decide).
 */
import type { ClaimCheck } from '../study.js';
import { worst } from '../claims.js';
import type { Claim } from './schema.js';

export interface Spread {
  mean: number;
  std: number;
  min: number;
  max: number;
  n: number;
}

export function spread(values: number[]): Spread {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, std: Math.sqrt(variance), min: Math.min(...values), max: Math.max(...values), n };
}

/**
 * Walks same-shaped summaries; numbers become a Spread (arrays element by element, e.g. a
 * per-layer list), other leaves keep the first seed's value.
 */
export function aggregateSummaries(summaries: unknown[]): unknown {
  const first = summaries[0];
  if (summaries.length === 1) return first;
  if (typeof first === 'number') {
    const nums = summaries.filter((s): s is number => typeof s === 'number' && Number.isFinite(s));
    return nums.length === 0 ? null : spread(nums);
  }
  if (Array.isArray(first)) {
    const sameLength = summaries.every((s) => Array.isArray(s) && s.length === first.length);
    return sameLength ? first.map((_, i) => aggregateSummaries(summaries.map((s) => (s as unknown[])[i]))) : first;
  }
  if (first !== null && typeof first === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(first)) out[key] = aggregateSummaries(summaries.map((s) => (s as Record<string, unknown>)?.[key]));
    return out;
  }
  return first;
}

/** Claims of every seed merged by id. */
export function combineClaims(perSeed: { seed: number; claims: ClaimCheck[] }[]): Claim[] {
  if (perSeed.length === 1) return perSeed[0]!.claims.map((c) => ({ ...c }));
  const base = perSeed[0]!.claims;
  return base.map((c) => {
    const each = perSeed.map(({ seed, claims }) => {
      const mine = claims.find((x) => x.id === c.id);
      return { seed, verdict: mine?.verdict ?? ('FAILS' as const), ...(mine?.reason ? { reason: mine.reason } : {}), numbers: mine?.numbers ?? {} };
    });
    const held = each.filter((e) => e.verdict === 'holds').length;
    const verdict = worst(...each.map((e) => e.verdict));
    const undecided = each.filter((e) => e.verdict === 'inconclusive').map((e) => `seed ${e.seed}: ${e.reason ?? 'inconclusive'}`);
    return {
      id: c.id,
      text: c.text,
      verdict,
      ...(verdict === 'inconclusive' ? { reason: undecided.join('; ') } : {}),
      numbers: { ...(aggregateSummaries(each.map((e) => e.numbers)) as Record<string, unknown>), seedsHolding: `${held}/${each.length}` },
      perSeed: each,
    };
  });
}
