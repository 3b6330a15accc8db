/**
 * Running a study: one run() per seed, claims checked per seed and combined, the result
 * written atomically, and the outcome described for the console.
 */
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../backend.js';
import { loadMnist, type Mnist } from '../data/mnist.js';
import { describeEnvironment } from '../environment.js';
import { formatDuration, formatNumbers, verdictLabel } from '../format.js';
import { aggregateSummaries, combineClaims } from '../results/aggregate.js';
import type { Environment, Profile, SeedRun, StudyResult } from '../results/schema.js';
import { SCHEMA_VERSION } from '../results/schema.js';
import { ensureWritableDir, resultFileName, writeResult } from '../results/store.js';
import { asJson } from '../store/json.js';
import type { AnyStudy, ClaimCheck, StudyContext, UnitRunner } from '../study.js';
import { progressEvents, type RunSink } from './events.js';
import { seedsOf, type RunDescription } from './plan.js';
import type { WorkerPool } from './pool.js';
import { JournaledUnits, UnitCache, journalBeside, type UnitRunnerOptions } from './units.js';

/** A run of a study as the runner takes it: what to run, where its units go, who hears about it. */
export interface RunRequest extends RunDescription {
  /** Worker processes for the study's units (several studies may share them); null: all in this process. */
  pool: WorkerPool | null;
  /** The study's expected duration (ms, from its committed result): longer work is started first. */
  expectedMs?: number;
  sink: RunSink;
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
  return journalBeside(join(outDir, resultFileName(study, profile, name)), seed);
}

/** What a study's context is made of. */
export interface ContextParts {
  study: AnyStudy;
  seed: number;
  profile: Profile;
  mnist: () => Mnist;
  units: UnitRunner;
  sink: RunSink;
  /** Progress labels name the seed ("(seed 3)"): several seeds run. */
  labelSeed?: boolean;
}

/** The context a study's run() gets: the one place it is built (the runner, the shard probe and the tests use it). */
export function studyContext(o: ContextParts): StudyContext {
  const study = o.study.name;
  return {
    seed: o.seed,
    profile: o.profile,
    mnist: o.mnist,
    progress: (label, total) => progressEvents(o.sink, study, o.seed, o.labelSeed ? `${label} (seed ${o.seed})` : label, total),
    log: (line) => o.sink({ kind: 'log', study, line }),
    units: o.units,
  };
}

/** One seed's run and its claims. */
export interface SeedOutcome {
  run: SeedRun;
  claims: ClaimCheck[];
}

/** What one seed's run needs: its unit runner's settings, MNIST's folder, and how its progress is labelled. */
export interface SeedRequest extends Omit<UnitRunnerOptions, 'context'> {
  mnistDir: string;
  labelSeed: boolean;
  /** Units from elsewhere (a merge of shards): used instead of running and journaling them. */
  units?: UnitRunner;
}

/** A unit runner for one seed: its units journaled beside the result, run in the pool if any. */
export function seedUnits(o: Omit<UnitRunnerOptions, 'context'>, mnist: () => Mnist, cache: UnitCache): JournaledUnits {
  return new JournaledUnits({ ...o, context: { seed: o.seed, mnist, cached: (key, make, dispose) => cache.get(key, make, dispose) } });
}

/**
 * One seed: the study's run() with its context, its timings (the seed's work: wall time less
 * the waiting for workers plus the units' compute time) and its claims. The journal is closed
 * but kept: the caller removes it once the result holding its units is written.
 */
export async function runSeed(o: SeedRequest): Promise<SeedOutcome & { journal: JournaledUnits | null }> {
  const cache = new UnitCache();
  const mnist = () => mnistFrom(o.mnistDir);
  const journal = o.units ? null : seedUnits(o, mnist, cache);
  const units = o.units ?? journal!;
  const ctx = studyContext({ ...o, mnist, units });
  const s0 = performance.now();
  try {
    const out = await o.study.run(o.config, ctx);
    const durationMs = performance.now() - s0;
    // The seed's work, whatever else shared the workers meanwhile (see UnitRunner.times).
    const workMs = durationMs - units.times.waitMs + units.times.unitMs;
    const run: SeedRun = { seed: o.seed, durationMs, timings: { ...(out.timings ?? {}), workMs }, series: out.series, summary: out.summary };
    return { run, claims: o.study.claims(out, o.config), journal };
  } finally {
    journal?.close(false);
    cache.clear();
  }
}

/** What a result says about its run besides the seeds' runs. */
export interface ResultFrame extends Pick<RunDescription, 'profile' | 'name' | 'config' | 'overrides'> {
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

export async function runStudy(req: RunRequest): Promise<{ result: StudyResult; path: string }> {
  const { study } = req;
  // Before any work: journals are kept next to the result while the study runs.
  ensureWritableDir(dirname(join(req.outDir, resultFileName(study.name, req.profile, req.name))));
  const startedAt = new Date();
  // Read where the run happens before it starts: a long run must record the commit it began on.
  const environment = describeEnvironment();
  const backend = tf.getBackend() as BackendName;
  const t0 = performance.now();
  const seeds: SeedOutcome[] = [];
  const journals: JournaledUnits[] = [];
  for (const seed of seedsOf(req)) {
    const { journal, ...outcome } = await runSeed({
      ...req,
      seed,
      journalPath: journalPath(req.outDir, study.name, req.profile, seed, req.name),
      backend,
      gitCommit: environment.gitCommit,
      labelSeed: req.seeds > 1,
    });
    if (journal) journals.push(journal);
    seeds.push(outcome);
  }
  const frame = { ...req, environment, startedAt: startedAt.toISOString(), durationMs: performance.now() - t0 };
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

/** How many claims of a run FAIL and how many are inconclusive. */
export interface VerdictTally {
  fails: number;
  inconclusive: number;
}

/** Adds `claims`' verdicts to `tally` and returns it. */
export function addTally(tally: VerdictTally, claims: readonly { verdict: string }[]): VerdictTally {
  for (const c of claims) {
    if (c.verdict === 'FAILS') tally.fails++;
    else if (c.verdict === 'inconclusive') tally.inconclusive++;
  }
  return tally;
}
