/**
 * S17 symmetry: why weights must start random. If every weight of a layer starts at the same
 * value, every unit of that layer computes the same output and receives the same gradient, so
 * the units stay copies of one another however long the net trains: a layer of 100 units is
 * then one unit, repeated. A tiny random perturbation is enough to make them differ.
 *
 * A 784-100-100-10 net, tanh and ReLU, trained by SGD on the same minibatches from each init:
 * every weight 0; every weight the same constant c (two values); the first constant plus tiny
 * Gaussian noise; the first constant with dropout (measured only); and the random init of the
 * activation (Xavier for tanh, He for ReLU). Beside them, a net with one hidden unit per layer
 * (random init), trained the same way: what the constant-init net is, in effect.
 *
 * Recorded every `recordEvery` iterations (and before the first update): per hidden layer the
 * number of distinct units, counted twice: units equal bit for bit, and units equal within a
 * relative 1e-6 (a unit is its column of W and its bias); how far the hidden weights moved from
 * their start (max |W - W0|); and test accuracy. At the end, the first hidden layer's weights
 * on a sample of input pixels, for the heat map.
 *
 * Choices the notes leave open, made before the lecture-scale run:
 * - SGD at 0.1, batch 100 (the rate of the ensembles study on the same 10,000 images);
 * - the constants: 0.01 (the notes' example) and 0.001, chosen so tanh is not saturated: the
 *   mean training image's pixels sum to about 103 (mean pixel 0.13 x 784), so the first
 *   layer's pre-activation starts at about 103 c: 1.03 at c = 0.01, where tanh' is already
 *   0.41, and 0.10 at c = 0.001, where tanh' is 0.99;
 * - every weight of the net is the constant, the output layer's too; biases 0;
 * - the noise (std 1e-4) and the dropout (0.2, the lecture's form: not inverted) are applied
 *   to the first constant.
 */
import { z } from 'zod';
import { count, hiddenLayers, positive, share, testImages, trainImages } from '../../src/config.js';
import { comparing, verdictOf } from '../../src/claims.js';
import { firstRows } from '../../src/data/mnist.js';
import { judgeDifference } from '../../src/difference.js';
import { initLabel, type InitScheme } from '../../src/nn/init.js';
import { mnistNet } from '../../src/nn/mnist-net.js';
import type { Mlp } from '../../src/nn/mlp.js';
import { makeOptimizer } from '../../src/optim/optimizers.js';
import { ACCURACY_TOLERANCE } from '../../src/regression.js';
import { Rng } from '../../src/rng.js';
import { roundSig } from '../../src/stats.js';
import { defineStudy, unit, type ClaimCheck, type KeyNumber, type UnitContext } from '../../src/study.js';
import { disposeBatch, toBatch } from '../../src/train/batches.js';
import { evaluateAccuracy, trainIterations } from '../../src/train/loop.js';
import { symmetryFigures } from './figure.js';

const activationName = z.enum(['tanh', 'relu']);

export const SymmetryConfigSchema = z
  .strictObject({
    trainSize: trainImages,
    testSize: testImages,
    hidden: hiddenLayers,
    batchSize: count(1, 60_000),
    iterations: count(1),
    lr: positive,
    /** Record distinct units, weight change and test accuracy every this many iterations. */
    recordEvery: count(1),
    /** The activations, each with its random init (the control). */
    activations: z.partialRecord(activationName, z.enum(['xavier', 'he'])),
    /** The constants every weight starts at (beside 0); the first also gets the noise and the dropout arms. */
    constants: z.array(z.number().finite().refine((c) => c !== 0, 'a constant other than 0 (0 is its own arm)')).min(1),
    /** Std of the Gaussian noise added to the first constant. */
    noise: positive,
    /** Dropout ratio of the measured dropout arm. */
    dropout: share,
    /** Input pixels of the heat map's sample (indices 0..783). */
    heatmapPixels: z.array(z.number().int().min(0).max(783)).min(1).max(784),
  })
  .refine((c) => Object.keys(c.activations).length >= 1, { message: 'needs at least one activation', path: ['activations'] });
export type SymmetryConfig = z.infer<typeof SymmetryConfigSchema>;

/** Every 28th pixel of the image's middle row and of the column through its centre: 56 pixels the digits cover. */
const MIDDLE_PIXELS = [...Array.from({ length: 28 }, (_, i) => 14 * 28 + i), ...Array.from({ length: 28 }, (_, i) => i * 28 + 14)];

const lecture: SymmetryConfig = {
  trainSize: 10_000,
  testSize: 10_000,
  hidden: [100, 100],
  batchSize: 100,
  iterations: 2000,
  lr: 0.1,
  recordEvery: 100,
  activations: { tanh: 'xavier', relu: 'he' },
  constants: [0.01, 0.001],
  noise: 1e-4,
  dropout: 0.2,
  heatmapPixels: MIDDLE_PIXELS,
};

// Quick: 1,000 images, 100 iterations, recorded every 25, 1,000 test images; every arm kept
// (the claims need them), 14 short runs.
const quick: SymmetryConfig = { ...lecture, trainSize: 1000, testSize: 1000, iterations: 100, recordEvery: 25 };

/** The arms of one activation, by kind. */
export type ArmKind = 'zero' | 'constant' | 'noise' | 'dropout' | 'random' | 'one-unit';

export interface ArmTask {
  activation: 'tanh' | 'relu';
  kind: ArmKind;
  /** The constant (zero, constant, noise, dropout arms). */
  c?: number;
}

export function armName(t: ArmTask): string {
  const c = t.c ?? 0;
  switch (t.kind) {
    case 'zero':
      return `${t.activation}:zero`;
    case 'constant':
      return `${t.activation}:const ${c}`;
    case 'noise':
      return `${t.activation}:const ${c} + noise`;
    case 'dropout':
      return `${t.activation}:const ${c} + dropout`;
    case 'random':
      return `${t.activation}:random`;
    case 'one-unit':
      return `${t.activation}:one unit per layer`;
  }
}

export function armTasks(config: SymmetryConfig): ArmTask[] {
  const out: ArmTask[] = [];
  const c0 = config.constants[0]!;
  for (const activation of Object.keys(config.activations) as ('tanh' | 'relu')[]) {
    out.push({ activation, kind: 'zero', c: 0 });
    for (const c of config.constants) out.push({ activation, kind: 'constant', c });
    out.push({ activation, kind: 'noise', c: c0 }, { activation, kind: 'dropout', c: c0 }, { activation, kind: 'random' }, { activation, kind: 'one-unit' });
  }
  return out;
}

export interface ArmSeries {
  activation: 'tanh' | 'relu';
  kind: ArmKind;
  init: string;
  widths: number[];
  /** The iterations recorded at (0: before the first update). */
  at: number[];
  /** Per record, per hidden layer: distinct units bit for bit, and within a relative 1e-6. */
  distinctExact: number[][];
  distinctClose: number[][];
  /** Per record: max |W - W0| over the hidden layers' weights and biases. */
  hiddenChange: number[];
  testAccuracy: number[];
  /** The loss of each iteration's batch after its update (rounded; null once diverged). */
  loss: (number | null)[];
  /** First hidden layer at the end: units x the sampled pixels (the random and first-constant arms only). */
  heatmap?: number[][];
}

export interface SymmetrySeries {
  arms: Record<string, ArmSeries>;
}

export interface ArmSummary {
  init: string;
  finalDistinctExact: number[];
  finalDistinctClose: number[];
  /** Largest distinct count bit for bit at any record (a symmetric net must stay at 1). */
  maxDistinctExact: number[];
  maxHiddenChange: number;
  testAccuracy: number;
  finalLoss: number | null;
}

export type SymmetrySummary = Record<string, ArmSummary>;

/** Relative tolerance of "within 1e-6". */
export const CLOSE = 1e-6;

/**
 * Distinct units of a layer: W (fanIn x fanOut, row-major) and b (fanOut); unit j is column j
 * with b[j]. Bit for bit: equal float32 bit patterns (so 0 and -0 differ, as they would in a
 * hash); close: max |u - v| <= CLOSE * max(|u|, |v|) over their entries, counted greedily
 * against the first unit of each group.
 */
export function distinctUnits(w: Float32Array, b: Float32Array, fanIn: number, fanOut: number): { exact: number; close: number } {
  const cols: Float32Array[] = [];
  for (let j = 0; j < fanOut; j++) {
    const col = new Float32Array(fanIn + 1);
    for (let i = 0; i < fanIn; i++) col[i] = w[i * fanOut + j]!;
    col[fanIn] = b[j]!;
    cols.push(col);
  }
  const exact = new Set(cols.map((c) => Buffer.from(c.buffer).toString('base64'))).size;
  const reps: Float32Array[] = [];
  for (const c of cols) {
    const same = reps.some((r) => {
      let diff = 0;
      let scale = 0;
      for (let i = 0; i < c.length; i++) {
        diff = Math.max(diff, Math.abs(c[i]! - r[i]!));
        scale = Math.max(scale, Math.abs(c[i]!), Math.abs(r[i]!));
      }
      return diff <= CLOSE * scale;
    });
    if (!same) reps.push(c);
  }
  return { exact, close: reps.length };
}

function initOf(config: SymmetryConfig, t: ArmTask): InitScheme {
  if (t.kind === 'random' || t.kind === 'one-unit') return config.activations[t.activation]!;
  if (t.kind === 'noise') return { constant: t.c!, noise: config.noise };
  if (t.kind === 'zero') return { constant: 0 };
  return { constant: t.c! };
}

/** The hidden layers' weights and biases, read back. */
function hiddenParams(net: Mlp): { w: Float32Array; b: Float32Array }[] {
  const n = net.weights.length - 1;
  return Array.from({ length: n }, (_, l) => ({ w: net.weights[l]!.dataSync() as Float32Array, b: net.biases[l]!.dataSync() as Float32Array }));
}

function trainArm(config: SymmetryConfig, t: ArmTask, ctx: UnitContext): ArmSeries & { msPerStep: number } {
  const mnist = ctx.mnist();
  const train = firstRows(mnist.train, config.trainSize);
  const test = ctx.cached('s17-test', () => toBatch(firstRows(mnist.test, config.testSize)), disposeBatch);
  const widths = t.kind === 'one-unit' ? config.hidden.map(() => 1) : config.hidden;
  const init = initOf(config, t);
  const net = mnistNet(widths, { activation: t.activation, init, ...(t.kind === 'dropout' ? { dropout: config.dropout } : {}) }, Rng.stream(ctx.seed, `init:${armName(t)}`));
  const optimizer = makeOptimizer('sgd', config.lr);
  const start = hiddenParams(net);
  const series: ArmSeries = { activation: t.activation, kind: t.kind, init: initLabel(init), widths, at: [], distinctExact: [], distinctClose: [], hiddenChange: [], testAccuracy: [], loss: [] };
  const record = (iteration: number) => {
    const now = hiddenParams(net);
    const counts = now.map((p, l) => distinctUnits(p.w, p.b, l === 0 ? 784 : widths[l - 1]!, widths[l]!));
    let change = 0;
    now.forEach((p, l) => {
      for (let i = 0; i < p.w.length; i++) change = Math.max(change, Math.abs(p.w[i]! - start[l]!.w[i]!));
      for (let i = 0; i < p.b.length; i++) change = Math.max(change, Math.abs(p.b[i]! - start[l]!.b[i]!));
    });
    series.at.push(iteration);
    series.distinctExact.push(counts.map((c) => c.exact));
    series.distinctClose.push(counts.map((c) => c.close));
    series.hiddenChange.push(change);
    series.testAccuracy.push(evaluateAccuracy(net, test));
  };
  record(0);
  const r = trainIterations({
    trainees: [{ name: 'net', net, optimizer }],
    train,
    batchSize: config.batchSize,
    iterations: config.iterations,
    // Every arm sees the same batches.
    rng: Rng.stream(ctx.seed, 'batches'),
    onIteration: (i) => {
      if ((i + 1) % config.recordEvery === 0 || i + 1 === config.iterations) record(i + 1);
    },
  });
  series.loss = r.loss.net!.map((x) => (x === null ? null : roundSig(x, 5)));
  if (t.kind === 'random' || (t.kind === 'constant' && t.c === config.constants[0])) {
    const w = net.weights[0]!.dataSync();
    const width = widths[0]!;
    series.heatmap = Array.from({ length: width }, (_, j) => config.heatmapPixels.map((p) => roundSig(w[p * width + j]!, 4)));
  }
  net.dispose();
  optimizer.dispose();
  return { ...series, msPerStep: r.msPerStep };
}

const units = { arm: unit(trainArm) };

/** Mean loss of the last 100 iterations (the final loss the key numbers guard). */
const TAIL = 100;

export const symmetry = defineStudy<SymmetryConfig, SymmetrySeries, SymmetrySummary, typeof units>({
  name: 'symmetry',
  id: 'S17',
  title: 'Why weights must start random',
  description: '784-100-100-10 net, tanh and ReLU, SGD 0.1, 10,000 images, 2000 iterations: all weights 0, all equal to a constant, the constant plus tiny noise (or with dropout), random; distinct units per layer, test accuracy, and a one-unit-per-layer net beside them',
  needsMnist: true,
  configSchema: SymmetryConfigSchema,
  profiles: { lecture, quick },
  units,
  async run(config, ctx) {
    const tasks = armTasks(config);
    const progress = ctx.progress('inits', tasks.length);
    const runs = (await ctx.units.run(
      tasks.map((t) => ({ unit: 'arm' as const, key: armName(t), input: t })),
      () => progress.tick(),
    )) as (ArmSeries & { msPerStep: number })[];
    progress.done();
    const arms: Record<string, ArmSeries> = {};
    const summary: SymmetrySummary = {};
    const timings: Record<string, number> = {};
    tasks.forEach((t, k) => {
      const { msPerStep, ...s } = runs[k]!;
      const name = armName(t);
      arms[name] = s;
      const tail = s.loss.slice(-TAIL);
      summary[name] = {
        init: s.init,
        finalDistinctExact: s.distinctExact.at(-1)!,
        finalDistinctClose: s.distinctClose.at(-1)!,
        maxDistinctExact: s.distinctExact[0]!.map((_, l) => Math.max(...s.distinctExact.map((d) => d[l]!))),
        maxHiddenChange: Math.max(...s.hiddenChange),
        testAccuracy: s.testAccuracy.at(-1)!,
        finalLoss: tail.every((x) => x !== null) ? tail.reduce((a, b) => a + b!, 0) / tail.length : null,
      };
      timings[`${name}.msPerStep`] = msPerStep;
      ctx.log(`${name}: distinct units ${summary[name]!.finalDistinctExact.join('/')} (bit for bit), ${summary[name]!.finalDistinctClose.join('/')} (within 1e-6); test accuracy ${summary[name]!.testAccuracy.toFixed(4)}`);
    });
    return { series: { arms }, summary, timings };
  },
  claims: symmetryClaims,
  // CI's guard: every arm's final test accuracy.
  keyNumbers(run): Record<string, KeyNumber> {
    return Object.fromEntries(Object.entries(run.summary).map(([n, s]) => [`${n}.testAccuracy`, { value: s.testAccuracy, tolerance: ACCURACY_TOLERANCE }]));
  },
  figures: symmetryFigures,
  curves: (run) => [
    { panel: 'test accuracy', x: 'iteration', y: 'test accuracy', lines: Object.entries(run.series.arms).map(([n, a]) => ({ name: n, x: a.at, y: a.testAccuracy })) },
    { panel: 'distinct units, first hidden layer', x: 'iteration', y: 'distinct units (bit for bit)', lines: Object.entries(run.series.arms).map(([n, a]) => ({ name: n, x: a.at, y: a.distinctExact.map((d) => d[0]!) })) },
  ],
});

// ---------------------------------------------------------------------------------------
// Claims, with their thresholds, fixed before the lecture-scale run:
// - symmetric: every net started from a constant (0 or c, no noise, no dropout) has exactly 1
//   distinct unit, bit for bit, in every hidden layer at every record;
// - zero ReLU: the hidden weights and biases of the all-zero ReLU net never move (max |W - W0|
//   exactly 0 at every record);
// - far below: per activation and per constant, the random init's test accuracy exceeds the
//   constant-init net's by more than 0.2 (the notes' margin), the difference real under the
//   suite's rule (two accuracies on the same test images); the random net must have learned
//   (the constant nets are predicted not to learn much, so they are not checked);
// - noise: the constant-plus-noise nets end with as many distinct units as the layer is wide,
//   counted within a relative 1e-6 (the stricter count: bit-for-bit distinctness is trivial).
export const FAR_BELOW = 0.2;

function symmetryClaims(run: { summary: SymmetrySummary; series: SymmetrySeries }, config: SymmetryConfig): ClaimCheck[] {
  const arms = run.series.arms;
  const s = run.summary;
  const names = Object.keys(arms);
  const constantArms = names.filter((n) => arms[n]!.kind === 'zero' || arms[n]!.kind === 'constant');
  const claims: ClaimCheck[] = [];
  claims.push({
    id: 'constant-stays-symmetric',
    text: 'from a constant init (0 or c, every weight equal), every hidden layer still has exactly one distinct unit after training, bit for bit (and at every record on the way)',
    verdict: verdictOf(constantArms.length > 0 && constantArms.every((n) => s[n]!.maxDistinctExact.every((d) => d === 1))),
    numbers: Object.fromEntries(constantArms.map((n) => [n, s[n]!.maxDistinctExact])),
  });
  const zeroRelu = names.find((n) => arms[n]!.kind === 'zero' && arms[n]!.activation === 'relu');
  if (zeroRelu) {
    claims.push({
      id: 'zero-relu-frozen',
      text: 'from all-zero weights with ReLU, the hidden weights never change (their gradients are exactly zero): max |W - W0| over the hidden layers is 0 at every record',
      verdict: verdictOf(s[zeroRelu]!.maxHiddenChange === 0),
      numbers: { maxHiddenChange: s[zeroRelu]!.maxHiddenChange, testAccuracy: s[zeroRelu]!.testAccuracy },
    });
  }
  for (const activation of Object.keys(config.activations)) {
    const random = s[`${activation}:random`];
    const oneUnit = s[`${activation}:one unit per layer`];
    const constants = constantArms.filter((n) => arms[n]!.activation === activation);
    if (!random || constants.length === 0) continue;
    const parts = constants.map((n) => {
      const dv = judgeDifference('higher', { kind: 'accuracy', n: config.testSize, a: random.testAccuracy, b: s[n]!.testAccuracy });
      const margin = random.testAccuracy - s[n]!.testAccuracy;
      const verdict = dv.verdict === 'holds' && margin > FAR_BELOW ? 'holds' : dv.verdict === 'inconclusive' ? 'inconclusive' : 'FAILS';
      return { n, margin, verdict, test: dv.difference.test, reason: dv.reason };
    });
    const verdict = parts.some((p) => p.verdict === 'FAILS') ? 'FAILS' : parts.some((p) => p.verdict === 'inconclusive') ? 'inconclusive' : 'holds';
    const reasons = parts.filter((p) => p.verdict === verdict && p.reason).map((p) => `${p.n}: ${p.reason}`);
    claims.push(
      comparing(
        {
          id: `constant-far-below-random-${activation}`,
          text: `${activation}: every constant-init net's test accuracy is far below the random init's (${random.init}): lower by more than ${FAR_BELOW}, a real difference; the one-unit-per-layer net's accuracy beside them`,
          verdict,
          ...(verdict !== 'holds' && reasons.length ? { reason: reasons.join('; ') } : {}),
          numbers: {
            random: random.testAccuracy,
            ...Object.fromEntries(parts.map((p) => [p.n.slice(activation.length + 1), s[p.n]!.testAccuracy])),
            oneUnitPerLayer: oneUnit?.testAccuracy ?? null,
            margins: Object.fromEntries(parts.map((p) => [p.n.slice(activation.length + 1), roundSig(p.margin, 4)])),
            tests: Object.fromEntries(parts.map((p) => [p.n.slice(activation.length + 1), p.test])),
          },
        },
        { random: { accuracy: random.testAccuracy } },
      ),
    );
  }
  const noisy = names.filter((n) => arms[n]!.kind === 'noise');
  claims.push({
    id: 'noise-breaks-symmetry',
    text: `tiny noise (std ${config.noise}) on the constant is enough to break the symmetry: every hidden layer ends with as many distinct units as it is wide (within a relative ${CLOSE})`,
    verdict: verdictOf(noisy.length > 0 && noisy.every((n) => s[n]!.finalDistinctClose.every((d, l) => d === arms[n]!.widths[l]))),
    numbers: Object.fromEntries(noisy.map((n) => [n, s[n]!.finalDistinctClose])),
  });
  return claims;
}
