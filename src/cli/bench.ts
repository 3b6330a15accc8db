/**
 * `npm run bench`: how fast one training step is, side by side in one run.
 *   - numpy (float64), the lecture's own kind of code (bench/numpy_step.py), when python3 has numpy;
 *   - tfjs with its own matMul gradient;
 *   - ours (the dense op with explicit transposes and the fused fast path);
 * plus evaluation of the 10,000 test images. `--json` prints the figures as one JSON object.
 * Timing lives here, never in a test.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { BACKEND_CHOICES, selectBackend, type BackendChoice } from '../backend.js';
import { IMAGE_SIZE, resolveMnistDir } from '../data/mnist.js';
import { Mlp } from '../nn/mlp.js';
import { Sgd } from '../optim/optimizers.js';
import { Rng } from '../rng.js';
import { mnistFrom } from '../runner.js';
import { disposeBatch, sampleBatch, toBatch } from '../train/batches.js';
import { trainStep } from '../train/loop.js';
import { failAsUserError, integerAtLeast, oneOf, strictFlags } from './args.js';
import { runMain } from './main.js';

const SIZES = [IMAGE_SIZE, 100, 100, 100, 100, 10];
const BATCH = 128;

function numpyMsPerStep(steps: number): { ms: number | null; note: string } {
  const script = join(import.meta.dirname, '..', '..', 'bench', 'numpy_step.py');
  try {
    const out = execFileSync('python3', [script, String(steps)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
    const parsed = JSON.parse(out.trim().split('\n').pop()!) as { msPerStep: number; numpy: string };
    return { ms: parsed.msPerStep, note: `numpy ${parsed.numpy}` };
  } catch (err) {
    return { ms: null, note: `numpy not measured: ${(err as Error).message.split('\n')[0]}` };
  }
}

function trainMsPerStep(tfjsGradient: boolean, steps: number, mnistDir: string): number {
  const train = mnistFrom(mnistDir).train;
  const net = new Mlp({ sizes: SIZES, activation: 'relu', init: 'he', tfjsGradient }, new Rng(0, 'bench-init'));
  const t = { name: 'sgd', net, optimizer: new Sgd(0.01) };
  const rng = new Rng(0, 'bench-batches');
  const run = (n: number) => {
    for (let i = 0; i < n; i++) {
      const b = sampleBatch(train, BATCH, rng);
      trainStep(t, b);
      disposeBatch(b);
    }
  };
  run(20);
  const t0 = performance.now();
  run(steps);
  const ms = (performance.now() - t0) / steps;
  net.dispose();
  return ms;
}

function evalMs(mnistDir: string, reps: number): number {
  const test = toBatch(mnistFrom(mnistDir).test);
  const net = new Mlp({ sizes: SIZES, activation: 'relu', init: 'he' }, new Rng(0, 'bench-init'));
  net.predict(test.x);
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) net.predict(test.x);
  const ms = (performance.now() - t0) / reps;
  net.dispose();
  disposeBatch(test);
  return ms;
}

async function bench(argv: string[]): Promise<number> {
  const a = await strictFlags(yargs(argv))
    .scriptName('npm run bench --')
    .usage('$0 [--steps N] [--json]\n\nms per training step (5-layer net, batch 128, SGD): numpy vs tfjs\'s own gradient vs ours; evaluation of 10,000 test images.')
    .option('steps', { describe: 'timed steps per variant', default: 200, coerce: integerAtLeast('steps', 1) })
    .option('backend', { describe: 'tfjs backend', default: 'auto', coerce: oneOf('backend', BACKEND_CHOICES) })
    .option('mnist-dir', { type: 'string', describe: 'folder with the MNIST IDX files' })
    .option('json', { type: 'boolean', default: false, describe: 'print one JSON object' })
    .option('numpy', { type: 'boolean', default: true, describe: 'also time the numpy reference (--no-numpy to skip)' })
    .option('verbose', { type: 'boolean', default: false })
    .strict()
    .help()
    .version(false)
    .fail(failAsUserError)
    .parseAsync();
  const mnistDir = resolveMnistDir(a['mnist-dir']);
  mnistFrom(mnistDir);
  const backend = await selectBackend(a.backend as BackendChoice);
  const steps = a.steps as number;
  const ours = trainMsPerStep(false, steps, mnistDir);
  const own = trainMsPerStep(true, Math.max(20, Math.round(steps / 4)), mnistDir);
  const evaluation = evalMs(mnistDir, 10);
  const numpy = a.numpy ? numpyMsPerStep(steps) : { ms: null, note: 'numpy skipped (--no-numpy)' };
  const figures = {
    backend: backend.name,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    tfjsVersion: tf.version_core,
    batch: BATCH,
    steps,
    numpyMsPerStep: numpy.ms,
    tfjsOwnGradMsPerStep: own,
    oursMsPerStep: ours,
    evalTestMs: evaluation,
    oursOverNumpy: numpy.ms === null ? null : ours / numpy.ms,
    tfjsOwnGradOverOurs: own / ours,
    numpyNote: numpy.note,
  };
  if (a.json) {
    process.stdout.write(JSON.stringify(figures) + '\n');
    return 0;
  }
  const f = (x: number | null) => (x === null ? '   n/a' : x.toFixed(2).padStart(6));
  process.stdout.write(
    [
      `backend ${figures.backend}, ${figures.cores} x ${figures.cpu}, tfjs ${figures.tfjsVersion}`,
      `one training step, 5-layer net (784-100-100-100-100-10), batch ${BATCH}, SGD:`,
      `  numpy float64 (${numpy.note})   ${f(numpy.ms)} ms`,
      `  tfjs, its own matMul gradient      ${f(own)} ms`,
      `  ours                               ${f(ours)} ms`,
      `  ours / numpy                       ${f(figures.oursOverNumpy)}`,
      `  tfjs own gradient / ours           ${f(figures.tfjsOwnGradOverOurs)}`,
      `evaluation of 10,000 test images     ${f(evaluation)} ms`,
      '',
    ].join('\n'),
  );
  return 0;
}

await runMain(() => bench(hideBin(process.argv)));
