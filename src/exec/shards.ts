/**
 * Running a share of a run (`--shard i/n`) and merging the shares into the normal result files
 * (`merge`). See src/exec/shard-file.ts for the plan and the shard file, docs/SHARDING.md for the
 * user's side.
 *
 * What a piece of work is, per (study, seed):
 * - a study without units: the whole seed run;
 * - a study with units: the units of its seed's first batch (`ctx.units.run`), one piece per
 *   key, found by running the study's run() up to that call (a probe: no unit is computed);
 * - a study that calls `ctx.units.checkpoint` before its first batch (its later units depend
 *   on values derived from earlier ones, as a search's second stage depends on its first): the
 *   whole seed run, so the dependent stage is run where the stage before it is.
 * A merge takes whole seed runs as they are and re-runs a spread seed's run() with its units
 * taken from the shards (nothing is trained again), so every number is the unsharded one.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describeEnvironment } from '../environment.js';
import { UserError } from '../errors.js';
import type { Environment, Profile, StudyResult } from '../results/schema.js';
import type { AnyStudy, UnitRunner, UnitTask } from '../study.js';
import { SILENT_SINK, progressEvents, type RunSink } from './events.js';
import { seedsOf, type RunPlan, type RunSettings } from './plan.js';
import type { WorkerPool } from './pool.js';
import { assembleResult, mnistFrom, runSeed, seedUnits, studyContext, type SeedOutcome } from './runner.js';
import { SHARD_FORMAT, assignShards, checkShardSet, digest, readShardFile, shardFileName, shardFilesIn, writeShardFile, type PlanItem, type Planned, type ShardFile, type ShardSpec } from './shard-file.js';
import { UnitCache, journalBeside } from './units.js';

/** Thrown by the probe's unit runner: run() got as far as its first unit call. */
class ProbeStop extends Error {
  constructor(readonly tasks: UnitTask[] | null) {
    super('probe');
  }
}

/**
 * The tasks of a seed's first batch of units, or null when the seed is one piece (no units, a
 * checkpoint before the first batch, or a run that finished without calling its units).
 */
export async function probeUnits(study: AnyStudy, config: object, profile: Profile, seed: number, mnistDir: string): Promise<UnitTask[] | null> {
  if (!study.units || Object.keys(study.units).length === 0) return null;
  const units: UnitRunner = {
    times: { unitMs: 0, waitMs: 0 },
    checkpoint: () => {
      throw new ProbeStop(null);
    },
    run: (tasks) => Promise.reject(new ProbeStop(tasks)),
  };
  const ctx = studyContext({ study, seed, profile, mnist: () => mnistFrom(mnistDir), units, sink: SILENT_SINK });
  try {
    await study.run(config, ctx);
    return null;
  } catch (err) {
    if (!(err instanceof ProbeStop)) throw err;
    const tasks = err.tasks;
    if (!tasks || tasks.length === 0) return null;
    const keys = new Set(tasks.map((t) => t.key));
    if (keys.size !== tasks.length) throw new Error(`${study.name} seed ${seed}: two units share a key`);
    return tasks;
  }
}

export interface ShardPlan {
  /** Every piece of the run with its shard. */
  items: (PlanItem & { shard: number })[];
  /** The first-batch tasks of each spread seed, by "<study>:<seed>". */
  tasks: Map<string, UnitTask[]>;
  /** The plan's digest: every shard of one run has the same. */
  hash: string;
}

/**
 * The plan of a sharded run: every piece (whole seed runs and single units) and its shard.
 * `perSeedMs`: each study's expected work per seed (its committed result's); a study without
 * one counts as the longest known (or a minute), so it is started early and spread.
 */
export async function planShards(plans: RunPlan[], profile: Profile, seeds: number[], count: number, perSeedMs: Map<string, number>, mnistDir: string): Promise<ShardPlan> {
  const known = [...perSeedMs.values()].filter(Number.isFinite);
  const fallback = known.length ? Math.max(...known) : 60_000;
  const items: PlanItem[] = [];
  const tasks = new Map<string, UnitTask[]>();
  for (const p of plans) {
    const ms = perSeedMs.get(p.study.name);
    const w = ms !== undefined && Number.isFinite(ms) ? ms : fallback;
    for (const seed of seeds) {
      const batch = await probeUnits(p.study, p.config, profile, seed, mnistDir);
      if (!batch) {
        items.push({ study: p.study.name, seed, key: null, weight: w });
        continue;
      }
      tasks.set(`${p.study.name}:${seed}`, batch);
      for (const t of batch) items.push({ study: p.study.name, seed, key: t.key, weight: w / batch.length });
    }
  }
  const shards = assignShards(items, count);
  const assigned = items.map((it, k) => ({ ...it, shard: shards[k]! }));
  return { items: assigned, tasks, hash: digest({ count, items: assigned, configs: plans.map((p) => [p.study.name, p.config]) }) };
}

export interface ShardRunRequest extends RunSettings {
  plans: RunPlan[];
  plan: ShardPlan;
  shard: ShardSpec;
  /** Worker processes for whole seeds and units; null: all in this process. */
  pool: WorkerPool | null;
  sink: RunSink;
}

/** What a shard did for one study. */
export interface ShardDone {
  study: string;
  path: string;
  seedRuns: number;
  units: number;
  workMs: number;
}

/** Runs this shard's pieces of every study and writes one shard file per study (in `outDir`, the shards' folder). */
export async function runShard(req: ShardRunRequest): Promise<ShardDone[]> {
  const environment = describeEnvironment();
  return Promise.all(req.plans.map((p) => shardOfStudy(req, p, environment)));
}

/** This shard's pieces of one study, written as its shard file (or kept from an earlier attempt with --resume). */
async function shardOfStudy(req: ShardRunRequest, p: RunPlan, environment: Environment): Promise<ShardDone> {
  const { study } = p;
  const { shard, plan } = req;
  const backend = tf.getBackend();
  const startedAt = new Date().toISOString();
  const file = join(req.outDir, shardFileName(study.name, req.profile, p.name, shard));
  const kept = req.resume ? finishedShard(file, plan.hash, environment.gitCommit, backend) : null;
  if (kept) {
    req.sink({ kind: 'log', study: study.name, line: `kept ${file}: this shard's share of ${study.name} was done (--resume)` });
    return { study: study.name, path: file, seedRuns: kept.seedRuns.length, units: kept.units.length, workMs: kept.workMs };
  }
  const mine = plan.items.filter((it) => it.study === study.name && it.shard === shard.index);
  const piece: PieceRequest = { ...req, ...p, backend, gitCommit: environment.gitCommit, journalPath: (seed) => journalBeside(file, seed) };
  const seedRuns: SeedOutcome[] = [];
  const units: ShardFile['units'] = [];
  const unitMs: Record<string, number> = {};
  const wholeSeeds = mine.filter((it) => it.key === null);
  const unitSeeds = [...new Set(mine.filter((it) => it.key !== null).map((it) => it.seed))];
  await Promise.all([
    ...wholeSeeds.map((it) => wholeSeed(piece, it.seed, it.weight).then((o) => void seedRuns.push(o))),
    ...unitSeeds.map(async (seed) => {
      const keys = new Set(mine.filter((it) => it.seed === seed).map((it) => it.key));
      const tasks = plan.tasks.get(`${study.name}:${seed}`)!.filter((t) => keys.has(t.key));
      const expectedMs = mine.filter((it) => it.seed === seed).reduce((a, it) => a + it.weight, 0);
      const done = await seedsUnits(piece, seed, tasks, expectedMs);
      tasks.forEach((t, k) => units.push({ seed, key: t.key, input: digest(t.input), value: done.records[k] }));
      unitMs[String(seed)] = done.unitMs;
    }),
  ]);
  seedRuns.sort((a, b) => a.run.seed - b.run.seed);
  units.sort((a, b) => a.seed - b.seed || planOrder(plan, study.name, a) - planOrder(plan, study.name, b));
  const workMs = seedRuns.reduce((a, s) => a + (s.run.timings.workMs ?? s.run.durationMs), 0) + Object.values(unitMs).reduce((a, b) => a + b, 0);
  const shardFile: ShardFile = {
    kind: 'shard',
    shardFormat: SHARD_FORMAT,
    shard,
    run: { studies: req.plans.map((x) => x.study.name), profile: req.profile, seeds: seedsOf(req), plan: plan.hash },
    study: study.name,
    title: `${study.id} ${study.title}`,
    name: p.name,
    config: p.config as Record<string, unknown>,
    overrides: p.overrides,
    environment,
    startedAt,
    workMs,
    plan: plannedOf(plan, study.name),
    seedRuns,
    units,
    unitMs,
  };
  const path = writeShardFile(req.outDir, shardFile);
  // The shard file holds every unit now.
  for (const seed of [...wholeSeeds.map((it) => it.seed), ...unitSeeds]) rmSync(piece.journalPath(seed), { force: true });
  return { study: study.name, path, seedRuns: seedRuns.length, units: units.length, workMs };
}

/** What a shard's pieces of one study run with. */
interface PieceRequest extends Omit<ShardRunRequest, 'plans'>, RunPlan {
  backend: string;
  gitCommit: string | null;
  journalPath(seed: number): string;
}

/** A whole seed run: in a worker if the study has no units (its units would go to the pool anyway), else here. */
async function wholeSeed(q: PieceRequest, seed: number, weight: number): Promise<SeedOutcome> {
  const { study } = q;
  if (q.pool && !study.units) {
    const run = { study: study.name, profile: q.profile, config: q.config, resume: q.resume, fresh: q.fresh, seed, journalPath: q.journalPath(seed), gitCommit: q.gitCommit };
    const o = await q.pool.submit({ type: 'seed', run }, `${study.name} seed ${seed}`, weight, undefined, q.sink);
    if (!o.ok) throw o.userError ? new UserError(o.error) : new Error(o.error);
    return o.value as SeedOutcome;
  }
  const { journal: _j, ...outcome } = await runSeed({ ...q, seed, journalPath: q.journalPath(seed), expectedMs: weight, labelSeed: true });
  return outcome;
}

/** This shard's units of one seed, journaled beside the shard file. */
async function seedsUnits(q: PieceRequest, seed: number, tasks: UnitTask[], expectedMs: number): Promise<{ records: unknown[]; unitMs: number }> {
  const cache = new UnitCache();
  const runner = seedUnits({ ...q, seed, journalPath: q.journalPath(seed), expectedMs }, () => mnistFrom(q.mnistDir), cache);
  const progress = progressEvents(q.sink, q.study.name, seed, `units (seed ${seed})`, tasks.length);
  try {
    const records = await runner.run(tasks, () => progress.tick());
    return { records, unitMs: runner.times.unitMs };
  } finally {
    progress.done();
    runner.close(false);
    cache.clear();
  }
}

/** With --resume: this shard's file of a study from an earlier attempt of the same run, if there is one. */
function finishedShard(path: string, plan: string, commit: string | null, backend: string): ShardFile | null {
  if (!existsSync(path)) return null;
  try {
    const file = readShardFile(path);
    return file.run.plan === plan && file.environment.gitCommit === commit && file.environment.backend === backend ? file : null;
  } catch {
    return null; // damaged: run the share again
  }
}

const planOrder = (plan: ShardPlan, study: string, u: { seed: number; key: string }) => plan.items.findIndex((it) => it.study === study && it.seed === u.seed && it.key === u.key);

/** A study's part of the plan, as every shard file of it records it. */
function plannedOf(plan: ShardPlan, study: string): Planned[] {
  return plan.items.filter((it) => it.study === study).map(({ seed, key, weight, shard }) => ({ seed, key, weight, shard }));
}

/**
 * The unit runner of a merge: a seed's units come from the shards' records, as a run that
 * computed them would hand them to the study (not "from a journal": they were run for this run).
 */
class ShardedUnits implements UnitRunner {
  readonly times: { unitMs: number; waitMs: number };

  constructor(
    private readonly where: string,
    private readonly records: Map<string, { input: string; value: unknown }>,
    unitMs: number,
  ) {
    this.times = { unitMs, waitMs: 0 };
  }

  async run<R>(tasks: UnitTask[], onDone?: (record: R, task: UnitTask, fromJournal: boolean) => void): Promise<R[]> {
    const missing = tasks.filter((t) => !this.records.has(t.key)).map((t) => t.key);
    if (missing.length > 0) {
      throw new UserError(
        `${this.where}: no shard ran unit(s) ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ` and ${missing.length - 3} more` : ''}: ` +
          'only the first batch of a seed\'s units is spread over shards; a study whose later units depend on earlier ones must call ctx.units.checkpoint before its first batch (it is then sharded by seed; see docs/SHARDING.md)',
      );
    }
    return tasks.map((t) => {
      const r = this.records.get(t.key)!;
      if (r.input !== digest(t.input)) throw new UserError(`${this.where}: unit ${t.key} was run by its shard with another input than this merge computes (another commit or config?)`);
      onDone?.(r.value as R, t, false);
      return r.value as R;
    });
  }

  checkpoint<T>(_key: string, value: T): T {
    return value;
  }
}

/** Reads and checks shard files: the problems (one line each) or the shards of each study in the run's order. */
export function loadShards(inputs: string[]): { problems: string[]; studies: { name: string; files: ShardFile[] }[] } {
  const problems: string[] = [];
  const files: { path: string; file: ShardFile }[] = [];
  for (const path of shardFilesIn(inputs)) {
    try {
      files.push({ path, file: readShardFile(path) });
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      problems.push(err.message);
    }
  }
  const set = checkShardSet(files);
  problems.push(...set.problems);
  return { problems, studies: [...set.byStudy].map(([name, xs]) => ({ name, files: xs.map((x) => x.file).sort((a, b) => a.shard.index - b.shard.index) })) };
}

/** Whether merging a study's shards runs its code (a spread seed), so needs a backend and perhaps MNIST. */
export const mergeRunsCode = (files: ShardFile[]): boolean => files[0]!.plan.some((p) => p.key !== null);

/** One study's result from its shards, checked complete (see loadShards). Nothing is written here. */
export async function mergeStudy(study: AnyStudy, files: ShardFile[], o: { mnistDir: string; sink: RunSink }): Promise<StudyResult> {
  const first = files[0]!;
  const whole = new Map<number, SeedOutcome>();
  const records = new Map<number, Map<string, { input: string; value: unknown }>>();
  const unitMs = new Map<number, number>();
  for (const f of files) {
    for (const s of f.seedRuns) whole.set(s.run.seed, s);
    for (const u of f.units) {
      if (!records.has(u.seed)) records.set(u.seed, new Map());
      records.get(u.seed)!.set(u.key, { input: u.input, value: u.value });
    }
    for (const [seed, ms] of Object.entries(f.unitMs)) unitMs.set(Number(seed), (unitMs.get(Number(seed)) ?? 0) + ms);
  }
  const t0 = performance.now();
  const seeds: SeedOutcome[] = [];
  for (const seed of first.run.seeds) {
    const made = whole.get(seed);
    if (made) {
      seeds.push(made);
      continue;
    }
    const units = new ShardedUnits(`${study.name} seed ${seed}`, records.get(seed) ?? new Map(), unitMs.get(seed) ?? 0);
    const { journal: _j, ...outcome } = await runSeed({
      study,
      profile: first.run.profile,
      config: first.config,
      seed,
      mnistDir: o.mnistDir,
      journalPath: '',
      backend: first.environment.backend,
      gitCommit: first.environment.gitCommit,
      resume: false,
      fresh: false,
      pool: null,
      labelSeed: true,
      // Its progress is not shown (nothing is trained); its log lines are.
      sink: (event) => event.kind !== 'progress' && o.sink(event),
      units,
    });
    // A merged seed's time is its work added up over the shards and the merge.
    seeds.push({ ...outcome, run: { ...outcome.run, durationMs: outcome.run.timings.workMs! } });
  }
  const mergeMs = performance.now() - t0;
  return assembleResult(
    study,
    {
      profile: first.run.profile,
      name: first.name,
      config: first.config,
      overrides: first.overrides,
      environment: first.environment,
      startedAt: files.map((f) => f.startedAt).sort()[0]!,
      durationMs: files.reduce((a, f) => a + f.workMs, 0) + mergeMs,
    },
    seeds,
  );
}
