/**
 * Everything about an `experiment` run that can be checked before the backend is chosen and
 * any training starts: a mistake found after a 6-minute run is 6 minutes lost.
 */
import { checkJournalPath, checkNamedRun, checkOutDir, checkResultPath, checkSeedRange } from '../exec/checks.js';
import type { Profile } from '../results/schema.js';
import { journalPath } from '../exec/runner.js';
import type { AnyStudy } from '../study.js';

export interface PreflightArgs {
  out: string;
  profile: Profile;
  seed: number;
  seeds: number;
  /** Replace a named run's file even when this run differs from the one it holds. */
  force?: boolean;
}

export function checkRunInputs(plans: { study: AnyStudy; name: string | null; config: unknown }[], a: PreflightArgs): void {
  checkSeedRange(a.seed, a.seeds);
  checkOutDir(a.out);
  const seeds = Array.from({ length: a.seeds }, (_, k) => a.seed + k);
  for (const { study, name, config } of plans) {
    checkResultPath(a.out, study.name, a.profile, name);
    checkNamedRun(a.out, { study: study.name, profile: a.profile, name, config, seeds }, a.force === true);
    // A study with units keeps a journal per seed beside its result.
    if (study.units) for (let k = 0; k < a.seeds; k++) checkJournalPath(journalPath(a.out, study.name, a.profile, a.seed + k, name));
  }
}
