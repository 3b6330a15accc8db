/**
 * A worker process of the pool (src/exec/pool.ts). It selects the backend it is told, imports
 * the registry it is told (src/exec/registry.ts), then runs the jobs it is sent over the IPC
 * channel, one at a time:
 *   - a unit of a study (MNIST read once per worker, values a unit caches kept per study,
 *     seed and config);
 *   - a whole study, exactly as `npm run experiment -- <study> --workers 1` would run it, or one
 *     seed of it.
 * Progress and log lines go back as events over the same channel; stderr is left for what is
 * not ours to format (warnings of libraries, a crash's trace), which the pool relays.
 */
import { selectBackend } from '../backend.js';
import { loadMnist, type Mnist } from '../data/mnist.js';
import { changesHash } from '../config.js';
import { UserError } from '../errors.js';
import type { UnitContext } from '../study.js';
import type { RunSink } from './events.js';
import type { Job, Outcome, WorkerMessage, WorkerSetup } from './pool.js';
import { findStudy, importRegistry } from './registry.js';
import { addTally, describeOutcome, runSeed, runStudy } from './runner.js';
import { UnitCache } from './units.js';

const setup = JSON.parse(process.argv[2] ?? '{}') as WorkerSetup;
await selectBackend(setup.backend);
const registry = await importRegistry(setup.registry);

const send = (message: WorkerMessage): void => void process.send!(message);
const sink: RunSink = (event) => send({ event });

let mnist: Mnist | null = null;
const cache = new UnitCache();
let cachedRun = '';

function studyNamed(name: string) {
  const study = findStudy(registry, name);
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
  const study = studyNamed(job.run.study);
  if (job.type === 'seed') {
    const { journal: _journal, ...outcome } = await runSeed({ ...job.run, study, mnistDir: setup.mnistDir, backend: setup.backend, pool: null, labelSeed: true, sink });
    return outcome;
  }
  const { result, path } = await runStudy({ ...job.run, study, pool: null, sink });
  return { lines: describeOutcome(result, path), failing: addTally({ fails: 0, inconclusive: 0 }, result.claims) };
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
    send({ id: message.id, outcome });
  })();
});
// The pool closes the channel when it is done with this worker.
process.on('disconnect', () => process.exit(0));
