/**
 * Shards: one run split over machines that share nothing (a Kubernetes Indexed Job, a Slurm
 * array, a CI matrix), each told only its index i of n. Every piece of work draws from random
 * streams named by (seed, study, unit), so a piece gives the same numbers wherever it runs.
 *
 * - The plan: every (study, seed) is either a whole seed run (a study without units, or one
 *   whose units come in dependent stages) or a batch of independent units (one item per unit
 *   key). Items go to shards by longest-processing-time-first over their expected work (the
 *   committed results' timings): a pure function of the items, so every shard computes the same
 *   plan and the merge knows exactly what each shard must hold.
 * - A shard file (one per study per shard, `<study>.<profile>[.<name>].shard-<i>-of-<n>.json`)
 *   holds what the shard did: its whole seed runs (series, summary, timings, claims) and its
 *   finished units (their records), with the identity of the run (studies, seeds, profile,
 *   config, commit, backend, plan) so that a foreign, missing or duplicated shard is named.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { writeFileAtomic } from '../store/atomic.js';
import { canonicalJson, jsonDepth, MAX_FILE_DEPTH } from '../store/json.js';
import { ClaimSchema, EnvironmentSchema, PROFILES, SeedRunSchema, type Profile } from '../results/schema.js';

/** Shard i of n, i counted from 1. */
export interface ShardSpec {
  index: number;
  count: number;
}

/** The most shards a run may be split into (far more than any item count of the suite). */
export const MAX_SHARDS = 10_000;

const SHARD_HELP = "i/n with 1 <= i <= n (1/3 is the first of three shards), or auto";

function checkSpec(index: number, count: number, what: string): ShardSpec {
  if (!(count >= 1 && count <= MAX_SHARDS)) throw new UserError(`${what}: the shard count must be 1..${MAX_SHARDS}, got ${count}`);
  if (!(index >= 1 && index <= count)) throw new UserError(`${what}: shard ${index} of ${count} does not exist (shards are numbered 1..${count})`);
  return { index, count };
}

/** Plain decimal digits (the suite's one spelling of a number). */
function digits(text: string, what: string): number {
  if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new UserError(`${what} must be a whole number in plain digits, got '${text}'`);
  return Number(text);
}

/**
 * The variables `--shard auto` reads, first match wins:
 * - EXPERIMENT_SHARD_INDEX (1..n) and EXPERIMENT_SHARD_COUNT: any CI matrix, set explicitly;
 * - SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT (with SLURM_ARRAY_TASK_MIN and _STEP, which
 *   Slurm sets too: `--array=0-7` and `--array=1-8` both give shards 1..8);
 * - JOB_COMPLETION_INDEX (0..n-1, a Kubernetes Indexed Job) with EXPERIMENT_SHARD_COUNT, which
 *   the Job's manifest sets to its `completions` (Kubernetes does not pass the count to a pod).
 */
export const AUTO_VARIABLES = 'EXPERIMENT_SHARD_INDEX + EXPERIMENT_SHARD_COUNT, SLURM_ARRAY_TASK_ID + SLURM_ARRAY_TASK_COUNT, or JOB_COMPLETION_INDEX + EXPERIMENT_SHARD_COUNT';

export function shardFromEnv(env: Record<string, string | undefined>): ShardSpec & { source: string } {
  const get = (k: string): string | undefined => (env[k] === undefined || env[k] === '' ? undefined : env[k]);
  const need = (k: string, why: string): number => {
    const v = get(k);
    if (v === undefined) throw new UserError(`--shard auto: ${why} is set but ${k} is not`);
    return digits(v, `--shard auto: ${k}`);
  };
  if (get('EXPERIMENT_SHARD_INDEX') !== undefined) {
    const index = digits(get('EXPERIMENT_SHARD_INDEX')!, '--shard auto: EXPERIMENT_SHARD_INDEX');
    const count = need('EXPERIMENT_SHARD_COUNT', 'EXPERIMENT_SHARD_INDEX');
    return { ...checkSpec(index, count, '--shard auto (EXPERIMENT_SHARD_INDEX/EXPERIMENT_SHARD_COUNT)'), source: 'EXPERIMENT_SHARD_INDEX' };
  }
  if (get('SLURM_ARRAY_TASK_ID') !== undefined) {
    const id = digits(get('SLURM_ARRAY_TASK_ID')!, '--shard auto: SLURM_ARRAY_TASK_ID');
    const count = need('SLURM_ARRAY_TASK_COUNT', 'SLURM_ARRAY_TASK_ID');
    const min = need('SLURM_ARRAY_TASK_MIN', 'SLURM_ARRAY_TASK_ID');
    const step = get('SLURM_ARRAY_TASK_STEP') === undefined ? 1 : digits(get('SLURM_ARRAY_TASK_STEP')!, '--shard auto: SLURM_ARRAY_TASK_STEP');
    if (step < 1 || (id - min) % step !== 0 || id < min) throw new UserError(`--shard auto: SLURM_ARRAY_TASK_ID ${id} is not on the array ${min}+k*${step}`);
    return { ...checkSpec((id - min) / step + 1, count, `--shard auto (SLURM_ARRAY_TASK_ID ${id} of ${min}..)`), source: 'SLURM_ARRAY_TASK_ID' };
  }
  if (get('JOB_COMPLETION_INDEX') !== undefined) {
    const index = digits(get('JOB_COMPLETION_INDEX')!, '--shard auto: JOB_COMPLETION_INDEX');
    const count = need('EXPERIMENT_SHARD_COUNT', 'JOB_COMPLETION_INDEX (a Kubernetes Indexed Job; set EXPERIMENT_SHARD_COUNT to its completions)');
    return { ...checkSpec(index + 1, count, `--shard auto (JOB_COMPLETION_INDEX ${index}, counted from 0)`), source: 'JOB_COMPLETION_INDEX' };
  }
  throw new UserError(`--shard auto: no shard variables are set (looked for ${AUTO_VARIABLES})`);
}

/** `--shard i/n` or `--shard auto`. */
export function parseShard(value: unknown, env: Record<string, string | undefined> = process.env): ShardSpec {
  if (Array.isArray(value)) throw new UserError(`--shard given twice (${value.map((v) => `'${String(v)}'`).join(', ')}); give it once`);
  const text = String(value);
  if (text === 'auto') {
    const { index, count } = shardFromEnv(env);
    return { index, count };
  }
  const m = /^([0-9]+)\/([0-9]+)$/.exec(text);
  if (!m) throw new UserError(`--shard must be ${SHARD_HELP}; got '${text}'`);
  return checkSpec(Number(m[1]), Number(m[2]), `--shard ${text}`);
}

// ---------------------------------------------------------------------------------------
// The plan

/** One piece of work: a whole seed run (key null) or one unit of a seed. */
export interface PlanItem {
  study: string;
  seed: number;
  key: string | null;
  /** Expected work, ms. */
  weight: number;
}

/**
 * Longest processing time first: items by falling weight (ties: their order), each to the shard
 * with the least work so far (ties: the lowest index). Returns each item's shard (1..n).
 */
export function assignShards(items: PlanItem[], count: number): number[] {
  const order = items.map((_, k) => k).sort((a, b) => items[b]!.weight - items[a]!.weight || a - b);
  const load = new Array<number>(count).fill(0);
  const out = new Array<number>(items.length);
  for (const k of order) {
    let best = 0;
    for (let s = 1; s < count; s++) if (load[s]! < load[best]!) best = s;
    load[best]! += items[k]!.weight;
    out[k] = best + 1;
  }
  return out;
}

/** A short stable digest of a JSON value. */
export function digest(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);
}

// ---------------------------------------------------------------------------------------
// The shard file

export const SHARD_FORMAT = 1;

const Seed = z.number().int().nonnegative();

const PlannedSchema = z.strictObject({ seed: Seed, key: z.string().nullable(), weight: z.number(), shard: z.number().int().min(1) });
export type Planned = z.infer<typeof PlannedSchema>;

export const ShardFileSchema = z.strictObject({
  kind: z.literal('shard'),
  shardFormat: z.literal(SHARD_FORMAT),
  shard: z.strictObject({ index: z.number().int().min(1), count: z.number().int().min(1).max(MAX_SHARDS) }),
  /** What the whole sharded run is: every shard of it has the same. */
  run: z.strictObject({ studies: z.array(z.string()).min(1), profile: z.enum(PROFILES), seeds: z.array(Seed).min(1), plan: z.string() }),
  study: z.string(),
  title: z.string(),
  name: z.string().nullable(),
  config: z.record(z.string(), z.unknown()),
  overrides: z.record(z.string(), z.tuple([z.unknown(), z.unknown()])),
  environment: EnvironmentSchema,
  startedAt: z.string(),
  /** This shard's own work on the study, ms (its seed runs' and units' compute time). */
  workMs: z.number().nonnegative(),
  /** The study's part of the plan, for every shard: what each must hold. */
  plan: z.array(PlannedSchema),
  /** Whole seed runs this shard made. */
  seedRuns: z.array(z.strictObject({ run: SeedRunSchema, claims: z.array(ClaimSchema.omit({ perSeed: true })) })),
  /** Units this shard ran: their records (and a digest of each one's input), and per seed the units' compute time. */
  units: z.array(z.strictObject({ seed: Seed, key: z.string(), input: z.string(), value: z.unknown() })),
  unitMs: z.record(z.string(), z.number().nonnegative()),
});
export type ShardFile = z.infer<typeof ShardFileSchema>;

/** The folder a shard run writes to, inside --out. */
export const SHARDS_DIR = 'shards';

export function shardFileName(study: string, profile: Profile, name: string | null, spec: ShardSpec): string {
  return `${study}.${profile}${name ? `.${name}` : ''}.shard-${spec.index}-of-${spec.count}.json`;
}

const SHARD_FILE = /\.shard-[0-9]+-of-[0-9]+\.json$/;

/** JSON has no NaN/Infinity: written as null, as in result files. */
const replacer = (_key: string, value: unknown): unknown => (typeof value === 'number' && !Number.isFinite(value) ? null : value);

export function writeShardFile(dir: string, file: ShardFile): string {
  const checked = ShardFileSchema.safeParse(file);
  if (!checked.success) throw new Error(`refusing to write an invalid shard file for ${file.study}: ${checked.error.issues[0]?.path.join('.')}: ${checked.error.issues[0]?.message}`);
  const path = join(dir, shardFileName(file.study, file.run.profile, file.name, file.shard));
  writeFileAtomic(path, JSON.stringify(file, replacer) + '\n');
  return path;
}

/** Every shard file under the given files and folders (folders searched to any depth), sorted. */
export function shardFilesIn(inputs: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir).sort()) {
      const p = join(dir, entry);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (SHARD_FILE.test(entry)) out.push(p);
    }
  };
  for (const input of inputs) {
    let st;
    try {
      st = statSync(input);
    } catch (err) {
      throw new UserError(`${input}: no such file or folder (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (st.isDirectory()) {
      const before = out.length;
      walk(input);
      if (out.length === before) throw new UserError(`${input}: no shard files in this folder (named <study>.<profile>.shard-<i>-of-<n>.json)`);
    } else out.push(input);
  }
  return [...new Set(out)];
}

/** Reads a shard file; anything wrong is one line naming it. */
export function readShardFile(path: string): ShardFile {
  let json: unknown;
  try {
    const text = readFileSync(path, 'utf8');
    if (jsonDepth(text, MAX_FILE_DEPTH) > MAX_FILE_DEPTH) throw new UserError(`${path}: nested more than ${MAX_FILE_DEPTH} levels deep, deeper than any shard file of this suite (not a shard file)`);
    json = JSON.parse(text);
  } catch (err) {
    if (err instanceof UserError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(`${path}: ${code ? `cannot be read (${code})` : 'not valid JSON'}`);
  }
  if (typeof json !== 'object' || json === null || (json as { kind?: unknown }).kind !== 'shard') throw new UserError(`${path}: not a shard file (a result of npm run experiment -- ... --shard i/n)`);
  const format = (json as { shardFormat?: unknown }).shardFormat;
  if (format !== SHARD_FORMAT) throw new UserError(`${path}: shard format ${String(format)}, this suite reads ${SHARD_FORMAT}: run that shard again with this version`);
  const parsed = ShardFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UserError(`${path}: invalid shard file: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  return parsed.data;
}

/** What makes shards parts of one run; each field named in words when it differs. */
function identity(f: ShardFile): [string, string][] {
  return [
    ['studies', f.run.studies.join(' ')],
    ['profile', f.run.profile],
    ['seeds', f.run.seeds.join(',')],
    ['shard count', String(f.shard.count)],
    ['commit', f.environment.gitCommit ?? 'unknown'],
    ['backend', f.environment.backend],
    ['plan', f.run.plan],
  ];
}

const studyIdentity = (f: ShardFile): [string, string][] => [
  ['study', f.study],
  ['run name', f.name ?? '(the profile\'s)'],
  ['config', digest(f.config)],
];

/** The file whose identity most files share (ties: the first such file); null for none. */
function majority<T extends { file: ShardFile }>(files: T[], id: (f: ShardFile) => [string, string][]): T | null {
  const key = (x: T) => canonicalJson(id(x.file));
  const votes = new Map<string, number>();
  for (const x of files) votes.set(key(x), (votes.get(key(x)) ?? 0) + 1);
  return files.reduce<T | null>((best, x) => (best === null || votes.get(key(x))! > votes.get(key(best))! ? x : best), null);
}

/**
 * Checks that `files` are exactly the shards of one run: every study of the run, every shard
 * 1..n of it, once each, all with the same identity. Returns the problems, one line each
 * (empty: they fit), and the files grouped by study in the run's order.
 */
export function checkShardSet(files: { path: string; file: ShardFile }[]): { problems: string[]; byStudy: Map<string, { path: string; file: ShardFile }[]> } {
  const problems: string[] = [];
  const byStudy = new Map<string, { path: string; file: ShardFile }[]>();
  if (files.length === 0) return { problems: ['no shard files given'], byStudy };
  // The run's identity: the one most files share (ties: the first file's).
  const ref = majority(files, identity)!.file;
  const refId = identity(ref);
  const ours: { path: string; file: ShardFile }[] = [];
  for (const x of files) {
    const theirs = identity(x.file);
    const diff = theirs.find(([, v], k) => v !== refId[k]![1]);
    if (diff) problems.push(`${x.path}: foreign shard: its ${diff[0]} is ${diff[1]}, the other shards' ${refId.find(([n]) => n === diff[0])![1]}`);
    else if (!ref.run.studies.includes(x.file.study)) problems.push(`${x.path}: foreign shard: study ${x.file.study} is not one of the run's (${ref.run.studies.join(', ')})`);
    else ours.push(x);
  }
  for (const study of ref.run.studies) {
    const mine = ours.filter((x) => x.file.study === study);
    // A study's config and run name: the one most of its shards have.
    const sref = majority(mine, studyIdentity)?.file ?? null;
    const seen = new Map<number, string>();
    const kept: { path: string; file: ShardFile }[] = [];
    for (const x of mine) {
      const d = studyIdentity(x.file).find(([, v], k) => v !== studyIdentity(sref!)[k]![1]);
      if (d) {
        problems.push(`${x.path}: foreign shard: its ${d[0]} of ${study} is ${d[1]}, the other shards' ${studyIdentity(sref!).find(([n]) => n === d[0])![1]}`);
        continue;
      }
      if (canonicalJson(x.file.plan) !== canonicalJson(sref!.plan)) {
        problems.push(`${x.path}: foreign shard: its plan of ${study} differs from the other shards'`);
        continue;
      }
      const other = seen.get(x.file.shard.index);
      if (other !== undefined) {
        problems.push(`${x.path}: duplicate: shard ${x.file.shard.index}/${ref.shard.count} of ${study} is also ${other}`);
        continue;
      }
      seen.set(x.file.shard.index, x.path);
      kept.push(x);
    }
    for (let i = 1; i <= ref.shard.count; i++) {
      if (!seen.has(i)) problems.push(`missing: shard ${i}/${ref.shard.count} of ${study} (${shardFileName(study, ref.run.profile, sref?.name ?? null, { index: i, count: ref.shard.count })})`);
    }
    // Each shard holds exactly what the plan gives it.
    for (const x of kept) {
      const f = x.file;
      const want = f.plan.filter((p) => p.shard === f.shard.index);
      const haveSeeds = f.seedRuns.map((r) => r.run.seed);
      const haveUnits = f.units.map((u) => `${u.seed}:${u.key}`);
      const wantSeeds = want.filter((p) => p.key === null).map((p) => p.seed);
      const wantUnits = want.filter((p) => p.key !== null).map((p) => `${p.seed}:${p.key}`);
      if (canonicalJson([...haveSeeds].sort()) !== canonicalJson([...wantSeeds].sort()) || canonicalJson([...haveUnits].sort()) !== canonicalJson([...wantUnits].sort())) {
        problems.push(`${x.path}: incomplete shard: it holds ${haveSeeds.length} seed run(s) and ${haveUnits.length} unit(s), its plan ${wantSeeds.length} and ${wantUnits.length}`);
      }
    }
    byStudy.set(study, kept);
  }
  return { problems, byStudy };
}
