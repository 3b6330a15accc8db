/**
 * A worker process of the pool (src/train/pool.ts). It selects the backend it is told, then
 * runs the jobs it is sent over the IPC channel, one at a time:
 *   - a unit of a study (MNIST read once per worker, values a unit caches kept per study,
 *     seed and config);
 *   - a whole study, exactly as `npm run experiment -- <study> --workers 1` would run it.
 * Progress and warnings go to stderr, which the pool relays.
 */
import { selectBackend } from '../backend.js';
import { loadMnist, type Mnist } from '../data/mnist.js';
import { changesHash } from '../config.js';
import { UserError } from '../errors.js';
import type { Profile } from '../results/schema.js';
import { describeOutcome, runSeed, runStudy } from '../runner.js';
import type { UnitContext } from '../study.js';
import { makeProgress } from '../cli/progress.js';
import { findStudy } from '../../experiments/index.js';
import type { Job, Outcome, WorkerSetup } from './pool.js';
import { UnitCache } from './units.js';

const setup = JSON.parse(process.argv[2] ?? '{}') as WorkerSetup;
await selectBackend(setup.backend);

let mnist: Mnist | null = null;
const cache = new UnitCache();
let cachedRun = '';

function studyNamed(name: string) {
  const study = findStudy(name);
  if (!study) throw new Error(`worker: unknown study '${name}'`);
  return study;
}

async function handle(job: Job): Promise<unknown> {
  if (job.type === 'unit') {
    const study = studyNamed(job.study);
    const fn = study.units?.[job.task.unit];
    if (!fn) throw new Error(`worker: ${job.study} has no unit '${job.task.unit}'`);
    // What a unit caches (evaluation tensors) belongs to one run of one study and seed: when
    // the worker moves on to another, the old values are freed.
    const run = `${job.study}:${job.seed}:${changesHash({ config: [job.config, null] })}`;
    if (run !== cachedRun) {
      cache.clear();
      cachedRun = run;
    }
    const ctx: UnitContext = {
      seed: job.seed,
      mnist: () => (mnist ??= loadMnist(setup.mnistDir)),
      cached: (key, make, dispose) => cache.get(key, make, dispose),
    };
    return fn(job.config, job.task, ctx);
  }
  const study = studyNamed(job.study);
  const r = job.request;
  const common = {
    profile: r.profile as Profile,
    config: r.config as object,
    mnistDir: setup.mnistDir,
    resume: r.resume,
    fresh: r.fresh,
    progress: (label: string, total: number) => makeProgress(label, total, { quiet: r.quiet }),
    log: (line: string) => process.stderr.write(`  ${line}\n`),
  };
  if (job.type === 'seed') {
    const q = job.request;
    const { journal: _journal, ...outcome } = await runSeed(study, { ...common, seed: q.seed, journalPath: q.journalPath, backend: setup.backend, gitCommit: q.gitCommit, pool: null, labelSeed: true });
    return outcome;
  }
  const q = job.request;
  const { result, path } = await runStudy(study, { ...common, name: q.name, overrides: q.overrides, seed: q.seed, seeds: q.seeds, outDir: q.outDir, workers: 1 });
  return { lines: describeOutcome(result, path), failing: result.claims.filter((c) => c.verdict === 'FAILS').length };
}

process.on('message', (message: { id: number; job: Job }) => {
  void (async () => {
    let outcome: Outcome;
    try {
      const t0 = performance.now();
      const value = await handle(message.job);
      outcome = { ok: true, value, ms: performance.now() - t0 };
    } catch (err) {
      outcome = { ok: false, userError: err instanceof UserError, error: err instanceof Error ? err.message.split('\n')[0]! : String(err) };
    }
    process.send!({ id: message.id, outcome });
  })();
});
// The pool closes the channel when it is done with this worker.
process.on('disconnect', () => process.exit(0));
