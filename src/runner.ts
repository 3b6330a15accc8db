/**
 * Running a study: one run() per seed, claims checked per seed and combined, the result
 * written atomically, and the outcome printed.
 */
import { describeEnvironment } from './environment.js';
import { loadMnist, type Mnist } from './data/mnist.js';
import { aggregateSummaries, combineClaims } from './results/aggregate.js';
import type { Profile, SeedRun, StudyResult } from './results/schema.js';
import { SCHEMA_VERSION } from './results/schema.js';
import { ensureWritableDir, writeResult } from './results/store.js';
import type { AnyStudy, ProgressTicker, StudyContext } from './study.js';
import type { ClaimCheck } from './study.js';

export interface RunRequest {
  profile: Profile;
  /** First seed; --seeds N runs seed, seed+1, ..., seed+N-1. */
  seed: number;
  seeds: number;
  outDir: string;
  mnistDir: string;
  /** The study's own flags. */
  args: Record<string, unknown>;
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

export function studyConfig(study: AnyStudy, profile: Profile, args: Record<string, unknown>): object {
  const base = study.profiles[profile];
  return study.configure ? study.configure(base, args) : base;
}

export async function runStudy(study: AnyStudy, req: RunRequest): Promise<{ result: StudyResult; path: string }> {
  const config = studyConfig(study, req.profile, req.args);
  // Before any work: a study may keep files next to its result while it runs (S7's journal).
  ensureWritableDir(req.outDir);
  const startedAt = new Date();
  // Read where the run happens before it starts: a long run must record the commit it began on.
  const environment = describeEnvironment();
  const t0 = performance.now();
  const runs: SeedRun[] = [];
  const claimsPerSeed: { seed: number; claims: ClaimCheck[] }[] = [];
  for (let k = 0; k < req.seeds; k++) {
    const seed = req.seed + k;
    const ctx: StudyContext = {
      seed,
      profile: req.profile,
      mnist: () => mnistFrom(req.mnistDir),
      mnistDir: req.mnistDir,
      progress: (label, total) => req.progress(req.seeds > 1 ? `${label} (seed ${seed})` : label, total),
      log: req.log,
      outDir: req.outDir,
      args: req.args,
    };
    const s0 = performance.now();
    const run = await study.run(config, ctx);
    runs.push({ seed, durationMs: performance.now() - s0, series: run.series, summary: run.summary });
    claimsPerSeed.push({ seed, claims: study.claims(run, config) });
  }
  const result: StudyResult = {
    schemaVersion: SCHEMA_VERSION,
    study: study.name,
    title: `${study.id} ${study.title}`,
    profile: req.profile,
    seeds: runs.map((r) => r.seed),
    config: config as Record<string, unknown>,
    environment,
    startedAt: startedAt.toISOString(),
    durationMs: performance.now() - t0,
    runs,
    summary: aggregateSummaries(runs.map((r) => r.summary)) as Record<string, unknown>,
    claims: combineClaims(claimsPerSeed),
  };
  const path = writeResult(req.outDir, result);
  return { result, path };
}
