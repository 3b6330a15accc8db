/**
 * S8 gradient-check: the suite's hand-written backward pass (Mlp.gradients: src/nn/layers.ts
 * and mlp.ts, the gradient every study trains with) against numerical gradients, as the notes
 * teach it: the centered formula rather than the forward one, the relative error
 * |a - n| / max(|a|, |n|), double precision, few data points, kinks, randomness switched off,
 * the data loss checked apart from the penalty, some coordinates of each parameter.
 *
 * A small net (784-20-20-10) on a few real MNIST images, its parameters drawn once by the
 * seed. Numerical gradients come from the suite's own float32 loss (tfjs) and from a float64
 * forward pass written here (reference.ts), which must first reproduce the float32 loss on the
 * same weights to float32 precision. Steps h from 1e-1 down to 1e-9, one per decade; both
 * formulas; every checked coordinate's error is kept.
 *
 * Variants: tanh (smooth), ReLU (kinks), ReLU + batch norm, weight decay with a dominant
 * penalty (and a deliberately broken copy of the gradient, made here: nothing in src/ knows),
 * dropout with fresh masks and with the mask the analytic pass used.
 */
import { verdictOf } from '../../src/claims.js';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { count, hiddenLayers, positive, share } from '../../src/config.js';
import { IMAGE_SIZE, gatherRows } from '../../src/data/mnist.js';
import type { InitScheme } from '../../src/nn/init.js';
import type { Mlp } from '../../src/nn/mlp.js';
import { mnistNet } from '../../src/nn/mnist-net.js';
import { Rng } from '../../src/rng.js';
import { mean, median, roundSig } from '../../src/stats.js';
import { defineStudy, unit, type ClaimCheck, type KeyNumber, type SeedOutput, type UnitContext } from '../../src/study.js';
import { makeOptimizer } from '../../src/optim/optimizers.js';
import { disposeBatch, sampleBatch } from '../../src/train/batches.js';
import { trainStep } from '../../src/train/loop.js';
import { toBatch } from '../../src/train/batches.js';
import { derivatives, float32Evaluator, float64Evaluator, medianPerH, pickCoordinates, plainFloat64Evaluator, quantile, relativeError, type Coordinate, type Evaluator } from './check.js';
import { gradientCheckFigures } from './figure.js';
import { referenceGradients, referenceLoss, type RefBatch, type RefSpec } from './reference.js';

export const VARIANTS = ['tanh', 'relu', 'relu-bn', 'weight-decay', 'dropout'] as const;
export type Variant = (typeof VARIANTS)[number];

export const VARIANT_TITLE: Record<Variant, string> = {
  tanh: 'tanh (smooth)',
  relu: 'ReLU (kinks)',
  'relu-bn': 'ReLU + batch norm',
  'weight-decay': 'tanh + dominant weight decay',
  dropout: 'tanh + dropout',
};

export const GradientCheckConfigSchema = z.strictObject({
  /** How many training images (drawn by the seed) the loss is taken over. */
  images: count(2, 1000),
  hidden: hiddenLayers,
  /** Coordinates checked per parameter tensor (all of a smaller tensor). */
  coordinatesPerTensor: count(1, 1_000_000),
  /** The steps h, largest first. */
  hs: z.array(positive).min(2),
  variants: z.array(z.enum(VARIANTS)).min(1),
  /** Dropout ratio of the dropout variant. */
  dropout: share.gt(0),
  /**
   * Weight-decay variant: lambda is set so that the penalty's gradient (lambda W) is this many
   * times the data gradient, in norm over the weight matrices.
   */
  penaltyDominance: positive,
  /**
   * The burn-in check: a net of the same widths (tanh) with every weight drawn from
   * N(0, initStd^2), checked at init and again after `updates` SGD updates at rate `lr` on
   * minibatches of `batchSize` training images; a correct and a deliberately buggy gradient.
   */
  burnIn: z.strictObject({ initStd: positive, updates: count(1, 1_000_000), lr: positive, batchSize: count(1, 60_000) }),
  /** The depth series: nets of these depths (affine layers; depth d has d - 1 hidden layers of `depthWidth` units), tanh, Xavier. */
  depths: z.array(count(2, 100)).min(1),
  depthWidth: count(1, 4096),
  /** Coordinates checked per parameter tensor of the depth series' nets (a depth-20 net has 40 tensors). */
  depthCoordinatesPerTensor: count(1, 1_000_000),
});
export type GradientCheckConfig = z.infer<typeof GradientCheckConfigSchema>;

const decades = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, k) => Number(`1e${-(from + k)}`));

const lecture: GradientCheckConfig = {
  // The notes' "few data points": 8 images, a net small enough to check many coordinates.
  images: 8,
  hidden: [20, 20],
  coordinatesPerTensor: 100,
  hs: decades(1, 9),
  variants: [...VARIANTS],
  // The suite's dropout ratio (S6).
  dropout: 0.2,
  // The broken half of a data gradient is then about 0.5/1e5 = 5e-6 of a typical coordinate's
  // total, far inside the notes' "fine" band (< 1e-4) even at coordinates whose weight is ten
  // times smaller than typical: the penalty dominates by any reading.
  penaltyDominance: 1e5,
  // The notes' burn-in example: weights of std 0.01 (scores near zero, the same for every
  // input), then a short burn-in of 200 updates. SGD at 0.1, batch 128, on the 60,000 training
  // images: the suite's usual rate and batch (S2, S10).
  burnIn: { initStd: 0.01, updates: 200, lr: 0.1, batchSize: 128 },
  // The depths the notes' remark needs, from a net with one hidden layer to a 20-layer net, all
  // of the width the other variants use.
  depths: [2, 5, 10, 20],
  depthWidth: 20,
  depthCoordinatesPerTensor: 100,
};

// Quick: 8 coordinates per tensor instead of 100 (also in the depth series' nets); everything
// else as the lecture.
const quick: GradientCheckConfig = { ...lecture, coordinatesPerTensor: 8, depthCoordinatesPerTensor: 8 };

// ---------------------------------------------------------------------------------------
// Claim thresholds, fixed before the first lecture-scale run (the notes' bands where they apply).

/** float32's unit round-off is 6e-8; a forward pass sums up to 784 products, so float32 and float64 losses agree to ~1e-6 relative: 1e-5 leaves room and still catches any real difference. */
const AGREEMENT = 1e-5;
/**
 * The formulas compared at a fixed h, where their truncation errors (order h and h^2) show
 * rather than the round-off floor both reach at their best h: h = 1e-3, centered at least 10x
 * below forward (float64 numerics against the float64 analytic gradient).
 */
const FIXED_H = 1e-3;
const CENTERED_GAIN = 10;
/**
 * The orders themselves: the slope of log10(median error) against log10(h) over h = 1e-2..1e-4
 * (truncation dominates there in float64: round-off is ~1e-16 L / h), forward within 1 +- 0.25,
 * centered within 2 +- 0.25.
 */
const ORDER_H: [number, number] = [1e-4, 1e-2];
const ORDER_SLACK = 0.25;
/** The suite's float32 gradient against the float64 analytic one: float32 precision, as the losses. */
const ANALYTIC_AGREEMENT = 1e-5;
/** The notes' "happy" band. */
const HAPPY = 1e-7;
/** "Far higher": at least ten times the float64 floor; "grows again": the smallest h's error at least ten times float32's best. */
const FAR = 10;
/** The notes' "fine" band (also with kinks): a check below it passes. */
const PASSES = 1e-4;
/** The notes' "probably wrong" band: above it a check exposes an error. */
const WRONG = 1e-2;
/** "(almost) all" large errors sit at a kink crossing. */
const AT_KINKS = 0.9;
/**
 * The steps over which the ReLU claim counts large errors: 1e-2 .. 1e-6. Above 1e-2 a step moves
 * the output layer's logits enough for the softmax's own curvature to matter; below 1e-6 float64
 * round-off alone can reach 1e-2 for the smallest gradients (2e-16 * loss / (h |g|)).
 */
const KINK_H: [number, number] = [1e-6, 1e-2];
/** "Vanish with a smaller h": at h = 1e-6 at most a tenth of the wrong-band count at h = 1e-2. */
const VANISH = 0.1;
/**
 * Burn-in: the bug "passes" below the notes' "fine" band (PASSES, 1e-4) and is "exposed" above
 * their "probably wrong" band (WRONG, 1e-2), as the median relative error at the best h, float64
 * centered differences against the float64 analytic gradient (correct or buggy); the thresholds
 * are the notes' own. Depth: "grows" = the median relative error at the best h does not
 * decrease from one depth to the next (the suite's float32 analytic gradient, what trains, against
 * float64 centered differences: the float64 check a user of the suite would run).
 */

// ---------------------------------------------------------------------------------------
// What a run records

export interface ArmRecord {
  name: string;
  precision: 'float32' | 'float64';
  /** Per h (config.hs order), over the checked coordinates: median and 90th percentile of the relative error. */
  forward: { median: number[]; p90: number[] };
  centered: { median: number[]; p90: number[] };
  /**
   * float64 arms: the median relative error between the centered numerical gradients at the
   * best h and at its better neighbour; how far the numerics agree with themselves, i.e. the
   * precision they could resolve in the analytic gradient.
   */
  numericSelfAgreement?: number;
}

export interface CoordinateRecord {
  tensor: string;
  index: number;
  analytic: number;
  /** float64 centered relative error per h. */
  error: number[];
  /** A ReLU input changed sign among x-h, x, x+h, per h. */
  crossed: boolean[];
}

export interface VariantRecord {
  tensors: { name: string; size: number; checked: number }[];
  /** The training-mode loss of the suite (float32) and of the reference (float64) at the same weights. */
  loss32: number;
  loss64: number;
  /**
   * Smooth, ReLU and BN variants: the median relative difference, over the checked coordinates,
   * between the suite's float32 analytic gradient and the float64 analytic gradient (absent in
   * runs made before the float64 analytic gradient existed).
   */
  analyticAgreement?: number;
  /** Weight-decay variant: lambda and the same check for its data-only net. */
  lambda?: number;
  dataLoss32?: number;
  dataLoss64?: number;
  arms: ArmRecord[];
  /** ReLU variants: every coordinate's float64 centered error per h, with kink crossings. */
  coordinates?: CoordinateRecord[];
}

/** One point of the burn-in check: the net's state and the correct and the buggy gradient's check there. */
export interface BurnInPoint {
  /** SGD updates made before this check (0: at init). */
  updates: number;
  /** float64 loss of the check's images; std of their logits (float32, the suite's forward pass). */
  loss64: number;
  logitStd: number;
  /** Median relative difference between the buggy and the correct analytic gradient over the checked coordinates (the size of the bug). */
  bugSize: number;
  /** Arms 'correct' and 'bug': float64 centered and forward errors against each analytic gradient. */
  arms: ArmRecord[];
}

export interface BurnInRecord {
  /** Wall time of the unit (moved to the run's timings). */
  ms?: number;
  initStd: number;
  checked: number;
  /** Mean training loss of the first and of the last 10 burn-in updates (before each update). */
  trainLossFirst: number;
  trainLossLast: number;
  init: BurnInPoint;
  after: BurnInPoint;
}

/** The depth series: one net per depth, tanh, Xavier. */
export interface DepthRecord {
  /** Wall time of the unit (moved to the run's timings). */
  ms?: number;
  depth: number;
  hidden: number[];
  checked: number;
  loss32: number;
  loss64: number;
  /** Arms: 'float64' (the suite's float32 analytic gradient against float64 numerics) and the float64 analytic gradient against them. */
  arms: ArmRecord[];
}

export interface GradientCheckSeries {
  hs: number[];
  variants: Partial<Record<Variant, VariantRecord>>;
  /** Absent in results recorded before the burn-in and depth checks existed. */
  burnIn?: BurnInRecord;
  depths?: DepthRecord[];
}

export interface Best {
  h: number;
  median: number;
}

export interface GradientCheckSummary {
  /** Per variant: |loss64 - loss32| / |loss32| (the larger of the two nets for weight decay). */
  agreement: Partial<Record<Variant, number>>;
  /** Per variant, per arm: the h with the lowest median error, for each formula. */
  best: Partial<Record<Variant, Record<string, { forward: Best; centered: Best }>>>;
  /** ReLU variant, float64 centered: coordinates in the wrong band per h, and how many of them crossed a kink. */
  kinks: { wrong: number[]; wrongAtCrossing: number[]; crossed: number[] } | null;
  lambda: number | null;
  /** Burn-in: centered best (h, median) of the correct and the buggy gradient, at init and after the burn-in. */
  burnIn?: { init: { correct: Best; bug: Best }; after: { correct: Best; bug: Best } };
  /** Per depth: centered best of the suite's gradient and of the float64 analytic gradient against float64 numerics. */
  depths?: { depth: number; suite: Best; float64Analytic: Best }[];
}

// ---------------------------------------------------------------------------------------
// One variant

interface Setup {
  activation: 'tanh' | 'relu';
  init: InitScheme;
  batchNorm?: boolean;
  dropout?: boolean;
  decay?: boolean;
}

const SETUP: Record<Variant, Setup> = {
  tanh: { activation: 'tanh', init: 'xavier' },
  relu: { activation: 'relu', init: 'he' },
  'relu-bn': { activation: 'relu', init: 'he', batchNorm: true },
  'weight-decay': { activation: 'tanh', init: 'xavier', decay: true },
  dropout: { activation: 'tanh', init: 'xavier', dropout: true },
};

/** Every variant draws its weights from this one stream: the same normal draws, scaled by its init. */
const INIT_STREAM = 'init';

interface Data {
  x: tf.Tensor2D;
  y: tf.Tensor2D;
  ref: RefBatch;
  /** Pixels non-zero in at least one image (the others' first-layer weights get a zero gradient by construction). */
  activePixel: Uint8Array;
}

function tensorNames(hidden: number[], bn: boolean): string[] {
  const names: string[] = [];
  for (let l = 0; l <= hidden.length; l++) {
    names.push(`W${l + 1}`, `b${l + 1}`);
    if (bn && l < hidden.length) names.push(`gamma${l + 1}`, `beta${l + 1}`);
  }
  return names;
}

const toF64 = (t: tf.Tensor): Float64Array => Float64Array.from(t.dataSync());

function suiteGradients(net: Mlp, data: Data): { loss: number; grads: Float64Array[] } {
  const { loss, grads } = net.gradients(data.x, data.y);
  const out = grads.map(toF64);
  tf.dispose(grads);
  return { loss, grads: out };
}

/** Norm over the weight matrices (every other tensor of a net without BN: W1, b1, W2, ...). */
function weightNorm(tensors: Float64Array[]): number {
  let s = 0;
  tensors.forEach((t, i) => {
    if (i % 2 === 0) for (const v of t) s += v * v;
  });
  return Math.sqrt(s);
}

/**
 * The dropout masks an Mlp draws: its constructor seeds a private stream from the next draw of
 * the init stream after the weights, and each training forward pass draws one mask per hidden
 * layer (uniform > ratio keeps a unit). Replayed here so the float64 reference can use the mask
 * the analytic pass used; the replay is verified by the two losses agreeing (reference-agrees).
 */
function replayDropoutStream(seed: number, sizes: number[]): Rng {
  const twin = Rng.stream(seed, INIT_STREAM);
  for (let l = 0; l + 1 < sizes.length; l++) twin.normalArray(sizes[l]! * sizes[l + 1]!);
  return new Rng(twin.nextUint32(), 'dropout');
}

function drawMasks(rng: Rng, rows: number, hidden: number[], ratio: number): Float64Array[] {
  return hidden.map((w) => {
    const m = new Float64Array(rows * w);
    for (let i = 0; i < m.length; i++) m[i] = rng.uniform() > ratio ? 1 : 0;
    return m;
  });
}

interface Arm {
  name: string;
  precision: 'float32' | 'float64';
  analytic: Float64Array[];
  evaluate: Evaluator;
}

function checkArm(arm: Arm, coords: Coordinate[], hs: number[], keep: boolean, tick: () => void): { record: ArmRecord; perCoordinate: { error: number[]; crossed: boolean[] }[] } {
  const fwd: number[][] = [];
  const ctr: number[][] = [];
  const perCoordinate: { error: number[]; crossed: boolean[] }[] = [];
  const numeric: number[][] = [];
  for (const c of coords) {
    const a = arm.analytic[c.tensor]![c.index]!;
    const d = derivatives(arm.evaluate, c, hs);
    numeric.push(d.centered);
    fwd.push(d.forward.map((n) => relativeError(a, n)));
    const e = d.centered.map((n) => relativeError(a, n));
    ctr.push(e);
    if (keep) perCoordinate.push({ error: e.map((v) => roundSig(v, 4)), crossed: d.crossed.map((x) => x === true) });
    tick();
  }
  const stats = (errs: number[][]) => ({
    median: medianPerH(errs, hs.length).map((v) => roundSig(v, 4)),
    p90: hs.map((_, k) => roundSig(quantile(errs.map((e) => e[k]!), 0.9)!, 4)),
  });
  const record: ArmRecord = { name: arm.name, precision: arm.precision, forward: stats(fwd), centered: stats(ctr) };
  if (arm.precision === 'float64') {
    const m = record.centered.median;
    const k = hs.indexOf(bestOf(hs, m).h);
    const other = k === 0 ? 1 : k === hs.length - 1 ? k - 1 : m[k - 1]! <= m[k + 1]! ? k - 1 : k + 1;
    record.numericSelfAgreement = roundSig(median(numeric.map((n) => relativeError(n[k]!, n[other]!)))!, 4);
  }
  return { record, perCoordinate };
}

function runVariant(variant: Variant, config: GradientCheckConfig, data: Data, seed: number, tick: () => void): VariantRecord {
  const s = SETUP[variant];
  const sizes = [IMAGE_SIZE, ...config.hidden, 10];
  const make = (weightDecay: number): Mlp =>
    mnistNet(config.hidden, { activation: s.activation, init: s.init, batchNorm: s.batchNorm, dropout: s.dropout ? config.dropout : undefined, weightDecay }, Rng.stream(seed, INIT_STREAM));
  const spec = (weightDecay: number): RefSpec => ({ sizes, activation: s.activation, batchNorm: s.batchNorm ?? false, weightDecay });
  const names = tensorNames(config.hidden, s.batchNorm ?? false);
  const nets: Mlp[] = [];
  try {
    const net = make(0);
    nets.push(net);
    const params64 = net.params().map(toF64);
    const coords = pickCoordinates(
      params64.map((p) => p.length),
      config.coordinatesPerTensor,
      Rng.stream(seed, 'coordinates'),
      (t, i) => t === 0 && !data.activePixel[Math.floor(i / config.hidden[0]!)],
    );
    const tensors = names.map((name, t) => ({ name, size: params64[t]!.length, checked: coords.filter((c) => c.tensor === t).length }));
    const g = suiteGradients(net, data);
    const record: VariantRecord = { tensors, loss32: g.loss, loss64: NaN, arms: [] };
    const parts: VariantParts = { config, data, seed, sizes, net, params64, g, record, coords, spec, make: (lambda) => (nets.push(make(lambda)), nets[nets.length - 1]!) };
    const arms = variant === 'dropout' ? dropoutArms(parts) : variant === 'weight-decay' ? weightDecayArms(parts) : plainArms(parts);
    for (const arm of arms) {
      // The ReLU kink analysis reads the suite's gradient against float64 numerics.
      const keep = s.activation === 'relu' && arm.name === 'float64';
      const { record: r, perCoordinate } = checkArm(arm, coords, config.hs, keep, tick);
      record.arms.push(r);
      if (keep) {
        record.coordinates = coords.map((c, k) => ({ tensor: names[c.tensor]!, index: c.index, analytic: roundSig(arm.analytic[c.tensor]![c.index]!, 6), ...perCoordinate[k]! }));
      }
    }
    return record;
  } finally {
    for (const n of nets) n.dispose();
  }
}

/** What a variant's arms are made from: the net, its parameters in float64, the suite's gradients, and the record they fill in. */
interface VariantParts {
  config: GradientCheckConfig;
  data: Data;
  seed: number;
  sizes: number[];
  net: Mlp;
  params64: Float64Array[];
  g: ReturnType<typeof suiteGradients>;
  record: VariantRecord;
  /** The coordinates checked (the analytic gradients are compared on them too). */
  coords: Coordinate[];
  spec(weightDecay: number): RefSpec;
  /** The same net with weight decay lambda (disposed with the variant's). */
  make(lambda: number): Mlp;
}

/** tanh, ReLU, ReLU + BN: the float64 and the float32 numerical gradient. */
function plainArms({ data, net, params64, g, record, spec, coords }: VariantParts): Arm[] {
  record.loss64 = referenceLoss(spec(0), params64, data.ref).loss;
  // The float64 analytic gradient (reference.ts, by hand): against it the float64 numerics
  // are checked with no float32 rounding on either side, the notes' double precision.
  const g64 = referenceGradients(spec(0), params64, data.ref);
  record.analyticAgreement = roundSig(median(coords.map((c) => relativeError(g64[c.tensor]![c.index]!, g.grads[c.tensor]![c.index]!)))!, 4);
  return [
    { name: 'float64', precision: 'float64', analytic: g.grads, evaluate: float64Evaluator(spec(0), params64, data.ref) },
    { name: 'float32', precision: 'float32', analytic: g.grads, evaluate: float32Evaluator(net, data.x, data.y) },
    { name: FLOAT64_ANALYTIC, precision: 'float64', analytic: g64, evaluate: float64Evaluator(spec(0), params64, data.ref) },
  ];
}

/** Dropout: a fixed mask (the one the suite's gradient used), fresh masks in float64, fresh masks in float32. */
function dropoutArms({ config, data, seed, sizes, net, params64, g, record, spec }: VariantParts): Arm[] {
  const rows = data.ref.rows;
  const replay = replayDropoutStream(seed, sizes);
  const fixed = drawMasks(replay, rows, config.hidden, config.dropout);
  record.loss64 = referenceLoss(spec(0), params64, data.ref, fixed).loss;
  return [
    { name: 'float64, fixed mask', precision: 'float64', analytic: g.grads, evaluate: float64Evaluator(spec(0), params64, data.ref, () => fixed) },
    // Fresh masks: the draws the net's own stream would make next, one set per evaluation.
    { name: 'float64, fresh masks', precision: 'float64', analytic: g.grads, evaluate: float64Evaluator(spec(0), params64, data.ref, () => drawMasks(replay, rows, config.hidden, config.dropout)) },
    { name: 'float32, fresh masks', precision: 'float32', analytic: g.grads, evaluate: float32Evaluator(net, data.x, data.y) },
  ];
}

/** Weight decay: the data + penalty gradient, correct and with a deliberate bug, and the bug alone on the data loss. */
function weightDecayArms({ config, data, params64, g, record, spec, make }: VariantParts): Arm[] {
  record.dataLoss32 = g.loss;
  record.dataLoss64 = referenceLoss(spec(0), params64, data.ref).loss;
  const lambda = (config.penaltyDominance * weightNorm(g.grads)) / weightNorm(params64);
  const gp = suiteGradients(make(lambda), data);
  record.lambda = lambda;
  record.loss32 = gp.loss;
  record.loss64 = referenceLoss(spec(lambda), params64, data.ref).loss;
  // The deliberate bug, made here only: the weight matrices' data gradient halved (a wrong
  // factor in dW = x^T dout); biases as computed. Combined = broken data part + lambda W.
  const half = g.grads.map((t, i) => (i % 2 === 0 ? t.map((v) => 0.5 * v) : t));
  const brokenCombined = gp.grads.map((t, i) => t.map((v, k) => v - g.grads[i]![k]! + half[i]![k]!));
  return [
    { name: 'float64, data + penalty, correct gradient', precision: 'float64', analytic: gp.grads, evaluate: float64Evaluator(spec(lambda), params64, data.ref) },
    { name: 'float64, data + penalty, broken gradient', precision: 'float64', analytic: brokenCombined, evaluate: float64Evaluator(spec(lambda), params64, data.ref) },
    { name: 'float64, data only, broken gradient', precision: 'float64', analytic: half, evaluate: float64Evaluator(spec(0), params64, data.ref) },
  ];
}

/** The arm that checks float64 numerics against the float64 analytic gradient. */
export const FLOAT64_ANALYTIC = 'float64 numerics, float64 analytic';

function loadData(config: GradientCheckConfig, ctx: Pick<UnitContext, 'seed' | 'mnist'>): Data {
  const train = ctx.mnist().train;
  const idx = Rng.stream(ctx.seed, 'images').permutation(train.count).subarray(0, config.images);
  const split = gatherRows(train, idx);
  const b = toBatch(split);
  const activePixel = new Uint8Array(IMAGE_SIZE);
  for (let i = 0; i < split.images.length; i++) if (split.images[i] !== 0) activePixel[i % IMAGE_SIZE] = 1;
  return { x: b.x, y: b.y, ref: { x: Float64Array.from(split.images), labels: split.labels, rows: split.count }, activePixel };
}

/** The check's images, loaded once per process (every unit checks on the same ones). */
function cachedData(config: GradientCheckConfig, ctx: UnitContext): Data {
  return ctx.cached(
    `s8-data:${ctx.seed}:${config.images}`,
    () => loadData(config, ctx),
    (d) => tf.dispose([d.x, d.y]),
  );
}

/** Coordinates of a net of these layer sizes: `perTensor` per tensor, first-layer weights of pixels that are 0 in every image left out. */
function coordinatesOf(params: Float64Array[], sizes: number[], perTensor: number, data: Data, rng: Rng): Coordinate[] {
  return pickCoordinates(
    params.map((p) => p.length),
    perTensor,
    rng,
    (t, i) => t === 0 && !data.activePixel[Math.floor(i / sizes[1]!)],
  );
}

// ---------------------------------------------------------------------------------------
// The units: each variant, the burn-in check, each depth

function variantUnit(config: GradientCheckConfig, v: Variant, ctx: UnitContext): { record: VariantRecord; ms: number } {
  const t0 = performance.now();
  const record = runVariant(v, config, cachedData(config, ctx), ctx.seed, () => {});
  return { record, ms: Math.round(performance.now() - t0) };
}

/**
 * An evaluator that remembers its answers: two arms checking two analytic gradients against the
 * same numerics (burn-in, depths) evaluate the loss once per point. The same numbers as calling
 * the evaluator again: it is a pure function of the point.
 */
function remembering(f: Evaluator): Evaluator {
  const seen = new Map<string, ReturnType<Evaluator>>();
  return (c, delta) => {
    const key = `${c.tensor}:${c.index}:${delta}`;
    let v = seen.get(key);
    if (v === undefined) {
      v = f(c, delta);
      seen.set(key, v);
    }
    return v;
  };
}

/** Std of the logits of the check's images (the suite's float32 forward pass, training mode = evaluation mode here: no BN, no dropout). */
function logitStd(net: Mlp, data: Data): number {
  return tf.tidy(() => Math.sqrt(tf.moments(net.logits(data.x, 'eval')).variance.dataSync()[0]!));
}

/**
 * The notes' burn-in: a net whose weights are all N(0, initStd^2) is checked at init with a
 * correct and a buggy analytic gradient (reference.ts, 'logits-as-zero'), both float64 and by
 * the same checker as every variant (checkArm, float64 centered differences), then trained by
 * plain SGD for a few updates and checked again at the same coordinates.
 */
function burnInUnit(config: GradientCheckConfig, _input: null, ctx: UnitContext): BurnInRecord {
  const data = cachedData(config, ctx);
  const b = config.burnIn;
  const sizes = [IMAGE_SIZE, ...config.hidden, 10];
  const spec: RefSpec = { sizes, activation: 'tanh', batchNorm: false, weightDecay: 0 };
  const net = mnistNet(config.hidden, { activation: 'tanh', init: { std: b.initStd } }, Rng.stream(ctx.seed, 'init:burn-in'));
  const optimizer = makeOptimizer('sgd', b.lr);
  const t0 = performance.now();
  try {
    const coords = coordinatesOf(net.params().map(toF64), sizes, config.coordinatesPerTensor, data, Rng.stream(ctx.seed, 'coordinates:burn-in'));
    const point = (updates: number): BurnInPoint => {
      const params64 = net.params().map(toF64);
      const correct = referenceGradients(spec, params64, data.ref);
      const bug = referenceGradients(spec, params64, data.ref, null, 'logits-as-zero');
      const evaluate = remembering(float64Evaluator(spec, params64, data.ref));
      const arms = [
        checkArm({ name: 'correct', precision: 'float64', analytic: correct, evaluate }, coords, config.hs, false, () => {}).record,
        checkArm({ name: 'bug', precision: 'float64', analytic: bug, evaluate }, coords, config.hs, false, () => {}).record,
      ];
      return {
        updates,
        loss64: roundSig(referenceLoss(spec, params64, data.ref).loss, 6),
        logitStd: roundSig(logitStd(net, data), 4),
        bugSize: roundSig(median(coords.map((c) => relativeError(correct[c.tensor]![c.index]!, bug[c.tensor]![c.index]!)))!, 4),
        arms,
      };
    };
    const init = point(0);
    const train = ctx.mnist().train;
    const rng = Rng.stream(ctx.seed, 'batches:burn-in');
    const losses: number[] = [];
    for (let i = 0; i < b.updates; i++) {
      const batch = sampleBatch(train, b.batchSize, rng);
      losses.push(trainStep({ name: 'burn-in', net, optimizer }, batch));
      disposeBatch(batch);
    }
    const head = Math.min(10, losses.length);
    const after = point(b.updates);
    return {
      ms: Math.round(performance.now() - t0),
      initStd: b.initStd,
      checked: coords.length,
      trainLossFirst: roundSig(mean(losses.slice(0, head)), 4),
      trainLossLast: roundSig(mean(losses.slice(-head)), 4),
      init,
      after,
    };
  } finally {
    optimizer.dispose();
    net.dispose();
  }
}

/** The depth series' net of `depth` affine layers: the suite's gradient and the float64 analytic one against float64 centered differences. */
function depthUnit(config: GradientCheckConfig, depth: number, ctx: UnitContext): DepthRecord {
  const data = cachedData(config, ctx);
  const hidden = Array.from({ length: depth - 1 }, () => config.depthWidth);
  const sizes = [IMAGE_SIZE, ...hidden, 10];
  const spec: RefSpec = { sizes, activation: 'tanh', batchNorm: false, weightDecay: 0 };
  const net = mnistNet(hidden, { activation: 'tanh', init: 'xavier' }, Rng.stream(ctx.seed, `init:depth:${depth}`));
  const t0 = performance.now();
  try {
    const params64 = net.params().map(toF64);
    const coords = coordinatesOf(params64, sizes, config.depthCoordinatesPerTensor, data, Rng.stream(ctx.seed, `coordinates:depth:${depth}`));
    const g = suiteGradients(net, data);
    const g64 = referenceGradients(spec, params64, data.ref);
    const evaluate = remembering(plainFloat64Evaluator(spec, params64, data.ref));
    const arms = [
      checkArm({ name: 'float64', precision: 'float64', analytic: g.grads, evaluate }, coords, config.hs, false, () => {}).record,
      checkArm({ name: FLOAT64_ANALYTIC, precision: 'float64', analytic: g64, evaluate }, coords, config.hs, false, () => {}).record,
    ];
    return {
      ms: Math.round(performance.now() - t0),
      depth,
      hidden,
      checked: coords.length,
      loss32: g.loss,
      loss64: referenceLoss(spec, params64, data.ref).loss,
      arms,
    };
  } finally {
    net.dispose();
  }
}

const units = { variant: unit(variantUnit), burnIn: unit(burnInUnit), depth: unit(depthUnit) };

// ---------------------------------------------------------------------------------------
// Summary and claims

function bestOf(hs: number[], medians: number[]): Best {
  let k = 0;
  medians.forEach((m, i) => {
    if (m < medians[k]!) k = i;
  });
  return { h: hs[k]!, median: medians[k]! };
}

const relDiff = (a: number, b: number) => Math.abs(a - b) / Math.abs(a);

export function summarize(series: GradientCheckSeries): GradientCheckSummary {
  const { hs } = series;
  const agreement: GradientCheckSummary['agreement'] = {};
  const best: GradientCheckSummary['best'] = {};
  for (const [v, r] of Object.entries(series.variants) as [Variant, VariantRecord][]) {
    const diffs = [relDiff(r.loss32, r.loss64)];
    if (r.dataLoss32 !== undefined && r.dataLoss64 !== undefined) diffs.push(relDiff(r.dataLoss32, r.dataLoss64));
    agreement[v] = roundSig(Math.max(...diffs), 4);
    best[v] = Object.fromEntries(r.arms.map((a) => [a.name, { forward: bestOf(hs, a.forward.median), centered: bestOf(hs, a.centered.median) }]));
  }
  let kinks: GradientCheckSummary['kinks'] = null;
  const coords = series.variants.relu?.coordinates;
  if (coords) {
    const per = (f: (c: CoordinateRecord, k: number) => boolean) => hs.map((_, k) => coords.filter((c) => f(c, k)).length);
    kinks = {
      wrong: per((c, k) => c.error[k]! > WRONG),
      wrongAtCrossing: per((c, k) => c.error[k]! > WRONG && c.crossed[k]!),
      crossed: per((c, k) => c.crossed[k]!),
    };
  }
  const out: GradientCheckSummary = { agreement, best, kinks, lambda: series.variants['weight-decay']?.lambda ?? null };
  const centeredBest = (arms: ArmRecord[], name: string) => bestOf(hs, arms.find((a) => a.name === name)!.centered.median);
  if (series.burnIn) {
    const at = (p: BurnInPoint) => ({ correct: centeredBest(p.arms, 'correct'), bug: centeredBest(p.arms, 'bug') });
    out.burnIn = { init: at(series.burnIn.init), after: at(series.burnIn.after) };
  }
  if (series.depths) out.depths = series.depths.map((d) => ({ depth: d.depth, suite: centeredBest(d.arms, 'float64'), float64Analytic: centeredBest(d.arms, FLOAT64_ANALYTIC) }));
  return out;
}

const e = (x: number) => Number(x.toPrecision(3));
const hIndex = (hs: number[], h: number) => hs.findIndex((x) => Math.abs(Math.log10(x) - Math.log10(h)) < 1e-9);

export function gradientCheckClaims(run: SeedOutput<GradientCheckSeries, GradientCheckSummary>, config: GradientCheckConfig): ClaimCheck[] {
  const s = run.summary;
  const { hs } = run.series;
  const claims: ClaimCheck[] = [];
  const agree = Object.entries(s.agreement) as [Variant, number][];
  claims.push({
    id: 'reference-agrees',
    text: `The float64 reference forward pass gives the suite's float32 training loss on the same weights (and, with dropout, the same mask) to within ${AGREEMENT} relative, in every variant`,
    verdict: verdictOf(agree.every(([, d]) => d <= AGREEMENT)),
    numbers: { relativeDifference: Object.fromEntries(agree), threshold: AGREEMENT },
  });
  const analytic = (Object.entries(run.series.variants) as [Variant, VariantRecord][]).filter(([, r]) => r.analyticAgreement !== undefined);
  if (analytic.length > 0) {
    claims.push({
      id: 'suite-gradient-matches-float64',
      text: `(ours) The suite's float32 analytic gradient equals the float64 analytic gradient (written by hand) to float32 precision: median relative difference over the checked coordinates below ${ANALYTIC_AGREEMENT}, in every variant that has both`,
      verdict: verdictOf(analytic.every(([, r]) => r.analyticAgreement! < ANALYTIC_AGREEMENT)),
      numbers: { medianRelativeDifference: Object.fromEntries(analytic.map(([v, r]) => [v, r.analyticAgreement])), threshold: ANALYTIC_AGREEMENT },
    });
  }
  const tanh = s.best.tanh;
  const exact = tanh?.[FLOAT64_ANALYTIC] ? arm(run, 'tanh', FLOAT64_ANALYTIC) : null;
  if (tanh && !exact) {
    // A result recorded before the float64 analytic gradient existed cannot be judged on it.
    const reason = 'this result was recorded before the float64 analytic gradient existed: run the study again';
    for (const [id, text] of [
      ['centered-beats-forward', `tanh net, float64 numerics against the float64 analytic gradient: at h = ${FIXED_H} the centered formula's median relative error is at least ${CENTERED_GAIN}x below the forward formula's`],
      ['difference-orders', `tanh net, float64: over h = ${ORDER_H[1]}..${ORDER_H[0]} the forward formula's error falls as h and the centered formula's as h^2`],
      ['float64-happy', `tanh net: float64 centered differences against the float64 analytic gradient reach the notes' "happy" band, median relative error < ${HAPPY} at the best h`],
    ] as const) claims.push({ id, text, verdict: 'inconclusive', reason, numbers: {} });
  }
  if (tanh && exact) {
    const f64 = tanh[FLOAT64_ANALYTIC]!;
    const f32 = tanh.float32!;
    const k = hIndex(hs, FIXED_H);
    if (k >= 0) {
      const gain = exact.forward.median[k]! / exact.centered.median[k]!;
      claims.push({
        id: 'centered-beats-forward',
        text: `tanh net, float64 numerics against the float64 analytic gradient: at h = ${FIXED_H} the centered formula's median relative error is at least ${CENTERED_GAIN}x below the forward formula's`,
        verdict: verdictOf(gain >= CENTERED_GAIN),
        numbers: { h: FIXED_H, forward: exact.forward.median[k]!, centered: exact.centered.median[k]!, gain: e(gain) },
      });
    }
    const slope = (m: number[]) => {
      const a = hIndex(hs, ORDER_H[1]);
      const b = hIndex(hs, ORDER_H[0]);
      return a < 0 || b < 0 || !(m[a]! > 0 && m[b]! > 0) ? null : (Math.log10(m[a]!) - Math.log10(m[b]!)) / (Math.log10(hs[a]!) - Math.log10(hs[b]!));
    };
    const fo = slope(exact.forward.median);
    const co = slope(exact.centered.median);
    if (fo !== null || co !== null) {
      claims.push({
        id: 'difference-orders',
        text: `tanh net, float64: over h = ${ORDER_H[1]}..${ORDER_H[0]} the forward formula's error falls as h (slope 1 +- ${ORDER_SLACK} in log-log) and the centered formula's as h^2 (slope 2 +- ${ORDER_SLACK})`,
        verdict: verdictOf(fo !== null && co !== null && Math.abs(fo - 1) <= ORDER_SLACK && Math.abs(co - 2) <= ORDER_SLACK),
        numbers: { forwardSlope: fo === null ? null : e(fo), centeredSlope: co === null ? null : e(co), forwardMedianPerH: exact.forward.median, centeredMedianPerH: exact.centered.median },
      });
    }
    claims.push({
      id: 'float64-happy',
      text: `tanh net: float64 centered differences against the float64 analytic gradient reach the notes' "happy" band, median relative error < ${HAPPY} at the best h`,
      verdict: verdictOf(f64.centered.median < HAPPY),
      numbers: {
        bestH: f64.centered.h,
        median: f64.centered.median,
        p90: exact.centered.p90[hIndex(hs, f64.centered.h)]!,
        againstSuiteFloat32Gradient: tanh.float64?.centered ?? null,
      },
    });
    const f32arm = arm(run, 'tanh', 'float32');
    const smallest = f32arm.centered.median[hs.length - 1]!;
    claims.push({
      id: 'float32-u-shape',
      text: `tanh net: float32 centered differences bottom out at least ${FAR}x above float64's best (round-off), and their error grows again as h shrinks (at h = ${hs[hs.length - 1]} at least ${FAR}x their best)`,
      verdict: verdictOf(f32.centered.median >= FAR * f64.centered.median && smallest >= FAR * f32.centered.median),
      numbers: { float32Best: f32.centered, float64Best: f64.centered, float32AtSmallestH: smallest, medianPerH: f32arm.centered.median },
    });
  }
  if (s.kinks) {
    const { wrong, wrongAtCrossing, crossed } = s.kinks;
    const inRange = hs.map((h, k) => (h >= KINK_H[0] * (1 - 1e-9) && h <= KINK_H[1] * (1 + 1e-9) ? k : -1)).filter((k) => k >= 0);
    const nWrong = inRange.reduce((n, k) => n + wrong[k]!, 0);
    const nAt = inRange.reduce((n, k) => n + wrongAtCrossing[k]!, 0);
    const large = wrong[hIndex(hs, KINK_H[1])] ?? 0;
    const small = wrong[hIndex(hs, KINK_H[0])] ?? 0;
    const byH = Object.fromEntries(hs.map((h, k) => [`h=${h}`, `${wrongAtCrossing[k]}/${wrong[k]} wrong at a crossing, ${crossed[k]} crossed`]));
    claims.push({
      id: 'relu-errors-at-kinks',
      text: `ReLU net, float64 centered: of the errors in the notes' "wrong" band (> ${WRONG}) at h ${KINK_H[1]}..${KINK_H[0]}, at least ${AT_KINKS * 100}% are at coordinates where a ReLU input crossed zero between x-h and x+h`,
      verdict: verdictOf(nWrong > 0 && nAt >= AT_KINKS * nWrong),
      numbers: { wrong: nWrong, atCrossing: nAt, share: nWrong > 0 ? e(nAt / nWrong) : null, perH: byH },
    });
    claims.push({
      id: 'relu-errors-vanish',
      text: `ReLU net, float64 centered: the wrong-band errors vanish with a smaller h: at h = ${KINK_H[0]} at most ${VANISH} times as many as at h = ${KINK_H[1]} (where there are some)`,
      verdict: verdictOf(large > 0 && small <= VANISH * large),
      numbers: { [`wrongAt${KINK_H[1]}`]: large, [`wrongAt${KINK_H[0]}`]: small, coordinates: run.series.variants.relu!.coordinates!.length },
    });
  }
  const dropout = s.best.dropout;
  if (dropout) {
    const fixed = dropout['float64, fixed mask']!.centered;
    const fresh64 = dropout['float64, fresh masks']!.centered;
    const fresh32 = dropout['float32, fresh masks']!.centered;
    claims.push({
      id: 'dropout-fixed-mask',
      text: `Dropout ${config.dropout}: with fresh masks the check is meaningless (median error > ${WRONG} at every h, float64 and float32), with the analytic pass's mask fixed it passes (< ${PASSES} at the best h)`,
      verdict: verdictOf(fresh64.median > WRONG && fresh32.median > WRONG && fixed.median < PASSES),
      numbers: { fixedMask: fixed, freshMasksFloat64: fresh64, freshMasksFloat32: fresh32 },
    });
  }
  const decay = s.best['weight-decay'];
  if (decay) {
    const combined = decay['float64, data + penalty, broken gradient']!.centered;
    const dataOnly = decay['float64, data only, broken gradient']!.centered;
    const correct = decay['float64, data + penalty, correct gradient']!.centered;
    claims.push({
      id: 'penalty-hides-bug',
      text: `Weight decay with a dominant penalty (lambda ${s.lambda === null ? '?' : e(s.lambda)}): a gradient whose data part is halved passes the combined check (median < ${PASSES} at the best h) while the data-only check exposes it (> ${WRONG})`,
      verdict: verdictOf(combined.median < PASSES && dataOnly.median > WRONG),
      numbers: { combinedBroken: combined, dataOnlyBroken: dataOnly, combinedCorrect: correct, lambda: s.lambda },
    });
  }
  const bi = run.series.burnIn;
  if (s.burnIn && bi) {
    const { init, after } = s.burnIn;
    const state = (p: BurnInPoint) => ({ logitStd: p.logitStd, loss: p.loss64, bugSize: p.bugSize });
    claims.push({
      id: 'bug-passes-at-init',
      text: `A buggy gradient (the softmax's gradient taken as if the logits were zero, an error proportional to the logits) passes the check at init, weights of std ${bi.initStd}: median relative error < ${PASSES} at the best h (float64 centered)`,
      verdict: verdictOf(init.bug.median < PASSES),
      numbers: { bug: init.bug, correct: init.correct, ...state(bi.init), checked: bi.checked },
    });
    claims.push({
      id: 'bug-exposed-after-burn-in',
      text: `The same buggy gradient is exposed after a burn-in of ${bi.after.updates} SGD updates: median relative error > ${WRONG} at the best h (float64 centered)`,
      verdict: verdictOf(after.bug.median > WRONG),
      numbers: { bug: after.bug, correct: after.correct, ...state(bi.after), trainLoss: { first: bi.trainLossFirst, last: bi.trainLossLast } },
    });
    claims.push({
      id: 'burn-in-control-passes',
      text: `(ours) The correct float64 analytic gradient passes the same check at both points (median relative error < ${PASSES} at the best h), so what the bug's check sees is the bug`,
      verdict: verdictOf(init.correct.median < PASSES && after.correct.median < PASSES),
      numbers: { atInit: init.correct, afterBurnIn: after.correct },
    });
  }
  if (s.depths && s.depths.length >= 2) {
    const ds = s.depths;
    const grows = ds.every((d, k) => k === 0 || d.suite.median >= ds[k - 1]!.suite.median);
    const depthRecords = run.series.depths ?? [];
    claims.push({
      id: 'error-grows-with-depth',
      text: `The relative error grows with depth: tanh nets (Xavier) of depth ${ds.map((d) => d.depth).join(', ')}, the suite's analytic gradient against float64 centered differences, median relative error at the best h non-decreasing from each depth to the next`,
      verdict: verdictOf(grows),
      numbers: {
        median: Object.fromEntries(ds.map((d) => [`depth ${d.depth}`, d.suite.median])),
        bestH: Object.fromEntries(ds.map((d) => [`depth ${d.depth}`, d.suite.h])),
        float64AnalyticMedian: Object.fromEntries(ds.map((d) => [`depth ${d.depth}`, d.float64Analytic.median])),
        lossAgreement: Object.fromEntries(depthRecords.map((d) => [`depth ${d.depth}`, e(relDiff(d.loss32, d.loss64))])),
      },
    });
  }
  return claims;
}

function arm(run: { series: GradientCheckSeries }, v: Variant, name: string): ArmRecord {
  return run.series.variants[v]!.arms.find((a) => a.name === name)!;
}

// ---------------------------------------------------------------------------------------
// The study

export const gradientCheck = defineStudy<GradientCheckConfig, GradientCheckSeries, GradientCheckSummary, typeof units>({
  name: 'gradient-check',
  id: 'S8',
  title: 'Gradient checking the hand-written backward pass',
  description: '784-20-20-10 net on 8 images: analytic gradient vs forward/centered differences in float32 and float64, h 1e-1..1e-9; tanh, ReLU, BN, weight decay, dropout; a bug at init vs after burn-in; depth 2..20',
  needsMnist: true,
  configSchema: GradientCheckConfigSchema,
  profiles: { lecture, quick },
  units,
  async run(config, ctx) {
    // Every variant, the burn-in check and every depth is a unit of its own (its own named
    // streams), so workers and shards spread them; the deepest nets first, the longest units.
    const tasks = [
      ...[...config.depths].sort((a, b) => b - a).map((d) => ({ unit: 'depth' as const, key: `depth:${d}`, input: d })),
      ...config.variants.map((v) => ({ unit: 'variant' as const, key: `variant:${v}`, input: v })),
      { unit: 'burnIn' as const, key: 'burn-in', input: null },
    ];
    const progress = ctx.progress('variants, burn-in and depths', tasks.length);
    const done = await ctx.units.run(tasks, () => progress.tick());
    progress.done();
    const byKey = new Map(tasks.map((t, k) => [t.key, done[k]!]));
    const variants: GradientCheckSeries['variants'] = {};
    const timings: Record<string, number> = {};
    for (const v of config.variants) {
      const r = byKey.get(`variant:${v}`) as { record: VariantRecord; ms: number };
      variants[v] = r.record;
      timings[`${v}Ms`] = r.ms;
    }
    // A unit's wall time goes to the timings (they differ run to run), not to the series.
    const { ms: burnInMs, ...burnIn } = byKey.get('burn-in') as BurnInRecord;
    timings.burnInMs = burnInMs ?? 0;
    const depths = config.depths.map((d) => {
      const { ms, ...r } = byKey.get(`depth:${d}`) as DepthRecord;
      timings[`depth${d}Ms`] = ms ?? 0;
      return r;
    });
    const series: GradientCheckSeries = { hs: config.hs, variants, burnIn, depths };
    const summary = summarize(series);
    for (const [v, d] of Object.entries(summary.agreement)) ctx.log(`${v}: float64 reference vs float32 loss, relative difference ${d}`);
    const bi = series.burnIn!;
    ctx.log(`burn-in: logit std ${bi.init.logitStd} -> ${bi.after.logitStd}, training loss ${bi.trainLossFirst} -> ${bi.trainLossLast} over ${config.burnIn.updates} updates`);
    for (const d of series.depths!) ctx.log(`depth ${d.depth}: float64 reference vs float32 loss, relative difference ${roundSig(relDiff(d.loss32, d.loss64), 4)}`);
    return { series, summary, timings };
  },
  claims: gradientCheckClaims,
  // CI's guard: log10 of each arm's best median (centered and forward), +-0.5 decade (rounding
  // changes move these by far less; a broken gradient moves them by decades).
  keyNumbers(run): Record<string, KeyNumber> {
    const out: Record<string, KeyNumber> = {};
    const log10Best = (key: string, b: Best) => {
      if (b.median > 0) out[key] = { value: roundSig(Math.log10(b.median), 4), tolerance: 0.5 };
    };
    if (run.summary.burnIn) {
      for (const at of ['init', 'after'] as const) for (const g of ['correct', 'bug'] as const) log10Best(`burnIn.${at}.${g}.centered.log10BestMedian`, run.summary.burnIn[at][g]);
    }
    for (const d of run.summary.depths ?? []) {
      log10Best(`depth${d.depth}.suite.centered.log10BestMedian`, d.suite);
      log10Best(`depth${d.depth}.float64Analytic.centered.log10BestMedian`, d.float64Analytic);
    }
    for (const [v, arms] of Object.entries(run.summary.best)) {
      for (const [name, b] of Object.entries(arms!)) {
        const key = `${v}.${name.replace(/[^a-z0-9]+/gi, '-')}`;
        for (const f of ['centered', 'forward'] as const) {
          const m = b[f].median;
          if (m > 0) out[`${key}.${f}.log10BestMedian`] = { value: roundSig(Math.log10(m), 4), tolerance: 0.5 };
        }
      }
    }
    return out;
  },
  figures: gradientCheckFigures,
  curves(run) {
    return Object.entries(run.series.variants).map(([v, r]) => ({
      panel: VARIANT_TITLE[v as Variant],
      x: 'log10 h',
      y: 'median relative error',
      lines: r!.arms.flatMap((a) => [
        { name: `${a.name}, centered`, x: run.series.hs.map(Math.log10), y: a.centered.median },
        { name: `${a.name}, forward`, x: run.series.hs.map(Math.log10), y: a.forward.median },
      ]),
    }));
  },
});

