/**
 * Accuracy regression: the key numbers of a quick run (final losses, accuracies) against a
 * committed baseline, each with its tolerance written next to it in the baseline file.
 *
 * Tolerances: a run with the same seed on the same backend repeats exactly, so a tolerance
 * only has to absorb float rounding changes (a fused kernel, another summation order) that
 * compound over training. They are set so that such changes pass and a changed finding fails:
 *   - accuracies: +-0.05 absolute (chance is 0.1; the lecture's effects are 0.1 and more);
 *   - losses: +-(0.02 + 15% of the baseline) (S4's He vs Xavier differ by about 30%).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from './errors.js';
import { writeFileAtomic } from './store/atomic.js';
import type { StudyResult, Verdict } from './results/schema.js';
import { typedResult, type AnyStudy, type KeyNumber } from './study.js';

export const BASELINE_DIR = join('results', 'baselines', 'quick');
export const BASELINE_SEED = 0;

/**
 * Where a backend's baselines live: wasm's (and cpu's, which match them) in BASELINE_DIR,
 * tensorflow's in a folder of its own: its kernels round differently, and two claims that sit
 * near their thresholds at quick scale get other verdicts there.
 */
export function baselineDirFor(backend: string): string {
  return backend === 'tensorflow' ? join(BASELINE_DIR, 'tensorflow') : BASELINE_DIR;
}

export const ACCURACY_TOLERANCE = 0.05;
export const LOSS_TOLERANCE_ABS = 0.02;
export const LOSS_TOLERANCE_REL = 0.15;

export interface Baseline {
  study: string;
  profile: 'quick';
  seed: number;
  backend: string;
  gitCommit: string | null;
  generatedAt: string;
  numbers: Record<string, KeyNumber>;
  /**
   * The verdict of every claim at quick scale. CI requires each claim to keep its verdict:
   * one recorded as FAILS (a finding of the lecture our run does not reproduce, or a claim the
   * quick profile is too short for) or inconclusive (the quick run cannot decide) is printed,
   * and must stay so; it changes only when the baseline is regenerated on purpose.
   */
  claims: Record<string, Verdict>;
}

function isAccuracy(key: string): boolean {
  return /acc/i.test(key);
}
function isLoss(key: string): boolean {
  return /loss/i.test(key);
}

export function defaultTolerance(key: string, value: number): number | null {
  if (isAccuracy(key)) return ACCURACY_TOLERANCE;
  if (isLoss(key)) return LOSS_TOLERANCE_ABS + LOSS_TOLERANCE_REL * Math.abs(value);
  return null;
}

/**
 * Per curve (optimizer, init, ...): its final loss with the loss tolerance (when it has one: a
 * diverged net has none) and its test accuracy with the accuracy tolerance.
 */
export function finalLossAndTestAccuracy(rows: Record<string, { finalLoss: number | null; testAccuracy: number }>): Record<string, KeyNumber> {
  const out: Record<string, KeyNumber> = {};
  for (const [name, row] of Object.entries(rows)) {
    if (row.finalLoss !== null && Number.isFinite(row.finalLoss)) out[`${name}.finalLoss`] = { value: row.finalLoss, tolerance: defaultTolerance('loss', row.finalLoss)! };
    out[`${name}.testAccuracy`] = { value: row.testAccuracy, tolerance: ACCURACY_TOLERANCE };
  }
  return out;
}

export function keyNumbersOf(study: AnyStudy, result: StudyResult): Record<string, KeyNumber> {
  const typed = typedResult(study, result);
  return study.keyNumbers(typed.runs[0]!, typed.config);
}

export function baselineFrom(study: AnyStudy, result: StudyResult): Baseline {
  return {
    study: study.name,
    profile: 'quick',
    seed: result.seeds[0]!,
    backend: result.environment.backend,
    gitCommit: result.environment.gitCommit,
    generatedAt: new Date().toISOString(),
    numbers: keyNumbersOf(study, result),
    claims: Object.fromEntries(result.claims.map((c) => [c.id, c.verdict])),
  };
}

/** Claims whose verdict differs from the baseline's (a claim missing from it must hold). */
export function claimChanges(baseline: Baseline, result: StudyResult): string[] {
  const out: string[] = [];
  for (const c of result.claims) {
    const before = baseline.claims?.[c.id] ?? 'holds';
    const now = c.verdict;
    if (before !== now) out.push(`${result.study}: claim ${c.id} ${now} (baseline: ${before}): ${c.text} -- ${c.reason ? `${c.reason} -- ` : ''}${JSON.stringify(c.numbers)}`);
  }
  for (const id of Object.keys(baseline.claims ?? {})) {
    if (!result.claims.some((c) => c.id === id)) out.push(`${result.study}: claim ${id} is in the baseline but no longer checked`);
  }
  return out;
}

export function baselinePath(study: string, dir = BASELINE_DIR): string {
  return join(dir, `${study}.json`);
}

export function writeBaseline(b: Baseline, dir = BASELINE_DIR): string {
  const path = baselinePath(b.study, dir);
  writeFileAtomic(path, JSON.stringify(b, null, 1) + '\n');
  return path;
}

export function readBaseline(study: string, dir = BASELINE_DIR): Baseline | null {
  const path = baselinePath(study, dir);
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Baseline;
  } catch {
    throw new UserError(`${path}: not valid JSON (regenerate with npm run baselines)`);
  }
}

export interface Drift {
  name: string;
  baseline: number | null;
  current: number | null;
  tolerance: number;
  /** How far beyond the tolerance (0 when within). */
  excess: number;
}

/** Every key number of the baseline checked against the current run; missing ones count as drifts. */
export function compareToBaseline(baseline: Baseline, current: Record<string, KeyNumber>): Drift[] {
  const drifts: Drift[] = [];
  for (const [name, b] of Object.entries(baseline.numbers)) {
    const c = current[name];
    if (!c) {
      drifts.push({ name, baseline: b.value, current: null, tolerance: b.tolerance, excess: Infinity });
      continue;
    }
    const excess = Math.abs(c.value - b.value) - b.tolerance;
    if (excess > 0) drifts.push({ name, baseline: b.value, current: c.value, tolerance: b.tolerance, excess });
  }
  for (const name of Object.keys(current)) {
    if (!(name in baseline.numbers)) drifts.push({ name, baseline: null, current: current[name]!.value, tolerance: 0, excess: Infinity });
  }
  return drifts;
}

const fmt = (x: number | null) => (x === null ? 'missing' : Number(x.toPrecision(4)).toString());

/** "sgd.finalLoss moved from 0.5646 to 0.7012 (+0.1366); tolerance 0.1047, exceeded by 0.0319" */
export function describeDrift(study: string, d: Drift): string {
  if (d.current === null) return `${study}: ${d.name} is in the baseline (${fmt(d.baseline)}) but the run no longer reports it`;
  if (d.baseline === null) return `${study}: ${d.name} = ${fmt(d.current)} is new: not in the baseline (run npm run baselines on purpose)`;
  const delta = d.current - d.baseline;
  return `${study}: ${d.name} moved from ${fmt(d.baseline)} to ${fmt(d.current)} (${delta >= 0 ? '+' : ''}${fmt(delta)}); tolerance ${fmt(d.tolerance)}, exceeded by ${fmt(d.excess)}`;
}
