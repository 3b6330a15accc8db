/**
 * Planning a command's runs: what each study runs with (its config, and whether and under which
 * name that differs from its profile), the run description every runner takes, and the order
 * parallel work starts in (longest expected work first, by the committed lecture timings).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { applyChanges, changesHash, configDiff } from '../config.js';
import { UserError } from '../errors.js';
import type { Profile } from '../results/schema.js';
import { resultFileName } from '../results/store.js';
import type { AnyStudy, StudyFlag, StudyRead } from '../study.js';

/** What one study runs with: its config, and whether (and under which name) that differs from the profile. */
export interface RunPlan {
  study: AnyStudy;
  /** The study's config: a profile's, with the study's flags and the user's changes applied. */
  config: object;
  /** Set when the config differs from the profile's: the run is stored under this name (runs/<study>.<name>.json). */
  name: string | null;
  /** What differs from the profile's config (see configDiff). */
  overrides: Record<string, [unknown, unknown]>;
}

/** How a command runs its studies: the same for every study it runs. */
export interface RunSettings {
  profile: Profile;
  /** First seed; seeds > 1 runs seed, seed+1, ..., seed+seeds-1. */
  seed: number;
  seeds: number;
  /** Continue the journal of an interrupted run; or discard it and start over. */
  resume: boolean;
  fresh: boolean;
  outDir: string;
  mnistDir: string;
}

/** One run of one study: the description every runner takes (in this process or a worker's). */
export interface RunDescription extends RunPlan, RunSettings {}

/** A run description as it crosses to a worker process: the study by name. */
export type RunMessage = Omit<RunDescription, 'study'> & { study: string };

export const toMessage = ({ study, ...rest }: RunDescription): RunMessage => ({ ...rest, study: study.name });

/** The seeds of a run, in order. */
export const seedsOf = (s: Pick<RunSettings, 'seed' | 'seeds'>): number[] => Array.from({ length: s.seeds }, (_, k) => s.seed + k);

/** A profile's config with the study's flags applied (a flag left unset keeps the profile's value). */
export function configFromFlags<C extends object>(study: AnyStudy, profile: Profile, values: Record<string, unknown>): C {
  let config = study.profiles[profile] as C;
  for (const flag of (study.flags ?? []) as StudyFlag<C>[]) {
    const value = values[flag.name];
    if (value === undefined) continue;
    if (flag.kind === 'integer') {
      if (typeof value !== 'number') throw new UserError(`--${flag.name} must be a whole number, got '${String(value)}'`);
      config = flag.apply(config, value);
    } else {
      config = flag.apply(config, String(value));
    }
  }
  return config;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,47}$/;

/** What planRuns reads of a command's flags: the profile, the user's changes, a run name, and the studies' own flags. */
export type PlanFlags = { profile: Profile; set?: string[]; config?: string; name?: string } & Record<string, unknown>;

/**
 * The config each study runs with: the profile's, its flags, then the user's file and --set
 * changes, each checked against the study's schema. A config that differs from its profile
 * is a named run (runs/<study>.<name>.json), so it never overwrites the profile's result.
 */
export function planRuns(studies: AnyStudy[], a: PlanFlags): RunPlan[] {
  const sets = a.set ?? [];
  if ((sets.length > 0 || a.config) && studies.length !== 1) throw new UserError(`--set and --config change one study's config: name one study (got ${studies.length})`);
  if (a.name !== undefined && (!NAME.test(a.name) || a.name === 'quick' || a.name === 'lecture')) {
    throw new UserError(`--name must be letters, digits, - or _ (at most 48, not 'lecture' or 'quick'); got '${a.name}'`);
  }
  return studies.map((study) => {
    const flagged = configFromFlags<object>(study, a.profile, a);
    const config = applyChanges(study.configSchema, flagged, { file: a.config, sets });
    const overrides = configDiff(study.profiles[a.profile], config);
    const changed = Object.keys(overrides).length > 0;
    const name = a.name ?? (changed ? `${a.profile}-${changesHash(overrides)}` : null);
    return { study, config, name, overrides };
  });
}

/** The committed lecture results, where the order of `all` comes from. */
export const COMMITTED = join(import.meta.dirname, '..', '..', 'results');

/**
 * Each study's work as its committed lecture result recorded it (ms; its wall time in files
 * without it; with `perSeed`, per seed). A study without one (new) counts as the longest: it
 * may be long, and starting it late could leave a worker idle.
 */
export function expectedDurations(studies: AnyStudy[], dir = COMMITTED, perSeed = false): Map<string, number> {
  const duration = (s: AnyStudy): number => {
    const path = join(dir, resultFileName(s.name, 'lecture'));
    if (!existsSync(path)) return Infinity;
    try {
      const r = JSON.parse(readFileSync(path, 'utf8')) as { durationMs?: unknown; runs?: { timings?: { workMs?: unknown } }[] };
      const work = r.runs?.map((run) => run.timings?.workMs);
      const per = perSeed ? Math.max(1, r.runs?.length ?? 1) : 1;
      if (work && work.length > 0 && work.every((w) => typeof w === 'number')) return (work as number[]).reduce((a, b) => a + b, 0) / per;
      return typeof r.durationMs === 'number' ? r.durationMs / per : Infinity;
    } catch {
      return Infinity;
    }
  };
  return new Map(studies.map((s) => [s.name, duration(s)]));
}

/** Longest expected work first, so parallel workers finish close together. */
export function longestFirst<T extends { study: AnyStudy }>(items: T[], durations: Map<string, number>): T[] {
  return [...items].sort((a, b) => durations.get(b.study.name)! - durations.get(a.study.name)!);
}

/** The plan of this command that writes the result file `read` names, if any. */
function writerOf(plans: RunPlan[], read: StudyRead<object>, config: object, s: Pick<RunSettings, 'profile' | 'outDir'>): RunPlan | undefined {
  if (read.profile !== s.profile) return undefined;
  const wanted = resolve(read.path(config));
  return plans.find((w) => w.study.name === read.study && w.name === null && resolve(join(s.outDir, resultFileName(w.study.name, s.profile))) === wanted);
}

/**
 * For each plan, the plans of this command whose results it reads (they must finish first). A
 * read this command does not write must exist already: otherwise one line says what to run
 * first. A sharded run writes results only at its merge, so it reads the file as it is before
 * the run (`notes` says so) and refuses if there is none.
 */
export function readsOf(plans: RunPlan[], s: Pick<RunSettings, 'profile' | 'outDir'>, sharded = false): { writers: Map<RunPlan, RunPlan[]>; notes: string[] } {
  const writers = new Map<RunPlan, RunPlan[]>();
  const notes: string[] = [];
  for (const p of plans) {
    const mine: RunPlan[] = [];
    for (const read of (p.study.reads ?? []) as StudyRead<object>[]) {
      const path = read.path(p.config);
      const writer = writerOf(plans, read, p.config, s);
      const make = `npm run experiment -- ${read.study}${read.profile === 'lecture' ? '' : ` --profile ${read.profile}`}`;
      if (!existsSync(path) && !(writer && !sharded)) {
        const when = writer ? ', and this sharded run writes it only at its merge' : '';
        throw new UserError(`${p.study.id} ${p.study.name} reads ${read.study}'s ${read.profile} result at ${path}, which does not exist${when}: make it first (${make}) or point the config at one`);
      }
      if (writer && sharded) notes.push(`${p.study.name} reads ${path} as it is before this run (this run's own ${read.study} result is written at the merge)`);
      else if (writer) mine.push(writer);
    }
    writers.set(p, mine);
  }
  return { writers, notes };
}

/** Plans in an order where every study comes after those whose results it reads (otherwise as given). */
export function writersFirst(plans: RunPlan[], reads: Map<RunPlan, RunPlan[]>): RunPlan[] {
  const done = new Set<RunPlan>();
  const out: RunPlan[] = [];
  const visit = (p: RunPlan, path: RunPlan[]): void => {
    if (done.has(p)) return;
    if (path.includes(p)) throw new UserError(`studies read each other's results in a circle: ${[...path, p].map((x) => x.study.name).join(' -> ')}`);
    for (const w of reads.get(p) ?? []) visit(w, [...path, p]);
    done.add(p);
    out.push(p);
  };
  for (const p of plans) visit(p, []);
  return out;
}
