/**
 * Studies declare their own flags as data (src/study.ts StudyFlag); here they become yargs
 * options with strict values (src/exec/plan.ts applies their parsed values to a study's config).
 */
import type { Options } from 'yargs';
import type { AnyStudy, StudyFlag } from '../study.js';
import { integerAtLeast, oneOf } from './args.js';

type AnyFlag = StudyFlag<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Every study flag as a yargs option; a name two studies share must mean the same kind of value. */
export function studyOptions(studies: AnyStudy[]): Record<string, Options> {
  const options: Record<string, Options> = {};
  const seen = new Map<string, { flag: AnyFlag; studies: string[] }>();
  for (const study of studies) {
    for (const flag of study.flags ?? []) {
      const known = seen.get(flag.name);
      if (known) {
        if (known.flag.kind !== flag.kind) throw new Error(`flag --${flag.name} is an ${known.flag.kind} for ${known.studies.join(', ')} but a ${flag.kind} for ${study.name}`);
        known.studies.push(study.name);
        continue;
      }
      seen.set(flag.name, { flag, studies: [study.name] });
      options[flag.name] =
        flag.kind === 'integer'
          ? { describe: flag.describe, type: 'string', coerce: integerAtLeast(flag.name, flag.min), group: 'Study options:' }
          : { describe: flag.describe, type: 'string', default: flag.default, coerce: oneOf(flag.name, flag.choices), group: 'Study options:' };
    }
  }
  return options;
}
