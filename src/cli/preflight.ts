/**
 * Everything about an `experiment` run that can be checked before the backend is chosen and
 * any training starts: a mistake found after a 6-minute run is 6 minutes lost.
 */
import { checkJournalPath, checkOutDir, checkResultPath, checkSeedRange } from '../checks.js';
import type { Profile } from '../results/schema.js';
import type { AnyStudy } from '../study.js';
import { journalPath } from '../../experiments/hyperparameter-search.js';

export interface PreflightArgs {
  out: string;
  profile: Profile;
  seed: number;
  seeds: number;
}

export function checkRunInputs(studies: AnyStudy[], a: PreflightArgs): void {
  checkSeedRange(a.seed, a.seeds);
  checkOutDir(a.out);
  for (const study of studies) {
    checkResultPath(a.out, study.name, a.profile);
    if (study.name === 'hyperparameter-search') {
      for (let k = 0; k < a.seeds; k++) checkJournalPath(journalPath(a.out, a.profile, a.seed + k));
    }
  }
}
