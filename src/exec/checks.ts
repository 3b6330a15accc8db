/**
 * Checks of a run's inputs that can be made before any work starts, each a small function
 * throwing a one-line UserError that says what is wrong and what to do. The CLI calls them
 * before choosing a backend (src/cli/preflight.ts); a runner may call them too.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import type { Profile } from '../results/schema.js';
import { configDiff } from '../config.js';
import { readResult, ensureWritableDir, resultFileName } from '../results/store.js';
import { canonicalJson } from '../store/json.js';

/** Seeds are used as uint32 (src/rng.ts: seed >>> 0): the largest one a run may use. */
export const MAX_SEED = 2 ** 32 - 1;

/** --seed S --seeds N uses S..S+N-1; each must fit in 32 bits, or two seeds would give one stream. */
export function checkSeedRange(seed: number, seeds: number): void {
  // BigInt: near 2^53 the sum is not exact in floating point.
  const last = BigInt(seed) + BigInt(seeds) - 1n;
  if (last > BigInt(MAX_SEED)) {
    const range = seeds > 1 ? `seeds ${seed}..${last}` : `seed ${seed}`;
    throw new UserError(
      `--seed ${seed}${seeds > 1 ? ` --seeds ${seeds}` : ''} asks for ${range}, but seeds are 32-bit: each must be 0..${MAX_SEED}` +
        ` (use --seed ${Math.max(0, MAX_SEED - seeds + 1)} or less)`,
    );
  }
}

/** A file the run will write (a result, a journal) must not be a folder already. */
export function checkNotAFolder(path: string, what: string): void {
  let isDir = false;
  try {
    isDir = existsSync(path) && statSync(path).isDirectory();
  } catch {
    return; // unreadable: the write will say why
  }
  if (isDir) throw new UserError(`${what} ${path} is a folder, not a file; move it away or choose another --out`);
}

/** The result file of a study in `outDir` can be written there (not a folder). */
export function checkResultPath(outDir: string, study: string, profile: Profile, name: string | null = null): string {
  const path = join(outDir, resultFileName(study, profile, name));
  checkNotAFolder(path, 'the result file');
  return path;
}

/** A journal path is a file or nothing yet. */
export function checkJournalPath(path: string): void {
  checkNotAFolder(path, 'journal');
}

/** The out folder exists (made if missing) and takes a real trial write (create, write, fsync, remove). */
export function checkOutDir(dir: string): void {
  ensureWritableDir(dir);
}

/** What a named run would replace: its config, profile and seeds. */
export interface NamedRun {
  study: string;
  profile: Profile;
  name: string | null;
  config: unknown;
  seeds: number[];
}

/**
 * A named run (runs/<study>.<name>.json) never replaces another run silently. The same run
 * again (same config, profile and seeds: a rerun after a code change, or one that was cut
 * short) replaces its file, as a profile's result is replaced; a run that differs in any of
 * these is refused unless `force`, so a second what-if under a name already used does not
 * erase the first one's numbers.
 */
export function checkNamedRun(outDir: string, run: NamedRun, force: boolean): void {
  if (run.name === null || force) return;
  const path = join(outDir, resultFileName(run.study, run.profile, run.name));
  if (!existsSync(path) || statSync(path).isDirectory()) return; // a folder: checkResultPath says so
  const choose = `give another --name for a new run, or --force to replace it`;
  let earlier: ReturnType<typeof readResult>;
  try {
    earlier = readResult(path);
  } catch (err) {
    throw new UserError(`run '${run.name}' would replace ${path}, which is not a result this suite reads (${(err as Error).message.replace(`${path}: `, '')}): ${choose}`);
  }
  const changes = Object.entries(configDiff(earlier.config, run.config)).map(([k, [was, now]]) => `${k} ${JSON.stringify(was)} -> ${JSON.stringify(now)}`);
  const differences = [
    ...(canonicalJson(earlier.config) !== canonicalJson(run.config) ? [`config ${changes.slice(0, 3).join(', ')}${changes.length > 3 ? ', ...' : ''}`] : []),
    ...(earlier.profile !== run.profile ? [`profile ${earlier.profile} -> ${run.profile}`] : []),
    ...(earlier.seeds.join(',') !== run.seeds.join(',') ? [`seeds ${earlier.seeds.join(',')} -> ${run.seeds.join(',')}`] : []),
  ];
  if (differences.length === 0) return;
  throw new UserError(`run '${run.name}' of ${run.study} already exists in ${path} and this run differs (${differences.join('; ')}): ${choose}`);
}
