/**
 * S18 batchnorm-effects: the rest of what batch norm does, beside S5's "learns faster, depends
 * less on the init" and S15's evaluation statistics. Six parts, each its own unit(s) of work:
 *
 * (a) regularization: S6's setting (the first 300 training images, 7-layer ReLU/He net, SGD
 *     0.01, batch 100, 201 epochs), plain against batch norm and nothing else, the same initial
 *     weights and batches; train and test accuracy every epoch.
 * (b) rates: the 5-layer ReLU/He net on the first 10,000 training images, one epoch of 79
 *     updates of batch 128 (10,000 / 128 = 78.1, rounded up), SGD at each rate, with and
 *     without batch norm, every net from the same weights on the same batches; the final loss
 *     and whether it diverged.
 * (c) gradients: at init, for S5's 16 init scales (std w of every weight matrix, 1 down to
 *     1e-4) and S5's net (5 hidden ReLU layers), the norm of each layer's weight gradient on
 *     one batch of 100 of S5's 1,000 images, with and without batch norm (the same weights).
 * (d) bias: a batch-norm net with and without the bias of each affine layer before batch norm,
 *     the same weights and batches, 2,000 iterations; the bias's gradient norm against W's, and
 *     the two loss curves' difference, beside a round-off control: the bias-free net with every
 *     first-layer weight moved by one unit in the last place (ulp) of float32.
 * (e) drift: plain and batch norm on the same weights and batches; on a fixed probe batch, the
 *     mean and std of every unit of every layer's input (for the BN net: after its batch norm
 *     and ReLU, what the next affine layer sees) at the start and every 50 iterations.
 * (f) gamma and beta: a sigmoid/Xavier batch-norm net with gamma and beta learned, and frozen
 *     at 1 and 0, the same weights and batches.
 * Parts (d)-(f) share one setting: the 5-layer net on the first 10,000 training images, batch
 * 100, SGD 0.1, 2,000 iterations.
 *
 * Choices the notes leave open, made before the lecture-scale run:
 * - (b) "final loss": the loss on all 10,000 training images after the epoch, evaluation mode
 *   (running statistics), computed in 100 evaluation batches of 100, whose losses are the
 *   paired evidence when two nets are compared; "diverged": the training loss became NaN or
 *   infinite at some update, or the final loss is not below ln 10 = 2.303, the loss of a
 *   uniform guess where every net starts (it ended no better than it began);
 * - (d)-(f) SGD 0.1, the rate of S12 and S17 on the same net, where the plain net learns too;
 *   at 0.01 the parameters move a tenth as far in 2,000 updates, and these parts watch what
 *   moves (gamma and beta, the layer inputs);
 * - (e) the probe batch: 500 training images drawn once; batch norm on it uses its own
 *   statistics (training mode) without touching the running statistics. Relative change of a
 *   unit's mean between checkpoints: |mu_k+1 - mu_k| / |mu_k|, over units with mu_k != 0 (a ReLU
 *   unit off for the whole probe batch has no relative change; their count is recorded).
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { count, hiddenLayers, positive, testImages, trainImages } from '../../src/config.js';
import { byDifference, CHANCE_LOSS, comparing, lossDifference, verdictOf } from '../../src/claims.js';
import { firstRows, gatherRows } from '../../src/data/mnist.js';
import { judgeDifference } from '../../src/difference.js';
import { disposeTrainees, hiddenOf, mnistNet } from '../../src/nn/mnist-net.js';
import type { Mlp } from '../../src/nn/mlp.js';
import { Sgd } from '../../src/optim/optimizers.js';
import { ACCURACY_TOLERANCE, defaultTolerance } from '../../src/regression.js';
import { Rng } from '../../src/rng.js';
import { mean, median, roundSig } from '../../src/stats.js';
import { defineStudy, unit, type ClaimCheck, type CurvePanel, type KeyNumber, type UnitContext } from '../../src/study.js';
import { disposeBatch, sampleBatch, toBatch, type Batch } from '../../src/train/batches.js';
import { gradientNormsOf, layerGradientNorms, layerInputStatistics } from '../../src/train/layer-probes.js';
import { trainEpochs, type Trainee } from '../../src/train/loop.js';
import { batchnormEffectsFigures } from './figure.js';

export const PARTS = ['regularization', 'rates', 'gradients', 'bias', 'drift', 'gamma-beta'] as const;
export type Part = (typeof PARTS)[number];
export const PART_TITLE: Record<Part, string> = {
  regularization: '(a) regularization',
  rates: '(b) learning rates',
  gradients: '(c) gradient flow at init',
  bias: '(d) the bias before BN',
  drift: '(e) stability of layer inputs',
  'gamma-beta': '(f) gamma and beta',
};

export const ARMS = ['plain', 'bn'] as const;
export type Arm = (typeof ARMS)[number];

/** n values from 10^a to 10^b, evenly spaced in log10 (S5's scales). */
const logspace = (a: number, b: number, n: number): number[] => Array.from({ length: n }, (_, i) => 10 ** (n === 1 ? a : a + ((b - a) * i) / (n - 1)));

export const BatchnormEffectsConfigSchema = z.strictObject({
  regularization: z.strictObject({ trainSize: trainImages, testSize: testImages, hidden: hiddenLayers, lr: positive, batchSize: count(1, 60_000), epochs: count(1) }),
  rates: z
    .strictObject({
      trainSize: trainImages,
      hidden: hiddenLayers,
      batchSize: count(1, 60_000),
      iterations: count(1),
      rates: z.array(positive).min(2),
      /** The final loss is taken over the training images in evaluation batches of this size (it must divide trainSize). */
      evalBatch: count(1, 60_000),
    })
    .refine((r) => r.trainSize % r.evalBatch === 0, { message: 'evalBatch must divide trainSize', path: ['evalBatch'] }),
  gradients: z.strictObject({ trainSize: trainImages, hidden: hiddenLayers, batchSize: count(1, 60_000), scales: z.array(positive).min(1) }),
  long: z
    .strictObject({
      trainSize: trainImages,
      hidden: hiddenLayers,
      batchSize: count(1, 60_000),
      iterations: count(1),
      lr: positive,
      /** Record bias-gradient ratios (d) and layer-input statistics (e) every this many iterations. */
      recordEvery: count(1),
      probeSize: count(2, 60_000),
      /** Final loss: the mean over the last `tail` iterations (also the window of the paired comparison). */
      tail: count(1),
    })
    .refine((l) => l.tail <= l.iterations, { message: 'tail must not exceed iterations', path: ['tail'] }),
  /** Which parts this run does (--part). */
  parts: z.array(z.enum(PARTS)).min(1),
});
export type BatchnormEffectsConfig = z.infer<typeof BatchnormEffectsConfigSchema>;

const lecture: BatchnormEffectsConfig = {
  regularization: { trainSize: 300, testSize: 10_000, hidden: hiddenOf(6), lr: 0.01, batchSize: 100, epochs: 201 },
  rates: { trainSize: 10_000, hidden: hiddenOf(4), batchSize: 128, iterations: 79, rates: [0.01, 0.03, 0.1, 0.3, 1, 3, 10], evalBatch: 100 },
  gradients: { trainSize: 1000, hidden: hiddenOf(5), batchSize: 100, scales: logspace(0, -4, 16) },
  long: { trainSize: 10_000, hidden: hiddenOf(4), batchSize: 100, iterations: 2000, lr: 0.1, recordEvery: 50, probeSize: 500, tail: 100 },
  parts: [...PARTS],
};

/**
 * CI-sized: (a) a sixth of the updates at six times the rate (lr x updates kept, as S6's quick
 * profile does with a third), 1,000 test images; (b) 1,000 images, one epoch of 8 updates,
 * every rate; (c) every third scale, both ends kept; (d)-(f) 2,000 images, 60 iterations,
 * recorded every 20, a probe of 200.
 */
const quick: BatchnormEffectsConfig = {
  regularization: { ...lecture.regularization, testSize: 1000, lr: 0.06, epochs: 34 },
  rates: { ...lecture.rates, trainSize: 1000, iterations: 8 },
  gradients: { ...lecture.gradients, scales: lecture.gradients.scales.filter((_, i) => i % 3 === 0) },
  long: { ...lecture.long, trainSize: 2000, iterations: 60, recordEvery: 20, probeSize: 200, tail: 30 },
  parts: [...PARTS],
};

// ---------------------------------------------------------------------------------------
// Claim thresholds, with their reasons, fixed before the first lecture-scale run.
/** (b) "allows larger learning rates": the largest rate that does not diverge, at least 3x larger with BN (the claim's factor; the rates step by about 3x, so one step up). */
export const RATE_FACTOR = 3;
/** (c) "improves gradient flow": with BN the largest layer's weight-gradient norm is within 10x of the smallest at every scale... */
export const BN_SPAN = 10;
/** ...and without BN it spans more than 100x at every badly scaled init (S5's: w >= 0.5 or w <= 0.01). */
export const PLAIN_SPAN = 100;
export const LARGE_W = 0.5;
export const SMALL_W = 0.01;
/**
 * (d) "the bias is unnecessary": its gradient is zero in exact arithmetic (the batch mean's
 * subtraction removes it), so in float32 it is round-off: below 1e-5 of W's norm (float32's
 * epsilon is 1.2e-7; sums over a batch of 100 and 100 units leave it well below 1e-5).
 */
export const BIAS_GRADIENT_RATIO = 1e-5;
/**
 * (d) The bound on the curves' difference: round-off grows as training goes on, by however much
 * training amplifies a tiny change, so it is measured, not guessed: the control moves every
 * first-layer weight of the bias-free net by one float32 ulp, and the bias/no-bias curves must
 * differ by at most 10 times the control's largest difference (the bias injects its round-off
 * at every step rather than once, and the same-size change grows by different amounts from run
 * to run: one order of magnitude covers both).
 */
export const ROUNDOFF_FACTOR = 10;
/** (e) "less covariate shift": the median relative change of per-unit means between checkpoints at least 2x smaller with BN (the claim's factor). */
export const DRIFT_FACTOR = 2;

// ---------------------------------------------------------------------------------------
// Series and summaries

export interface RegularizationSeries {
  accuracy: Partial<Record<Arm, { train: number[]; test: number[] }>>;
}
export interface RegularizationArm {
  finalTrain: number;
  finalTest: number;
  finalGap: number;
  diverged: boolean;
}

export interface RateArmRun {
  /** Training-mode loss of each update's batch, before the update (null once non-finite). */
  loss: (number | null)[];
  /** Iteration whose loss was NaN or infinite (the net trains no further), or null. */
  nonFiniteAt: number | null;
  /** Loss of each evaluation batch after the epoch (evaluation mode); null entries where not finite. */
  evalLoss: (number | null)[];
}
export interface RateArm {
  finalLoss: number | null;
  nonFiniteAt: number | null;
  diverged: boolean;
}

export interface GradientScale {
  w: number;
  /** ||dL/dW_l|| per layer, input first, per arm. */
  norms: Record<Arm, number[]>;
  /** max / min over the layers; null when the smallest is 0 (the ratio is unbounded) or a norm is not finite. */
  ratio: Record<Arm, number | null>;
}

export interface BiasSeries {
  /** Iterations at which the bias net's gradient ratios were recorded. */
  at: number[];
  /** Per record, per hidden layer: ||db|| / ||dW|| of the net with a bias before batch norm. */
  biasRatio: number[][];
  /** Training-mode loss per iteration, per net. */
  loss: Record<BiasNet, (number | null)[]>;
}
export const BIAS_NETS = ['bias', 'no-bias', 'ulp'] as const;
export type BiasNet = (typeof BIAS_NETS)[number];
export interface BiasSummary {
  maxBiasRatio: number;
  /** Largest |b| of the pre-BN biases at the end (they start at 0). */
  maxAbsBias: number;
  /** max over iterations of |loss(bias) - loss(no bias)| and of |loss(ulp) - loss(no bias)|. */
  maxDiff: number | null;
  maxDiffControl: number | null;
  /** First iteration at which the two losses differ (bias vs no bias; control vs no bias), null if never. */
  firstDiffer: number | null;
  firstDifferControl: number | null;
  finalLoss: Record<BiasNet, number | null>;
}

export interface DriftSeries {
  at: number[];
  /** Per arm, per checkpoint pair k (at[k] -> at[k+1]), per layer: the median relative change of its units' means. */
  meanChange: Record<Arm, number[][]>;
  stdChange: Record<Arm, number[][]>;
  loss: Record<Arm, (number | null)[]>;
}
export interface DriftArm {
  /** Median over all units, layers and checkpoint pairs. */
  medianMeanChange: number | null;
  medianStdChange: number | null;
  /** (unit, pair) cases left out because the unit's mean (std) was 0 at the earlier checkpoint. */
  zeroMeans: number;
  finalLoss: number | null;
}

export const GB_NETS = ['learned', 'frozen'] as const;
export type GbNet = (typeof GB_NETS)[number];

export interface BatchnormEffectsSeries {
  regularization?: RegularizationSeries;
  rates?: { rates: number[]; runs: Record<Arm, RateArmRun>[] };
  gradients?: GradientScale[];
  bias?: BiasSeries;
  drift?: DriftSeries;
  gammaBeta?: { loss: Record<GbNet, (number | null)[]> };
}

export interface BatchnormEffectsSummary {
  regularization?: Record<Arm, RegularizationArm>;
  rates?: Record<string, Record<Arm, RateArm>>;
  gradients?: Record<string, { w: number; ratio: Record<Arm, number | null> }>;
  bias?: BiasSummary;
  drift?: Record<Arm, DriftArm>;
  gammaBeta?: Record<GbNet, { finalLoss: number | null }>;
}

const rateKey = (r: number) => `lr=${r}`;
const scaleKey = (w: number) => `w=${w.toPrecision(3)}`;
const tailMean = (xs: readonly (number | null)[], tail: number): number | null => {
  const t = xs.slice(-tail);
  return t.length > 0 && t.every((x) => x !== null && Number.isFinite(x)) ? mean(t as number[]) : null;
};
const round = (x: number | null): number | null => (x === null || !Number.isFinite(x) ? null : roundSig(x, 6));

// ---------------------------------------------------------------------------------------
// Units

/** (a) One arm on S6's setting; both arms draw the same initial weights and batches. */
function trainRegularization(config: BatchnormEffectsConfig, arm: Arm, ctx: UnitContext): { train: number[]; test: number[]; diverged: boolean; msPerStep: number } {
  const c = config.regularization;
  const mnist = ctx.mnist();
  const train = firstRows(mnist.train, c.trainSize);
  const evalSets = ctx.cached(
    's18-regularization-eval',
    () => ({ train: toBatch(train), test: toBatch(firstRows(mnist.test, c.testSize)) }),
    (s) => {
      disposeBatch(s.train);
      disposeBatch(s.test);
    },
  );
  const net = mnistNet(c.hidden, { activation: 'relu', init: 'he', batchNorm: arm === 'bn' }, Rng.stream(ctx.seed, 'regularization:init'));
  const trainees: Trainee[] = [{ name: arm, net, optimizer: new Sgd(c.lr) }];
  const r = trainEpochs({ trainees, train, batchSize: c.batchSize, epochs: c.epochs, rng: Rng.stream(ctx.seed, 'regularization:batches'), evalSets });
  disposeTrainees(trainees);
  return { train: r.accuracy[arm]!.train!, test: r.accuracy[arm]!.test!, diverged: r.divergedAt[arm] !== null, msPerStep: r.msPerStep };
}

/** One step of a net that has not diverged: the training-mode loss before the update (the update made only when it is finite). */
function step(net: Mlp, opt: Sgd, batch: Batch, onGrads?: (grads: tf.Tensor[]) => void): number {
  const { loss, grads } = net.gradients(batch.x, batch.y, batch.xT);
  onGrads?.(grads);
  if (Number.isFinite(loss)) opt.update(net.params(), grads);
  for (const g of grads) g.dispose();
  return loss;
}

/** (b) One rate: the plain and BN nets from the same weights on the same batches, one epoch, then the loss on every training image. */
function trainRate(config: BatchnormEffectsConfig, rate: number, ctx: UnitContext): Record<Arm, RateArmRun> & { msPerStep: number } {
  const c = config.rates;
  const train = firstRows(ctx.mnist().train, c.trainSize);
  const evalBatches = ctx.cached(
    's18-rates-eval',
    () => Array.from({ length: c.trainSize / c.evalBatch }, (_, k) => toBatch(gatherRows(train, Array.from({ length: c.evalBatch }, (_, i) => k * c.evalBatch + i)))),
    (bs) => bs.forEach(disposeBatch),
  );
  const nets = ARMS.map((arm) => ({ arm, net: mnistNet(c.hidden, { activation: 'relu', init: 'he', batchNorm: arm === 'bn' }, Rng.stream(ctx.seed, 'rates:init')), opt: new Sgd(rate) }));
  const out = Object.fromEntries(ARMS.map((a) => [a, { loss: [], nonFiniteAt: null, evalLoss: [] } as RateArmRun])) as Record<Arm, RateArmRun>;
  const rng = Rng.stream(ctx.seed, 'rates:batches');
  const t0 = performance.now();
  for (let i = 0; i < c.iterations; i++) {
    const batch = sampleBatch(train, c.batchSize, rng);
    for (const n of nets) {
      const r = out[n.arm];
      if (r.nonFiniteAt !== null) {
        r.loss.push(null);
        continue;
      }
      const loss = step(n.net, n.opt, batch);
      r.loss.push(Number.isFinite(loss) ? loss : null);
      if (!Number.isFinite(loss)) r.nonFiniteAt = i;
    }
    disposeBatch(batch);
  }
  const msPerStep = (performance.now() - t0) / (c.iterations * nets.length);
  for (const n of nets) {
    out[n.arm].evalLoss = evalBatches.map((b) => {
      const l = n.net.lossValue(b.x, b.y);
      return Number.isFinite(l) ? l : null;
    });
    n.net.dispose();
    n.opt.dispose();
  }
  return { ...out, msPerStep };
}

/** (c) Every scale: the weight-gradient norms of a plain and a BN net from the same weights, on one batch. */
function gradientsAtInit(config: BatchnormEffectsConfig, _input: null, ctx: UnitContext): GradientScale[] {
  const c = config.gradients;
  const train = firstRows(ctx.mnist().train, c.trainSize);
  const batch = sampleBatch(train, c.batchSize, Rng.stream(ctx.seed, 'gradients:batch'));
  const out = c.scales.map((w, i) => {
    const norms = {} as Record<Arm, number[]>;
    for (const arm of ARMS) {
      const net = mnistNet(c.hidden, { activation: 'relu', init: { std: w }, batchNorm: arm === 'bn' }, Rng.stream(ctx.seed, `gradients:init:${i}`));
      norms[arm] = layerGradientNorms(net, batch.x, batch.y).weight;
      net.dispose();
    }
    const ratio = Object.fromEntries(
      ARMS.map((arm) => {
        const n = norms[arm];
        const lo = Math.min(...n);
        return [arm, n.every(Number.isFinite) && lo > 0 ? Math.max(...n) / lo : null];
      }),
    ) as Record<Arm, number | null>;
    return { w, norms, ratio };
  });
  disposeBatch(batch);
  return out;
}

/** The long setting's training images and the nets' shared batch stream. */
function longTrain(config: BatchnormEffectsConfig, ctx: UnitContext) {
  return { train: firstRows(ctx.mnist().train, config.long.trainSize), rng: Rng.stream(ctx.seed, 'long:batches') };
}

/** Moves every weight of the tensor one float32 ulp away from zero (zero itself to the smallest positive float). */
function nudgeOneUlp(v: tf.Variable): void {
  const x = Float32Array.from(v.dataSync());
  const bits = new Uint32Array(x.buffer);
  for (let i = 0; i < bits.length; i++) bits[i] = bits[i]! + 1;
  tf.tidy(() => v.assign(tf.tensor(x, v.shape)));
}

/** (d) BN nets with and without the bias before batch norm, and the one-ulp control, on the same batches. */
function trainBias(config: BatchnormEffectsConfig, _input: null, ctx: UnitContext): BiasSeries & { maxAbsBias: number; msPerStep: number } {
  const c = config.long;
  const { train, rng } = longTrain(config, ctx);
  const make = (biasBeforeBatchNorm: boolean) => mnistNet(c.hidden, { activation: 'relu', init: 'he', batchNorm: true, biasBeforeBatchNorm }, Rng.stream(ctx.seed, 'long:init'));
  const nets: Record<BiasNet, { net: Mlp; opt: Sgd }> = {
    bias: { net: make(true), opt: new Sgd(c.lr) },
    'no-bias': { net: make(false), opt: new Sgd(c.lr) },
    ulp: { net: make(false), opt: new Sgd(c.lr) },
  };
  nudgeOneUlp(nets.ulp.net.weights[0]!);
  const series: BiasSeries = { at: [], biasRatio: [], loss: { bias: [], 'no-bias': [], ulp: [] } };
  const hidden = c.hidden.length;
  const t0 = performance.now();
  for (let i = 0; i < c.iterations; i++) {
    const batch = sampleBatch(train, c.batchSize, rng);
    const record = i % c.recordEvery === 0 || i + 1 === c.iterations;
    for (const name of BIAS_NETS) {
      const { net, opt } = nets[name];
      const prev = series.loss[name].at(-1);
      if (prev === null) {
        series.loss[name].push(null);
        continue;
      }
      const onGrads =
        name === 'bias' && record
          ? (grads: tf.Tensor[]) => {
              const n = gradientNormsOf(net, grads);
              series.at.push(i);
              series.biasRatio.push(Array.from({ length: hidden }, (_, l) => n.bias[l]! / n.weight[l]!));
            }
          : undefined;
      const loss = step(net, opt, batch, onGrads);
      series.loss[name].push(Number.isFinite(loss) ? loss : null);
    }
    disposeBatch(batch);
  }
  const msPerStep = (performance.now() - t0) / (c.iterations * BIAS_NETS.length);
  let maxAbsBias = 0;
  for (let l = 0; l < hidden; l++) for (const b of nets.bias.net.biases[l]!.dataSync()) maxAbsBias = Math.max(maxAbsBias, Math.abs(b));
  for (const { net, opt } of Object.values(nets)) {
    net.dispose();
    opt.dispose();
  }
  return { ...series, maxAbsBias, msPerStep };
}

/** Per unit, |now - before| / |before| for units with before != 0; and how many had before = 0. */
function relativeChanges(before: number[], now: number[]): { changes: number[]; zeros: number } {
  const changes: number[] = [];
  let zeros = 0;
  before.forEach((b, j) => {
    if (b === 0) zeros++;
    else changes.push(Math.abs(now[j]! - b) / Math.abs(b));
  });
  return { changes, zeros };
}

interface DriftArmRun {
  meanChange: number[][];
  stdChange: number[][];
  allMean: number[];
  allStd: number[];
  zeroMeans: number;
  loss: (number | null)[];
}

/** (e) Plain and BN from the same weights on the same batches; per-unit input statistics on the probe batch at every checkpoint. */
function trainDrift(config: BatchnormEffectsConfig, _input: null, ctx: UnitContext): { at: number[]; runs: Record<Arm, DriftArmRun>; msPerStep: number } {
  const c = config.long;
  const { train, rng } = longTrain(config, ctx);
  const probe = toBatch(gatherRows(train, Rng.stream(ctx.seed, 'long:probe').choice(train.count, c.probeSize)));
  const nets = ARMS.map((arm) => ({ arm, net: mnistNet(c.hidden, { activation: 'relu', init: 'he', batchNorm: arm === 'bn' }, Rng.stream(ctx.seed, 'long:init')), opt: new Sgd(c.lr) }));
  const runs = Object.fromEntries(ARMS.map((a) => [a, { meanChange: [], stdChange: [], allMean: [], allStd: [], zeroMeans: 0, loss: [] } as DriftArmRun])) as Record<Arm, DriftArmRun>;
  const last = Object.fromEntries(nets.map((n) => [n.arm, layerInputStatistics(n.net, probe.x)])) as Record<Arm, ReturnType<typeof layerInputStatistics>>;
  const at = [0];
  let stepMs = 0;
  for (let i = 0; i < c.iterations; i++) {
    const batch = sampleBatch(train, c.batchSize, rng);
    const t0 = performance.now();
    for (const n of nets) {
      const r = runs[n.arm];
      if (r.loss.at(-1) === null) {
        r.loss.push(null);
        continue;
      }
      const loss = step(n.net, n.opt, batch);
      r.loss.push(Number.isFinite(loss) ? loss : null);
    }
    stepMs += performance.now() - t0;
    disposeBatch(batch);
    if ((i + 1) % c.recordEvery === 0 || i + 1 === c.iterations) {
      at.push(i + 1);
      for (const n of nets) {
        const r = runs[n.arm];
        const now = layerInputStatistics(n.net, probe.x);
        const perLayerMean: number[] = [];
        const perLayerStd: number[] = [];
        now.mean.forEach((m, l) => {
          const dm = relativeChanges(last[n.arm].mean[l]!, m);
          const ds = relativeChanges(last[n.arm].std[l]!, now.std[l]!);
          r.allMean.push(...dm.changes);
          r.allStd.push(...ds.changes);
          r.zeroMeans += dm.zeros;
          perLayerMean.push(median(dm.changes) ?? NaN);
          perLayerStd.push(median(ds.changes) ?? NaN);
        });
        r.meanChange.push(perLayerMean);
        r.stdChange.push(perLayerStd);
        last[n.arm] = now;
      }
    }
  }
  disposeBatch(probe);
  for (const n of nets) {
    n.net.dispose();
    n.opt.dispose();
  }
  return { at, runs, msPerStep: stepMs / (c.iterations * nets.length) };
}

/** (f) Sigmoid/Xavier BN nets, gamma and beta learned and frozen, from the same weights on the same batches. */
function trainGammaBeta(config: BatchnormEffectsConfig, _input: null, ctx: UnitContext): { loss: Record<GbNet, (number | null)[]>; msPerStep: number } {
  const c = config.long;
  const { train, rng } = longTrain(config, ctx);
  const nets = GB_NETS.map((name) => ({
    name,
    net: mnistNet(c.hidden, { activation: 'sigmoid', init: 'xavier', batchNorm: true, batchNormAffine: name }, Rng.stream(ctx.seed, 'gamma-beta:init')),
    opt: new Sgd(c.lr),
  }));
  const loss: Record<GbNet, (number | null)[]> = { learned: [], frozen: [] };
  const t0 = performance.now();
  for (let i = 0; i < c.iterations; i++) {
    const batch = sampleBatch(train, c.batchSize, rng);
    for (const n of nets) {
      if (loss[n.name].at(-1) === null) {
        loss[n.name].push(null);
        continue;
      }
      const l = step(n.net, n.opt, batch);
      loss[n.name].push(Number.isFinite(l) ? l : null);
    }
    disposeBatch(batch);
  }
  const msPerStep = (performance.now() - t0) / (c.iterations * nets.length);
  for (const n of nets) {
    n.net.dispose();
    n.opt.dispose();
  }
  return { loss, msPerStep };
}

const units = {
  regularization: unit(trainRegularization),
  rate: unit(trainRate),
  gradients: unit(gradientsAtInit),
  bias: unit(trainBias),
  drift: unit(trainDrift),
  gammaBeta: unit(trainGammaBeta),
};

// ---------------------------------------------------------------------------------------

export const batchnormEffects = defineStudy<BatchnormEffectsConfig, BatchnormEffectsSeries, BatchnormEffectsSummary, typeof units>({
  name: 'batchnorm-effects',
  id: 'S18',
  title: 'What else batch norm does: regularization, rates, gradient flow, the bias, stable inputs, gamma and beta',
  description:
    'BN vs plain: S6 overfitting setting; SGD rates 0.01-10 for one epoch; weight-gradient norms per layer at S5 init scales; the bias before BN; drift of layer inputs on a probe batch; sigmoid BN with gamma/beta learned vs frozen',
  needsMnist: true,
  configSchema: BatchnormEffectsConfigSchema,
  profiles: { lecture, quick },
  flags: [
    {
      name: 'part',
      kind: 'choice',
      choices: [...PARTS, 'all'],
      default: 'all',
      describe: 'batchnorm-effects: which part to run (regularization, rates, gradients, bias, drift, gamma-beta) or all',
      apply: (config, value) => ({ ...config, parts: PARTS.filter((p) => value === 'all' || p === value) }),
    },
  ],
  // Every part is a unit of work, and part (b) one unit per rate: they spread over worker
  // processes with the same numbers (each draws only from its part's named streams).
  units,
  async run(config, ctx) {
    const has = (p: Part) => config.parts.includes(p);
    type Task = Parameters<typeof ctx.units.run>[0][number];
    const tasks: Task[] = [];
    if (has('regularization')) for (const arm of ARMS) tasks.push({ unit: 'regularization', key: `regularization:${arm}`, input: arm });
    if (has('rates')) for (const r of config.rates.rates) tasks.push({ unit: 'rate', key: `rate:${r}`, input: r });
    if (has('gradients')) tasks.push({ unit: 'gradients', key: 'gradients', input: null });
    if (has('bias')) tasks.push({ unit: 'bias', key: 'bias', input: null });
    if (has('drift')) tasks.push({ unit: 'drift', key: 'drift', input: null });
    if (has('gamma-beta')) tasks.push({ unit: 'gammaBeta', key: 'gamma-beta', input: null });
    const progress = ctx.progress('units', tasks.length);
    const results = await ctx.units.run(tasks, () => progress.tick());
    progress.done();
    const byKey = new Map(tasks.map((t, k) => [t.key, results[k]]));
    const get = <T>(key: string) => byKey.get(key) as T;

    const series: BatchnormEffectsSeries = {};
    const summary: BatchnormEffectsSummary = {};
    const timings: Record<string, number> = {};
    const lt = config.long.tail;

    if (has('regularization')) {
      const acc: RegularizationSeries['accuracy'] = {};
      const s = {} as Record<Arm, RegularizationArm>;
      for (const arm of ARMS) {
        const r = get<ReturnType<typeof trainRegularization>>(`regularization:${arm}`);
        acc[arm] = { train: r.train.map((x) => roundSig(x, 5)), test: r.test.map((x) => roundSig(x, 5)) };
        s[arm] = { finalTrain: r.train.at(-1)!, finalTest: r.test.at(-1)!, finalGap: r.train.at(-1)! - r.test.at(-1)!, diverged: r.diverged };
        timings[`regularization.${arm}.msPerStep`] = r.msPerStep;
        ctx.log(`(a) ${arm}: train ${s[arm].finalTrain.toFixed(3)} test ${s[arm].finalTest.toFixed(4)} gap ${s[arm].finalGap.toFixed(4)}`);
      }
      series.regularization = { accuracy: acc };
      summary.regularization = s;
    }
    if (has('rates')) {
      const runs = config.rates.rates.map((r) => get<ReturnType<typeof trainRate>>(`rate:${r}`));
      series.rates = {
        rates: config.rates.rates,
        runs: runs.map((r) => Object.fromEntries(ARMS.map((a) => [a, { loss: r[a].loss.map(round), nonFiniteAt: r[a].nonFiniteAt, evalLoss: r[a].evalLoss.map(round) }])) as Record<Arm, RateArmRun>),
      };
      summary.rates = {};
      config.rates.rates.forEach((rate, k) => {
        const r = runs[k]!;
        const arms = {} as Record<Arm, RateArm>;
        for (const a of ARMS) {
          const ev = r[a].evalLoss;
          const finalLoss = ev.every((x) => x !== null) ? mean(ev as number[]) : null;
          arms[a] = { finalLoss, nonFiniteAt: r[a].nonFiniteAt, diverged: r[a].nonFiniteAt !== null || finalLoss === null || finalLoss >= CHANCE_LOSS };
        }
        summary.rates![rateKey(rate)] = arms;
        timings[`rates.${rateKey(rate)}.msPerStep`] = r.msPerStep;
        const show = (a: Arm) => `${arms[a].finalLoss === null ? 'none' : arms[a].finalLoss.toFixed(4)}${arms[a].diverged ? ' (diverged)' : ''}`;
        ctx.log(`(b) lr ${rate}: final loss plain ${show('plain')}, BN ${show('bn')}`);
      });
    }
    if (has('gradients')) {
      const g = get<GradientScale[]>('gradients');
      series.gradients = g.map((x) => ({ w: x.w, norms: { plain: x.norms.plain.map((v) => roundSig(v, 6)), bn: x.norms.bn.map((v) => roundSig(v, 6)) }, ratio: x.ratio }));
      summary.gradients = Object.fromEntries(g.map((x) => [scaleKey(x.w), { w: x.w, ratio: x.ratio }]));
      const f = (v: number | null) => (v === null ? 'unbounded' : v.toPrecision(3));
      ctx.log(`(c) max/min layer gradient norm, plain: ${g.map((x) => f(x.ratio.plain)).join(' ')}; BN: ${g.map((x) => f(x.ratio.bn)).join(' ')}`);
    }
    if (has('bias')) {
      const r = get<ReturnType<typeof trainBias>>('bias');
      const diffs = (a: BiasNet) => r.loss[a].map((x, i) => (x === null || r.loss['no-bias'][i] == null ? null : Math.abs(x - r.loss['no-bias'][i]!)));
      const d = diffs('bias');
      const dc = diffs('ulp');
      const maxOf = (xs: (number | null)[]) => (xs.some((x) => x === null) ? null : Math.max(...(xs as number[])));
      const firstNonZero = (xs: (number | null)[]) => {
        const i = xs.findIndex((x) => x !== 0);
        return i < 0 ? null : i;
      };
      series.bias = { at: r.at, biasRatio: r.biasRatio.map((row) => row.map((v) => roundSig(v, 4))), loss: Object.fromEntries(BIAS_NETS.map((n) => [n, r.loss[n]])) as BiasSeries['loss'] };
      summary.bias = {
        maxBiasRatio: Math.max(...r.biasRatio.flat()),
        maxAbsBias: r.maxAbsBias,
        maxDiff: maxOf(d),
        maxDiffControl: maxOf(dc),
        firstDiffer: firstNonZero(d),
        firstDifferControl: firstNonZero(dc),
        finalLoss: Object.fromEntries(BIAS_NETS.map((n) => [n, tailMean(r.loss[n], lt)])) as Record<BiasNet, number | null>,
      };
      timings['bias.msPerStep'] = r.msPerStep;
      ctx.log(`(d) ||db||/||dW|| at most ${summary.bias.maxBiasRatio.toExponential(2)}; loss difference with/without bias at most ${summary.bias.maxDiff}, one-ulp control ${summary.bias.maxDiffControl}`);
    }
    if (has('drift')) {
      const r = get<ReturnType<typeof trainDrift>>('drift');
      const r6 = (rows: number[][]) => rows.map((row) => row.map((v) => (Number.isFinite(v) ? roundSig(v, 4) : 0)));
      series.drift = {
        at: r.at,
        meanChange: { plain: r6(r.runs.plain.meanChange), bn: r6(r.runs.bn.meanChange) },
        stdChange: { plain: r6(r.runs.plain.stdChange), bn: r6(r.runs.bn.stdChange) },
        loss: { plain: r.runs.plain.loss.map(round), bn: r.runs.bn.loss.map(round) },
      };
      summary.drift = Object.fromEntries(
        ARMS.map((a) => [a, { medianMeanChange: median(r.runs[a].allMean), medianStdChange: median(r.runs[a].allStd), zeroMeans: r.runs[a].zeroMeans, finalLoss: tailMean(r.runs[a].loss, lt) }]),
      ) as Record<Arm, DriftArm>;
      timings['drift.msPerStep'] = r.msPerStep;
      ctx.log(`(e) median relative change of unit means between checkpoints: plain ${summary.drift.plain.medianMeanChange}, BN ${summary.drift.bn.medianMeanChange}`);
    }
    if (has('gamma-beta')) {
      const r = get<ReturnType<typeof trainGammaBeta>>('gamma-beta');
      series.gammaBeta = { loss: { learned: r.loss.learned.map(round), frozen: r.loss.frozen.map(round) } };
      summary.gammaBeta = { learned: { finalLoss: tailMean(r.loss.learned, lt) }, frozen: { finalLoss: tailMean(r.loss.frozen, lt) } };
      timings['gammaBeta.msPerStep'] = r.msPerStep;
      ctx.log(`(f) sigmoid BN final loss: gamma/beta learned ${summary.gammaBeta.learned.finalLoss}, frozen ${summary.gammaBeta.frozen.finalLoss}`);
    }
    return { series, summary, timings };
  },
  claims: (run, config) => batchnormEffectsClaims(run.series, run.summary, config),
  // CI's guard: final accuracies of (a), final losses of (b) (where finite), (d)-(f)'s final losses.
  keyNumbers(run): Record<string, KeyNumber> {
    const out: Record<string, KeyNumber> = {};
    const s = run.summary;
    const loss = (key: string, v: number | null | undefined) => {
      if (v !== null && v !== undefined) out[key] = { value: v, tolerance: defaultTolerance('loss', v)! };
    };
    for (const a of ARMS) {
      const r = s.regularization?.[a];
      if (r) {
        out[`regularization.${a}.finalTrainAccuracy`] = { value: r.finalTrain, tolerance: ACCURACY_TOLERANCE };
        out[`regularization.${a}.finalTestAccuracy`] = { value: r.finalTest, tolerance: ACCURACY_TOLERANCE };
      }
    }
    for (const [k, r] of Object.entries(s.rates ?? {})) for (const a of ARMS) if (!r[a].diverged) loss(`rates.${k}.${a}.finalLoss`, r[a].finalLoss);
    for (const n of BIAS_NETS) loss(`bias.${n}.finalLoss`, s.bias?.finalLoss[n]);
    for (const a of ARMS) loss(`drift.${a}.finalLoss`, s.drift?.[a].finalLoss);
    for (const n of GB_NETS) loss(`gammaBeta.${n}.finalLoss`, s.gammaBeta?.[n].finalLoss);
    return out;
  },
  figures: batchnormEffectsFigures,
  curves: (run, config) => {
    const panels: CurvePanel[] = [];
    const reg = run.series.regularization;
    if (reg) {
      panels.push({
        panel: PART_TITLE.regularization,
        x: 'epoch',
        y: 'accuracy',
        lines: ARMS.filter((a) => reg.accuracy[a]).flatMap((a) => [
          { name: `${a} train`, y: reg.accuracy[a]!.train },
          { name: `${a} test`, y: reg.accuracy[a]!.test },
        ]),
      });
    }
    if (run.summary.rates) {
      const rates = config.rates.rates;
      panels.push({ panel: PART_TITLE.rates, x: 'learning rate', y: 'final loss', lines: ARMS.map((a) => ({ name: a, x: rates, y: rates.map((r) => run.summary.rates![rateKey(r)]![a].finalLoss) })) });
    }
    if (run.series.gradients) {
      const g = run.series.gradients;
      panels.push({ panel: PART_TITLE.gradients, x: 'init std w', y: 'max / min layer gradient norm', lines: ARMS.map((a) => ({ name: a, x: g.map((x) => x.w), y: g.map((x) => x.ratio[a]) })) });
    }
    if (run.series.bias) panels.push({ panel: PART_TITLE.bias, x: 'iteration', y: 'loss', lines: BIAS_NETS.map((n) => ({ name: n, y: run.series.bias!.loss[n] })) });
    if (run.series.drift) {
      const d = run.series.drift;
      panels.push({ panel: PART_TITLE.drift, x: 'iteration', y: 'median relative change of unit means', lines: ARMS.map((a) => ({ name: a, x: d.at.slice(1), y: d.meanChange[a].map((row) => median(row)) })) });
    }
    if (run.series.gammaBeta) panels.push({ panel: PART_TITLE['gamma-beta'], x: 'iteration', y: 'loss', lines: GB_NETS.map((n) => ({ name: n, y: run.series.gammaBeta!.loss[n] })) });
    return panels;
  },
});

// ---------------------------------------------------------------------------------------
// Claims

export function batchnormEffectsClaims(series: BatchnormEffectsSeries, s: BatchnormEffectsSummary, config: BatchnormEffectsConfig): ClaimCheck[] {
  const claims: ClaimCheck[] = [];
  const reg = s.regularization;
  if (reg) {
    // Gaps are train accuracy (trainSize images) minus test accuracy (testSize images): the
    // rule's binomial form over the four counts, as S6 judges its gaps.
    const c = config.regularization;
    const d = byDifference(
      judgeDifference('lower', {
        kind: 'binomial',
        difference: reg.bn.finalGap - reg.plain.finalGap,
        parts: [
          { p: reg.bn.finalTrain, n: c.trainSize },
          { p: reg.plain.finalTrain, n: c.trainSize },
          { p: reg.bn.finalTest, n: c.testSize },
          { p: reg.plain.finalTest, n: c.testSize },
        ],
      }),
    );
    claims.push(
      comparing(
        {
          id: 'bn-smaller-gap',
          text: `On S6's setting (${c.trainSize} images, ${c.epochs} epochs) the train-test gap at the end is smaller with batch norm than without (a real difference)`,
          verdict: d.verdict,
          ...(d.reason ? { reason: d.reason } : {}),
          numbers: { gapBn: reg.bn.finalGap, gapPlain: reg.plain.finalGap, trainBn: reg.bn.finalTrain, testBn: reg.bn.finalTest, trainPlain: reg.plain.finalTrain, testPlain: reg.plain.finalTest, test: d.test },
        },
        { plain: { accuracy: reg.plain.finalTest }, bn: { accuracy: reg.bn.finalTest } },
      ),
    );
  }
  const rates = s.rates;
  if (rates && series.rates) {
    const rs = config.rates.rates;
    const largest = (a: Arm) => {
      const ok = rs.filter((r) => !rates[rateKey(r)]![a].diverged);
      return ok.length ? Math.max(...ok) : null;
    };
    const lb = largest('bn');
    const lp = largest('plain');
    claims.push({
      id: 'bn-allows-larger-rates',
      text: `The largest rate that does not diverge in one epoch is at least ${RATE_FACTOR}x larger with batch norm (diverged: a NaN/infinite loss, or a final loss not below ln 10)`,
      verdict: verdictOf(lb !== null && (lp === null || lb >= RATE_FACTOR * lp)),
      numbers: {
        largestBn: lb,
        largestPlain: lp,
        ratio: lb !== null && lp !== null ? lb / lp : null,
        divergedBn: rs.filter((r) => rates[rateKey(r)]!.bn.diverged),
        divergedPlain: rs.filter((r) => rates[rateKey(r)]!.plain.diverged),
      },
    });
    // Each arm's best rate by its final loss; the two compared on the shared evaluation batches.
    const best = (a: Arm) => {
      let k: number | null = null;
      rs.forEach((r, i) => {
        const f = rates[rateKey(r)]![a];
        if (!f.diverged && f.finalLoss !== null && (k === null || f.finalLoss < rates[rateKey(rs[k]!)]![a].finalLoss!)) k = i;
      });
      return k as number | null;
    };
    const kb = best('bn');
    const kp = best('plain');
    const ev = (a: Arm, k: number) => series.rates!.runs[k]![a].evalLoss as number[];
    const numbers = {
      bestRateBn: kb === null ? null : rs[kb]!,
      bestLossBn: kb === null ? null : rates[rateKey(rs[kb]!)]!.bn.finalLoss,
      bestRatePlain: kp === null ? null : rs[kp]!,
      bestLossPlain: kp === null ? null : rates[rateKey(rs[kp]!)]!.plain.finalLoss,
    };
    const text = `Batch norm's best final loss over the rates is lower than the plain net's best (a real difference on the ${config.rates.trainSize / config.rates.evalBatch} shared evaluation batches)`;
    if (kb === null) claims.push({ id: 'bn-best-loss-lower', text, verdict: 'FAILS', reason: 'batch norm diverged at every rate', numbers });
    else if (kp === null) claims.push({ id: 'bn-best-loss-lower', text, verdict: 'holds', reason: 'the plain net diverged at every rate', numbers });
    else {
      const d = byDifference(judgeDifference('lower', { kind: 'paired', unit: 'batch', a: ev('bn', kb), b: ev('plain', kp) }));
      claims.push(
        comparing(
          { id: 'bn-best-loss-lower', text, verdict: d.verdict, ...(d.reason ? { reason: d.reason } : {}), numbers: { ...numbers, test: d.test } },
          { 'BN at its best rate': { loss: numbers.bestLossBn } },
        ),
      );
    }
  }
  const g = s.gradients;
  if (g) {
    const rows = Object.values(g);
    const bnOk = rows.filter((r) => r.ratio.bn !== null && r.ratio.bn <= BN_SPAN);
    const extremes = rows.filter((r) => r.w >= LARGE_W || r.w <= SMALL_W);
    const plainWide = extremes.filter((r) => r.ratio.plain === null || r.ratio.plain > PLAIN_SPAN);
    // Beside the verdict: how far the norms themselves move with the scale (largest over smallest
    // norm over every scale and layer), per arm, from the series.
    const allNorms = (a: Arm) => (series.gradients ?? []).flatMap((x) => x.norms[a]).filter((v) => Number.isFinite(v) && v > 0);
    const range = (a: Arm) => {
      const n = allNorms(a);
      return n.length ? roundSig(Math.max(...n) / Math.min(...n), 4) : null;
    };
    const ratios = (a: Arm, rs: typeof rows) => Object.fromEntries(rs.map((r) => [scaleKey(r.w), r.ratio[a] === null ? 'unbounded' : roundSig(r.ratio[a], 4)]));
    claims.push({
      id: 'bn-gradient-flow',
      text: `At init, the largest layer's weight-gradient norm is within ${BN_SPAN}x of the smallest with batch norm at every scale, and more than ${PLAIN_SPAN}x apart without it at every badly scaled init (w >= ${LARGE_W} or w <= ${SMALL_W})`,
      verdict: verdictOf(bnOk.length === rows.length && extremes.length > 0 && plainWide.length === extremes.length),
      numbers: {
        bnWithinSpan: bnOk.length,
        of: rows.length,
        plainWideAtExtremes: plainWide.length,
        extremes: extremes.length,
        ratioBn: ratios('bn', rows),
        ratioPlain: ratios('plain', rows),
        normRangeOverScalesBn: range('bn'),
        normRangeOverScalesPlain: range('plain'),
      },
    });
  }
  const b = s.bias;
  if (b) {
    claims.push({
      id: 'bias-gradient-round-off',
      text: `With a bias before batch norm, its gradient is at the level of float32 round-off: ||db|| / ||dW|| below ${BIAS_GRADIENT_RATIO} in every hidden layer at every record`,
      verdict: verdictOf(b.maxBiasRatio < BIAS_GRADIENT_RATIO),
      numbers: { maxBiasRatio: b.maxBiasRatio, maxAbsBias: b.maxAbsBias },
    });
    const bound = b.maxDiffControl === null ? null : ROUNDOFF_FACTOR * b.maxDiffControl;
    // Beside the verdict: whether the final windows differ for real (the paired rule).
    const tailTest = series.bias ? lossDifference('notHigher', series.bias.loss.bias, series.bias.loss['no-bias'], config.long.tail).test : 'none';
    claims.push({
      id: 'bias-curves-agree',
      text: `The loss curves with and without the bias agree within round-off growth: their largest difference over the ${config.long.iterations} iterations is at most ${ROUNDOFF_FACTOR}x that of a one-ulp change of the first layer's weights`,
      verdict: b.maxDiff === null || bound === null ? 'inconclusive' : verdictOf(b.maxDiff <= bound),
      ...(b.maxDiff === null || bound === null ? { reason: 'a curve diverged' } : {}),
      numbers: { maxDiff: b.maxDiff, maxDiffControl: b.maxDiffControl, bound, finalWindowTest: tailTest, firstDiffer: b.firstDiffer, firstDifferControl: b.firstDifferControl, finalLoss: b.finalLoss },
    });
  }
  const d = s.drift;
  if (d) {
    const p = d.plain.medianMeanChange;
    const q = d.bn.medianMeanChange;
    claims.push(
      comparing(
        {
          id: 'bn-inputs-drift-less',
          text: `Layer inputs drift less with batch norm: the median relative change of per-unit means between checkpoints is at least ${DRIFT_FACTOR}x smaller`,
          verdict: p === null || q === null ? 'inconclusive' : verdictOf(p >= DRIFT_FACTOR * q),
          ...(p === null || q === null ? { reason: 'no unit with a nonzero mean to compare' } : {}),
          numbers: { medianPlain: p, medianBn: q, ratio: p !== null && q ? p / q : null, medianStdChangePlain: d.plain.medianStdChange, medianStdChangeBn: d.bn.medianStdChange, zeroMeansPlain: d.plain.zeroMeans, zeroMeansBn: d.bn.zeroMeans },
        },
        { plain: { loss: d.plain.finalLoss }, bn: { loss: d.bn.finalLoss } },
      ),
    );
  }
  const gb = series.gammaBeta;
  if (gb && s.gammaBeta) {
    const r = lossDifference('lower', gb.loss.learned, gb.loss.frozen, config.long.tail);
    claims.push(
      comparing(
        {
          id: 'learned-gamma-beta-lower',
          text: `A sigmoid batch-norm net ends lower with gamma and beta learned than frozen at 1 and 0 (mean loss over the last ${config.long.tail} shared batches, a real difference)`,
          verdict: r.verdict,
          ...(r.reason ? { reason: r.reason } : {}),
          numbers: { learned: s.gammaBeta.learned.finalLoss, frozen: s.gammaBeta.frozen.finalLoss, test: r.test },
        },
        { learned: { loss: s.gammaBeta.learned.finalLoss } },
      ),
    );
  }
  return claims;
}

