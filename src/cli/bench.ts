/**
 * `npm run bench`: how fast training is, side by side in one run, on each backend that loads
 * (`--backend all`, the default: wasm and tensorflow; or one by name).
 *
 * One training step, for the 5-layer net (batch 128, SGD) and for S7's net (784, six hidden
 * layers of 100, 10; batch 100, SGD, weight decay 1e-6):
 *   - numpy (float64), the lecture's own kind of code (bench/numpy_step.py), when python3 has
 *     numpy: once with OpenBLAS on one thread, once with its default threads;
 *   - on each backend: tfjs with its own matMul gradient (tf.variableGrads over plain matMul);
 *     the tape core (our dense and loss ops differentiated by tfjs's gradient tape,
 *     gradientsTape in src/nn/reference.ts); ours (the hand-written backward pass, Mlp.gradients).
 * Then one S7 trial (400 training images, 100 validation, 50 epochs of batch 100, accuracy on
 * both sets after every epoch: the loop of experiments/hyperparameter-search/trial.ts) on the tape
 * core and on ours, one evaluation of the 10,000 test images, and a tiny op (an add of four
 * values: the engine's cost per kernel call). TensorFlow runs with one intra-op thread, as in
 * each of the suite's default workers (one per core).
 *
 * Times are process CPU time (user + system), which another process on the same cores
 * disturbs much less than wall time; the tfjs variants are interleaved in rounds and each
 * figure is the median round. `--json` prints the figures as one JSON object. Timing lives
 * here, never in a test.
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { BACKEND_CHOICES, selectBackend, shareCoresAmong, tensorflowInfo, type BackendChoice, type BackendName } from '../backend.js';
import { IMAGE_SIZE, gatherRows, loadMnist, resolveMnistDir, type Mnist, type MnistSplit } from '../data/mnist.js';
import { Mlp, type MlpSpec } from '../nn/mlp.js';
import { TapeMlp, TfjsGradientMlp } from '../nn/reference.js';
import { Sgd } from '../optim/optimizers.js';
import { Rng } from '../rng.js';
import { disposeBatch, sampleBatch, toBatch } from '../train/batches.js';
import { trainEpochs, trainStep, type Trainee } from '../train/loop.js';
import { commandDefaults, integerAtLeast, oneOf, strictFlags } from './args.js';
import { runMain } from './main.js';

const FIVE_LAYER = [IMAGE_SIZE, 100, 100, 100, 100, 10];
const S7_NET = [IMAGE_SIZE, 100, 100, 100, 100, 100, 100, 10];
const S7_DECAY = 1e-6;
const S7_LR = 0.01;

type Core = 'tfjs' | 'tape' | 'ours';

function makeNet(core: Core, spec: MlpSpec, rng: Rng): Mlp {
  if (core === 'tfjs') return new TfjsGradientMlp(spec, rng);
  return core === 'tape' ? new TapeMlp(spec, rng) : new Mlp(spec, rng);
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function numpyMsPerStep(steps: number, sizes: number[], batch: number, decay: number, threads: 'one' | 'default'): { ms: number | null; note: string } {
  const script = join(import.meta.dirname, '..', '..', 'bench', 'numpy_step.py');
  const env = { ...process.env };
  if (threads === 'one') env.OPENBLAS_NUM_THREADS = '1';
  else delete env.OPENBLAS_NUM_THREADS;
  try {
    const out = execFileSync('python3', [script, String(steps), sizes.join(','), String(batch), String(decay)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000, env });
    const parsed = JSON.parse(out.trim().split('\n').pop()!) as { msPerStep: number; numpy: string };
    return { ms: parsed.msPerStep, note: `numpy ${parsed.numpy}` };
  } catch (err) {
    return { ms: null, note: `numpy not measured: ${(err as Error).message.split('\n')[0]}` };
  }
}

/**
 * ms of CPU per training step for each core, interleaved: `rounds` rounds, each running
 * `perRound[core]` steps of every core in turn; the median round.
 */
function stepMs(train: MnistSplit, spec: MlpSpec, batch: number, rounds: number, perRound: Record<Core, number>): Record<Core, number> {
  const cores = Object.keys(perRound) as Core[];
  const runs = cores.map((core) => {
    const t: Trainee = { name: core, net: makeNet(core, spec, new Rng(0, 'bench-init')), optimizer: new Sgd(0.01) };
    const rng = new Rng(0, 'bench-batches');
    const run = (n: number) => {
      for (let i = 0; i < n; i++) {
        const b = sampleBatch(train, batch, rng);
        trainStep(t, b);
        disposeBatch(b);
      }
    };
    run(10);
    return { core, t, run, samples: [] as number[] };
  });
  for (let r = 0; r < rounds; r++) {
    for (const x of runs) {
      const n = perRound[x.core];
      const t0 = cpuMs();
      x.run(n);
      x.samples.push((cpuMs() - t0) / n);
    }
  }
  const out = {} as Record<Core, number>;
  for (const x of runs) {
    out[x.core] = median(x.samples);
    x.t.net.dispose();
  }
  return out;
}

/** One S7 trial (trainTrial's loop): CPU seconds, and its per-epoch accuracies (to check the cores agree). */
function s7Trial(core: Core, data: { train: MnistSplit; val: ReturnType<typeof toBatch>; trainEval: ReturnType<typeof toBatch> }): { s: number; val: number[]; train: number[] } {
  const net = makeNet(core, { sizes: S7_NET, activation: 'relu', init: 'he', weightDecay: S7_DECAY }, Rng.stream(0, 'init:1:0'));
  const optimizer = new Sgd(S7_LR);
  const t0 = cpuMs();
  const run = trainEpochs({
    trainees: [{ name: 'net', net, optimizer }],
    train: data.train,
    batchSize: 100,
    epochs: 50,
    rng: Rng.stream(0, 'batches:1:0'),
    evalSets: { val: data.val, train: data.trainEval },
  });
  const s = (cpuMs() - t0) / 1000;
  net.dispose();
  return { s, val: run.accuracy.net!.val!, train: run.accuracy.net!.train! };
}

function evalMs(mnist: Mnist, reps: number): number {
  const test = toBatch(mnist.test);
  const net = new Mlp({ sizes: FIVE_LAYER, activation: 'relu', init: 'he' }, new Rng(0, 'bench-init'));
  net.predict(test.x);
  const samples: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = cpuMs();
    net.predict(test.x);
    samples.push(cpuMs() - t0);
  }
  net.dispose();
  disposeBatch(test);
  return median(samples);
}

const ratio = (x: number | null, y: number | null) => (x === null || y === null ? null : x / y);

/** One net's step figures: numpy (one thread and default threads), tfjs's gradient, the tape core, ours, and their ratios. */
function stepFigures(ms: { tfjs: number; tape: number; ours: number }, numpyOne: { ms: number | null }, numpyDefault: { ms: number | null }) {
  return {
    numpyOneThreadMsPerStep: numpyOne.ms,
    numpyDefaultThreadsMsPerStep: numpyDefault.ms,
    tfjsOwnGradMsPerStep: ms.tfjs,
    tapeCoreMsPerStep: ms.tape,
    oursMsPerStep: ms.ours,
    oursOverTape: ms.ours / ms.tape,
    oursOverNumpyOneThread: ratio(ms.ours, numpyOne.ms),
    tfjsOwnGradOverOurs: ms.tfjs / ms.ours,
  };
}

/** A tiny op's cost through the engine: microseconds of CPU per tf.add of two 4-element tensors. */
function tinyOpUs(): number {
  const x = tf.tensor1d([1, 2, 3, 4]);
  const run = (n: number) => {
    for (let i = 0; i < n; i++) tf.add(x, x).dispose();
  };
  run(2000);
  const samples: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = cpuMs();
    run(5000);
    samples.push(((cpuMs() - t0) * 1000) / 5000);
  }
  x.dispose();
  return median(samples);
}

/** Every tfjs figure on the active backend. */
function measureBackend(mnist: Mnist, rounds: number, trialCount: number) {
  const perRound = { tfjs: 4, tape: 20, ours: 20 };
  const five = stepMs(mnist.train, { sizes: FIVE_LAYER, activation: 'relu', init: 'he' }, 128, rounds, perRound);
  const s7 = stepMs(mnist.train, { sizes: S7_NET, activation: 'relu', init: 'he', weightDecay: S7_DECAY }, 100, rounds, perRound);
  const perm = Rng.stream(0, 'shuffle').permutation(500);
  const train = gatherRows(mnist.train, perm.subarray(100));
  const data = { train, val: toBatch(gatherRows(mnist.train, perm.subarray(0, 100))), trainEval: toBatch(train) };
  const trials: Record<'tape' | 'ours', number[]> = { tape: [], ours: [] };
  let sameAccuracies = true;
  for (let i = 0; i < trialCount; i++) {
    const tape = s7Trial('tape', data);
    const ours = s7Trial('ours', data);
    trials.tape.push(tape.s);
    trials.ours.push(ours.s);
    sameAccuracies &&= JSON.stringify([tape.val, tape.train]) === JSON.stringify([ours.val, ours.train]);
  }
  disposeBatch(data.val);
  disposeBatch(data.trainEval);
  const trialS = { tape: median(trials.tape), ours: median(trials.ours) };
  return {
    five,
    s7,
    s7Trial: { trainImages: train.count, valImages: 100, epochs: 50, tapeCoreS: trialS.tape, oursS: trialS.ours, oursOverTape: trialS.ours / trialS.tape, sameAccuracies },
    evalTestMs: evalMs(mnist, 10),
    tinyOpUs: tinyOpUs(),
  };
}

/** The backends to compare: wasm, and tensorflow when it loads (or the one asked for). */
async function backendsToRun(choice: string): Promise<{ names: BackendName[]; notes: string[] }> {
  if (choice !== 'all') {
    await selectBackend(choice as BackendChoice);
    return { names: [tf.getBackend() as BackendName], notes: [] };
  }
  const names: BackendName[] = [];
  const notes: string[] = [];
  for (const name of ['wasm', 'tensorflow'] as const) {
    try {
      await selectBackend(name);
      names.push(name);
    } catch (err) {
      notes.push(`${name} not measured: ${(err as Error).message}`);
    }
  }
  return { names, notes };
}

async function bench(argv: string[]): Promise<number> {
  const a = await commandDefaults(strictFlags(yargs(argv)))
    .scriptName('npm run bench --')
    .usage('$0 [--backend all|wasm|tensorflow|cpu] [--rounds N] [--json]\n\nms per training step (5-layer net and S7 net): numpy vs tfjs\'s own gradient vs the tape core vs ours, on each backend side by side; one S7 trial; evaluation of 10,000 test images; a tiny op.')
    .option('rounds', { describe: 'interleaved rounds per step figure (each 20 steps per core, 4 for tfjs\'s own gradient)', default: 7, coerce: integerAtLeast('rounds', 1) })
    .option('trials', { describe: 'S7 trials per core, interleaved (the median is reported)', default: 5, coerce: integerAtLeast('trials', 1) })
    .option('backend', { describe: 'tfjs backend, or all: wasm and tensorflow (when it loads) side by side', default: 'all', coerce: oneOf('backend', ['all', ...BACKEND_CHOICES]) })
    .option('mnist-dir', { type: 'string', describe: 'folder with the MNIST IDX files' })
    .option('json', { type: 'boolean', default: false, describe: 'print one JSON object' })
    .option('numpy', { type: 'boolean', default: true, describe: 'also time the numpy reference (--no-numpy to skip)' })
    .option('verbose', { type: 'boolean', default: false })
    .parseAsync();
  const mnist = loadMnist(resolveMnistDir(a['mnist-dir']));
  // One process: TensorFlow gets the one thread each of the suite's two workers has (--workers,
  // the default, is one per core), so that its figures are those of a run of `all`.
  shareCoresAmong(cpus().length);
  const { names, notes } = await backendsToRun(a.backend as string);
  const perBackend: Record<string, ReturnType<typeof measureBackend> & { tensorflow: ReturnType<typeof tensorflowInfo> }> = {};
  for (const name of names) {
    await tf.setBackend(name);
    perBackend[name] = { ...measureBackend(mnist, a.rounds as number, a.trials as number), tensorflow: tensorflowInfo() };
  }

  const numpySteps = 100;
  const np = a.numpy
    ? {
        fiveOne: numpyMsPerStep(numpySteps, FIVE_LAYER, 128, 0, 'one'),
        fiveDefault: numpyMsPerStep(numpySteps, FIVE_LAYER, 128, 0, 'default'),
        s7One: numpyMsPerStep(numpySteps, S7_NET, 100, S7_DECAY, 'one'),
        s7Default: numpyMsPerStep(numpySteps, S7_NET, 100, S7_DECAY, 'default'),
      }
    : null;
  const skipped = { ms: null, note: 'numpy skipped (--no-numpy)' };
  const backends = Object.fromEntries(
    Object.entries(perBackend).map(([name, m]) => [
      name,
      {
        fiveLayer: { net: FIVE_LAYER, batch: 128, ...stepFigures(m.five, np?.fiveOne ?? skipped, np?.fiveDefault ?? skipped) },
        s7: { net: S7_NET, batch: 100, weightDecay: S7_DECAY, ...stepFigures(m.s7, np?.s7One ?? skipped, np?.s7Default ?? skipped) },
        s7Trial: m.s7Trial,
        evalTestMs: m.evalTestMs,
        tinyOpUs: m.tinyOpUs,
        ...(m.tensorflow ? { tensorflow: m.tensorflow } : {}),
      },
    ]),
  );
  const wasm = backends.wasm;
  const native = backends.tensorflow;
  const figures = {
    backends,
    tensorflowOverWasm:
      wasm && native
        ? {
            fiveLayerStep: native.fiveLayer.oursMsPerStep / wasm.fiveLayer.oursMsPerStep,
            s7Step: native.s7.oursMsPerStep / wasm.s7.oursMsPerStep,
            s7Trial: native.s7Trial.oursS / wasm.s7Trial.oursS,
            evalTest: native.evalTestMs / wasm.evalTestMs,
            tinyOp: native.tinyOpUs / wasm.tinyOpUs,
          }
        : null,
    numpy: { fiveLayerOneThreadMs: np?.fiveOne.ms ?? null, fiveLayerDefaultThreadsMs: np?.fiveDefault.ms ?? null, s7OneThreadMs: np?.s7One.ms ?? null, s7DefaultThreadsMs: np?.s7Default.ms ?? null },
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    loadAverage: loadavg(),
    tfjsVersion: tf.version_core,
    node: process.version,
    timing: 'process CPU time, median of interleaved rounds',
    numpyNote: (np?.fiveOne ?? skipped).note,
    notes,
  };
  if (a.json) {
    process.stdout.write(JSON.stringify(figures) + '\n');
    return 0;
  }
  process.stdout.write(benchTable(figures).join('\n') + '\n');
  return 0;
}

type Figures = {
  backends: Record<string, { fiveLayer: ReturnType<typeof stepFigures>; s7: ReturnType<typeof stepFigures>; s7Trial: { oursS: number; tapeCoreS: number; sameAccuracies: boolean }; evalTestMs: number; tinyOpUs: number; tensorflow?: ReturnType<typeof tensorflowInfo> }>;
  tensorflowOverWasm: Record<string, number> | null;
  cpu: string;
  cores: number;
  loadAverage: number[];
  tfjsVersion: string;
  node: string;
  timing: string;
  numpyNote: string;
  notes: string[];
};

/** The figures as a table: one column per backend (ours), numpy beside them, the tensorflow/wasm ratio last. */
function benchTable(f: Figures): string[] {
  const names = Object.keys(f.backends);
  const num = (x: number | null | undefined, d = 2) => (x === null || x === undefined ? 'n/a' : x.toFixed(d)).padStart(12);
  const row = (label: string, numpy: number | null, pick: (b: Figures['backends'][string]) => number | null, ratio?: number, d = 2) =>
    `${label.padEnd(44)}${num(numpy, d)}${names.map((n) => num(pick(f.backends[n]!), d)).join('')}${ratio === undefined ? '' : num(ratio)}`;
  const r = f.tensorflowOverWasm;
  const first = f.backends[names[0]!]!;
  const tf0 = Object.values(f.backends).find((b) => b.tensorflow)?.tensorflow;
  return [
    `${f.cores} x ${f.cpu}, load average ${f.loadAverage.map((x) => x.toFixed(2)).join(' ')}, tfjs ${f.tfjsVersion}, Node ${f.node}; ${f.timing}; ${f.numpyNote}` +
      (tf0 ? `; TensorFlow ${tf0.version}, intra-op threads ${tf0.intraOpThreads}, inter-op ${tf0.interOpThreads}, oneDNN ${tf0.onednnOpts}` : ''),
    ...f.notes,
    `${''.padEnd(44)}${'numpy 1 thr'.padStart(12)}${names.map((n) => n.padStart(12)).join('')}${r ? 'tf / wasm'.padStart(12) : ''}`,
    row('5-layer step, batch 128, ours (ms)', first.fiveLayer.numpyOneThreadMsPerStep, (b) => b.fiveLayer.oursMsPerStep, r?.fiveLayerStep),
    row('  tape core (ms)', null, (b) => b.fiveLayer.tapeCoreMsPerStep),
    row("  tfjs's own matMul gradient (ms)", null, (b) => b.fiveLayer.tfjsOwnGradMsPerStep),
    row('S7 step, batch 100, decay, ours (ms)', first.s7.numpyOneThreadMsPerStep, (b) => b.s7.oursMsPerStep, r?.s7Step),
    row('  tape core (ms)', null, (b) => b.s7.tapeCoreMsPerStep),
    row("  tfjs's own matMul gradient (ms)", null, (b) => b.s7.tfjsOwnGradMsPerStep),
    row('one S7 trial, ours (s)', null, (b) => b.s7Trial.oursS, r?.s7Trial),
    row('  tape core (s)', null, (b) => b.s7Trial.tapeCoreS),
    row('evaluation of 10,000 test images (ms)', null, (b) => b.evalTestMs, r?.evalTest, 1),
    row('a tiny op, add of 4 values (us)', null, (b) => b.tinyOpUs, r?.tinyOp, 1),
    `numpy with OpenBLAS's default threads: 5-layer ${num(first.fiveLayer.numpyDefaultThreadsMsPerStep).trim()} ms, S7 ${num(first.s7.numpyDefaultThreadsMsPerStep).trim()} ms; ` +
      `per-epoch accuracies of ours and the tape core: ${names.map((n) => `${n} ${f.backends[n]!.s7Trial.sameAccuracies ? 'identical' : 'DIFFER'}`).join(', ')}`,
  ];
}

await runMain(() => bench(hideBin(process.argv)));
