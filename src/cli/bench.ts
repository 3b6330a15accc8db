/**
 * `npm run bench`: how fast training is, side by side in one run.
 *
 * One training step, for the 5-layer net (batch 128, SGD) and for S7's net (784, six hidden
 * layers of 100, 10; batch 100, SGD, weight decay 1e-6):
 *   - numpy (float64), the lecture's own kind of code (bench/numpy_step.py), when python3 has
 *     numpy: once with OpenBLAS on one thread, once with its default threads;
 *   - tfjs with its own matMul gradient (tf.variableGrads over plain matMul);
 *   - the tape core: our dense and loss ops differentiated by tfjs's gradient tape
 *     (gradientsTape in src/nn/reference.ts, the training core before the hand-written backward);
 *   - ours: the hand-written backward pass (Mlp.gradients, src/nn/layers.ts).
 * Then one S7 trial (400 training images, 100 validation, 50 epochs of batch 100, accuracy on
 * both sets after every epoch: the loop of experiments/hyperparameter-search/trial.ts) on the tape
 * core and on ours, and one evaluation of the 10,000 test images.
 *
 * Times are process CPU time (user + system), which another process on the same cores
 * disturbs much less than wall time; the tfjs variants are interleaved in rounds and each
 * figure is the median round. `--json` prints the figures as one JSON object. Timing lives
 * here, never in a test.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { BACKEND_CHOICES, selectBackend, type BackendChoice } from '../backend.js';
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

async function bench(argv: string[]): Promise<number> {
  const a = await commandDefaults(strictFlags(yargs(argv)))
    .scriptName('npm run bench --')
    .usage('$0 [--rounds N] [--json]\n\nms per training step (5-layer net and S7 net): numpy vs tfjs\'s own gradient vs the tape core vs ours; one S7 trial; evaluation of 10,000 test images.')
    .option('rounds', { describe: 'interleaved rounds per step figure (each 20 steps per core, 4 for tfjs\'s own gradient)', default: 7, coerce: integerAtLeast('rounds', 1) })
    .option('trials', { describe: 'S7 trials per core, interleaved (the median is reported)', default: 5, coerce: integerAtLeast('trials', 1) })
    .option('backend', { describe: 'tfjs backend', default: 'auto', coerce: oneOf('backend', BACKEND_CHOICES) })
    .option('mnist-dir', { type: 'string', describe: 'folder with the MNIST IDX files' })
    .option('json', { type: 'boolean', default: false, describe: 'print one JSON object' })
    .option('numpy', { type: 'boolean', default: true, describe: 'also time the numpy reference (--no-numpy to skip)' })
    .option('verbose', { type: 'boolean', default: false })
    .parseAsync();
  const mnist = loadMnist(resolveMnistDir(a['mnist-dir']));
  const backend = await selectBackend(a.backend as BackendChoice);
  const rounds = a.rounds as number;
  const perRound = { tfjs: 4, tape: 20, ours: 20 };

  const five = stepMs(mnist.train, { sizes: FIVE_LAYER, activation: 'relu', init: 'he' }, 128, rounds, perRound);
  const s7 = stepMs(mnist.train, { sizes: S7_NET, activation: 'relu', init: 'he', weightDecay: S7_DECAY }, 100, rounds, perRound);

  const perm = Rng.stream(0, 'shuffle').permutation(500);
  const train = gatherRows(mnist.train, perm.subarray(100));
  const data = { train, val: toBatch(gatherRows(mnist.train, perm.subarray(0, 100))), trainEval: toBatch(train) };
  const trials: Record<'tape' | 'ours', number[]> = { tape: [], ours: [] };
  let sameAccuracies = true;
  for (let i = 0; i < (a.trials as number); i++) {
    const tape = s7Trial('tape', data);
    const ours = s7Trial('ours', data);
    trials.tape.push(tape.s);
    trials.ours.push(ours.s);
    sameAccuracies &&= JSON.stringify([tape.val, tape.train]) === JSON.stringify([ours.val, ours.train]);
  }
  disposeBatch(data.val);
  disposeBatch(data.trainEval);
  const trialS = { tape: median(trials.tape), ours: median(trials.ours) };
  const evaluation = evalMs(mnist, 10);

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
  const figures = {
    backend: backend.name,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    tfjsVersion: tf.version_core,
    node: process.version,
    timing: 'process CPU time, median of interleaved rounds',
    fiveLayer: { net: FIVE_LAYER, batch: 128, ...stepFigures(five, np?.fiveOne ?? skipped, np?.fiveDefault ?? skipped) },
    s7: { net: S7_NET, batch: 100, weightDecay: S7_DECAY, ...stepFigures(s7, np?.s7One ?? skipped, np?.s7Default ?? skipped) },
    s7Trial: {
      trainImages: train.count,
      valImages: 100,
      epochs: 50,
      tapeCoreS: trialS.tape,
      oursS: trialS.ours,
      oursOverTape: trialS.ours / trialS.tape,
      sameAccuracies,
    },
    evalTestMs: evaluation,
    numpyNote: (np?.fiveOne ?? skipped).note,
  };
  if (a.json) {
    process.stdout.write(JSON.stringify(figures) + '\n');
    return 0;
  }
  const f = (x: number | null, d = 2) => (x === null ? '   n/a' : x.toFixed(d).padStart(6));
  const block = (title: string, s: typeof figures.fiveLayer) => [
    title,
    `  numpy float64, OpenBLAS 1 thread         ${f(s.numpyOneThreadMsPerStep)} ms`,
    `  numpy float64, OpenBLAS default threads  ${f(s.numpyDefaultThreadsMsPerStep)} ms`,
    `  tfjs, its own matMul gradient            ${f(s.tfjsOwnGradMsPerStep)} ms`,
    `  tape core (our ops under tfjs's tape)    ${f(s.tapeCoreMsPerStep)} ms`,
    `  ours (hand-written backward)             ${f(s.oursMsPerStep)} ms`,
    `  ours / tape core                         ${f(s.oursOverTape)}`,
    `  ours / numpy 1 thread                    ${f(s.oursOverNumpyOneThread)}`,
    `  tfjs own gradient / ours                 ${f(s.tfjsOwnGradOverOurs)}`,
  ];
  process.stdout.write(
    [
      `backend ${figures.backend}, ${figures.cores} x ${figures.cpu}, tfjs ${figures.tfjsVersion}, Node ${figures.node}; ${figures.timing}; ${figures.numpyNote}`,
      ...block('one training step, 5-layer net (784-100-100-100-100-10), batch 128, SGD:', figures.fiveLayer),
      ...block(`one training step, S7 net (784, 6 x 100, 10), batch 100, SGD, weight decay ${S7_DECAY}:`, figures.s7),
      `one S7 trial (${train.count} train / 100 val images, 50 epochs, evaluation of both every epoch):`,
      `  tape core                                ${f(trialS.tape)} s`,
      `  ours                                     ${f(trialS.ours)} s`,
      `  ours / tape core                         ${f(figures.s7Trial.oursOverTape)}   (per-epoch accuracies ${sameAccuracies ? 'identical' : 'DIFFER'})`,
      `evaluation of 10,000 test images           ${f(evaluation, 1)} ms`,
      '',
    ].join('\n'),
  );
  return 0;
}

await runMain(() => bench(hideBin(process.argv)));
