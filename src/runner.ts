/**
 * Running a study: one run() per seed, claims checked per seed and combined, the result
 * written atomically, and the outcome described for the console.
 */
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { BackendName } from './backend.js';
import { loadMnist, type Mnist } from './data/mnist.js';
import { describeEnvironment } from './environment.js';
import { formatDuration, formatNumbers } from './format.js';
import { aggregateSummaries, combineClaims } from './results/aggregate.js';
import type { Profile, SeedRun, StudyResult } from './results/schema.js';
import { SCHEMA_VERSION } from './results/schema.js';
import { ensureWritableDir, resultFileName, writeResult } from './results/store.js';
import type { AnyStudy, ClaimCheck, ProgressTicker, StudyContext } from './study.js';
import { WorkerPool } from './train/pool.js';
import { JournaledUnits, UnitCache } from './train/units.js';

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
  const runs: SeedRun[] = [];
  const claimsPerSeed: { seed: number; claims: ClaimCheck[] }[] = [];
  const journals: JournaledUnits[] = [];
  try {
    for (let k = 0; k < req.seeds; k++) {
      const seed = req.seed + k;
      const cache = new UnitCache();
      const mnist = () => mnistFrom(req.mnistDir);
      const units = new JournaledUnits({
        study: study.name,
        config,
        seed,
        units: study.units ?? {},
        journalPath: journalPath(req.outDir, study.name, req.profile, seed, req.name),
        header: { journal: study.name, format: 2, seed, profile: req.profile, backend, config },
        resume: req.resume,
        fresh: req.fresh,
        gitCommit: environment.gitCommit,
        pool,
        expectedMs: req.expectedMs,
        context: { seed, mnist, cached: (key, make, dispose) => cache.get(key, make, dispose) },
        log: req.log,
      });
      journals.push(units);
      const ctx: StudyContext = {
        seed,
        profile: req.profile,
        mnist,
        progress: (label, total) => req.progress(req.seeds > 1 ? `${label} (seed ${seed})` : label, total),
        log: req.log,
        units,
      };
      const s0 = performance.now();
      try {
        const run = await study.run(config, ctx);
        const durationMs = performance.now() - s0;
        // The seed's work, whatever else shared the workers meanwhile (see UnitRunner.times).
        const workMs = durationMs - units.times.waitMs + units.times.unitMs;
        runs.push({ seed, durationMs, timings: { ...(run.timings ?? {}), workMs }, series: run.series, summary: run.summary });
        claimsPerSeed.push({ seed, claims: study.claims(run, config) });
      } finally {
        units.close(false);
        cache.clear();
      }
    }
  } finally {
    ownPool?.close();
  }
  const result: StudyResult = {
    schemaVersion: SCHEMA_VERSION,
    study: study.name,
    title: `${study.id} ${study.title}`,
    profile: req.profile,
    name: req.name,
    seeds: runs.map((r) => r.seed),
    config: config as Record<string, unknown>,
    overrides: req.overrides,
    environment,
    startedAt: startedAt.toISOString(),
    durationMs: performance.now() - t0,
    runs,
    summary: aggregateSummaries(runs.map((r) => r.summary)) as Record<string, unknown>,
    claims: combineClaims(claimsPerSeed),
  };
  const path = writeResult(req.outDir, result);
  // The result holds every unit now: the journals have done their job.
  for (const j of journals) j.close(true);
  return { result, path };
}

/** What the console shows of a finished run: each claim with its verdict and numbers, and the file. */
export function describeOutcome(result: StudyResult, path: string): string[] {
  const lines: string[] = [];
  if (result.claims.length === 0) lines.push('  no claim checked: every claim of this study needs something this run left out (a variant, an update rule)');
  for (const c of result.claims) lines.push(`  ${c.holds ? 'holds' : 'FAILS'}  ${c.text}`, `         ${formatNumbers(c.numbers)}`);
  lines.push(`  wrote ${path} (${formatDuration(result.durationMs)})`);
  return lines;
}
