/**
 * Running a study: one run() per seed, claims checked per seed and combined, the result
 * written atomically, and the outcome described for the console.
 */
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { BackendName } from './backend.js';
import { loadMnist, type Mnist } from './data/mnist.js';
import { describeEnvironment } from './environment.js';
import { formatDuration, formatNumbers, verdictLabel } from './format.js';
import { aggregateSummaries, combineClaims } from './results/aggregate.js';
import type { Environment, Profile, SeedRun, StudyResult } from './results/schema.js';
import { SCHEMA_VERSION } from './results/schema.js';
import { ensureWritableDir, resultFileName, writeResult } from './results/store.js';
import type { AnyStudy, ClaimCheck, ProgressTicker, StudyContext } from './study.js';
import type { UnitRunner } from './train/units.js';
import { WorkerPool } from './train/pool.js';
import { JournaledUnits, UnitCache, asJson } from './train/units.js';

export interface RunRequest {
  profile: Profile;
  /** The study's config: a profile's, with the study's flags and the user's changes applied. */
  config: object;
  /** Set when the config differs from the profile's: the run is stored under this name (runs/<study>.<name>.json). */
  name: string | null;
  /** What differs from the profile's config (see configDiff). */
  overrides: Record<string, [unknown, unknown]>;
  /** First seed; seeds > 1 runs seed, seed+1, ..., seed+seeds-1. */
  seed: number;
  seeds: number;
  outDir: string;
  mnistDir: string;
  /** Worker processes for the study's units (1: all in this process). */
  workers: number;
  /** Continue the journal of an interrupted run; or discard it and start over. */
  resume: boolean;
  fresh: boolean;
  /** A pool shared with other studies running at the same time (`all`); else one is made for `workers` > 1. */
  pool?: WorkerPool;
  /** The study's expected duration (ms, from its committed result): longer work is started first. */
  expectedMs?: number;
  progress(label: string, total: number): ProgressTicker;
  log(line: string): void;
}

const mnistCache = new Map<string, Mnist>();

/** MNIST is read once per process per folder. */
export function mnistFrom(dir: string): Mnist {
  let m = mnistCache.get(dir);
  if (!m) {
    m = loadMnist(dir);
    mnistCache.set(dir, m);
  }
  return m;
}

/** Where a study keeps the journal of a seed's finished units while it runs: beside its result. */
export function journalPath(outDir: string, study: string, profile: Profile, seed: number, name: string | null = null): string {
  return join(outDir, resultFileName(study, profile, name).replace(/\.json$/, `.seed${seed}.journal.jsonl`));
}

/** One seed's run and its claims. */
export interface SeedOutcome {
  run: SeedRun;
  claims: ClaimCheck[];
}

/** What one seed's run needs besides the study and its config. */
export interface SeedRequest {
  profile: Profile;
  config: object;
  seed: number;
  mnistDir: string;
  /** The seed's journal of finished units, and what a resumed one must match. */
  journalPath: string;
  backend: string;
  gitCommit: string | null;
  resume: boolean;
  fresh: boolean;
  pool: WorkerPool | null;
  expectedMs?: number;
  /** Shown with progress labels (several seeds: "(seed 3)"). */
  labelSeed: boolean;
  progress(label: string, total: number): ProgressTicker;
  log(line: string): void;
  /** Units from elsewhere (a merge of shards): used instead of running and journaling them. */
  units?: UnitRunner;
}

/** A unit runner for one seed: its units journaled beside the result, run in the pool if any. */
export function seedUnits(study: AnyStudy, o: Omit<SeedRequest, 'labelSeed' | 'progress' | 'units'>, cache: UnitCache): JournaledUnits {
  const mnist = () => mnistFrom(o.mnistDir);
  return new JournaledUnits({
    study: study.name,
    config: o.config,
    seed: o.seed,
    units: study.units ?? {},
    journalPath: o.journalPath,
    header: { journal: study.name, format: 2, seed: o.seed, profile: o.profile, backend: o.backend, config: o.config },
    resume: o.resume,
    fresh: o.fresh,
    gitCommit: o.gitCommit,
    pool: o.pool,
    expectedMs: o.expectedMs,
    context: { seed: o.seed, mnist, cached: (key, make, dispose) => cache.get(key, make, dispose) },
    log: o.log,
  });
}

/**
 * One seed: the study's run() with its context, its timings (the seed's work: wall time less
 * the waiting for workers plus the units' compute time) and its claims. The journal is closed
 * but kept: the caller removes it once the result holding its units is written.
 */
export async function runSeed(study: AnyStudy, o: SeedRequest): Promise<SeedOutcome & { journal: JournaledUnits | null }> {
  const cache = new UnitCache();
  const journal = o.units ? null : seedUnits(study, o, cache);
  const units = o.units ?? journal!;
  const ctx: StudyContext = {
    seed: o.seed,
    profile: o.profile,
    mnist: () => mnistFrom(o.mnistDir),
    progress: (label, total) => o.progress(o.labelSeed ? `${label} (seed ${o.seed})` : label, total),
    log: o.log,
    units,
  };
  const s0 = performance.now();
  try {
    const out = await study.run(o.config, ctx);
    const durationMs = performance.now() - s0;
    // The seed's work, whatever else shared the workers meanwhile (see UnitRunner.times).
    const workMs = durationMs - units.times.waitMs + units.times.unitMs;
    const run: SeedRun = { seed: o.seed, durationMs, timings: { ...(out.timings ?? {}), workMs }, series: out.series, summary: out.summary };
    return { run, claims: study.claims(out, o.config), journal };
  } finally {
    journal?.close(false);
    cache.clear();
  }
}

/** What a result says about its run besides the seeds' runs. */
export interface ResultFrame {
  profile: Profile;
  name: string | null;
  config: object;
  overrides: Record<string, [unknown, unknown]>;
  environment: Environment;
  startedAt: string;
  durationMs: number;
}

/** A result from its seeds' runs (in seed order): summaries combined, claims per seed combined. */
export function assembleResult(study: AnyStudy, f: ResultFrame, seeds: SeedOutcome[]): StudyResult {
  return {
    schemaVersion: SCHEMA_VERSION,
    study: study.name,
    title: `${study.id} ${study.title}`,
    profile: f.profile,
    name: f.name,
    seeds: seeds.map((s) => s.run.seed),
    config: f.config as Record<string, unknown>,
    overrides: f.overrides,
    environment: f.environment,
    startedAt: f.startedAt,
    durationMs: f.durationMs,
    runs: seeds.map((s) => s.run),
    // Summaries and claims as a result file holds them (NaN written as null) are combined: a
    // merge of shards reads them back from files and must combine the same values.
    summary: aggregateSummaries(seeds.map((s) => asJson(s.run.summary))) as Record<string, unknown>,
    claims: combineClaims(seeds.map((s) => ({ seed: s.run.seed, claims: asJson(s.claims) }))),
  };
}

export async function runStudy(study: AnyStudy, req: RunRequest): Promise<{ result: StudyResult; path: string }> {
  const { config } = req;
  // Before any work: journals are kept next to the result while the study runs.
  ensureWritableDir(dirname(join(req.outDir, resultFileName(study.name, req.profile, req.name))));
  const startedAt = new Date();
  // Read where the run happens before it starts: a long run must record the commit it began on.
  const environment = describeEnvironment();
  const backend = tf.getBackend() as BackendName;
  const hasUnits = study.units !== undefined && Object.keys(study.units).length > 0;
  const ownPool = !req.pool && hasUnits && req.workers > 1 ? new WorkerPool(req.workers, { backend, mnistDir: req.mnistDir }, (line) => req.log(line.trim())) : null;
  const pool = req.pool ?? ownPool;
  if (ownPool) req.log(`units run in ${req.workers} worker processes`);
  const t0 = performance.now();
  const seeds: SeedOutcome[] = [];
  const journals: JournaledUnits[] = [];
  try {
    for (let k = 0; k < req.seeds; k++) {
      const seed = req.seed + k;
      const { journal, ...outcome } = await runSeed(study, {
        profile: req.profile,
        config,
        seed,
        mnistDir: req.mnistDir,
        journalPath: journalPath(req.outDir, study.name, req.profile, seed, req.name),
        backend,
        gitCommit: environment.gitCommit,
        resume: req.resume,
        fresh: req.fresh,
        pool,
        expectedMs: req.expectedMs,
        labelSeed: req.seeds > 1,
        progress: req.progress,
        log: req.log,
      });
      if (journal) journals.push(journal);
      seeds.push(outcome);
    }
  } finally {
    ownPool?.close();
  }
  const frame = { profile: req.profile, name: req.name, config, overrides: req.overrides, environment, startedAt: startedAt.toISOString(), durationMs: performance.now() - t0 };
  const result = assembleResult(study, frame, seeds);
  const path = writeResult(req.outDir, result);
  // The result holds every unit now: the journals have done their job.
  for (const j of journals) j.close(true);
  return { result, path };
}

/** What the console shows of a finished run: each claim with its verdict and numbers, and the file. */
export function describeOutcome(result: StudyResult, path: string): string[] {
  const lines: string[] = [];
  if (result.claims.length === 0) lines.push('  no claim checked: every claim of this study needs something this run left out (a variant, an update rule)');
  for (const c of result.claims) lines.push(`  ${verdictLabel(c.verdict)}  ${c.text}`, ...(c.reason ? [`         ${c.reason}`] : []), `         ${formatNumbers(c.numbers)}`);
  lines.push(`  wrote ${path} (${formatDuration(result.durationMs)})`);
  return lines;
}
