/**
 * S9 sanity-checks: babysitting the learning process, as the notes teach it.
 *
 * (a) Before training: the initial loss of the 5-layer net with small weights (std 0.01) is
 *     about ln 10 = 2.303 for ten classes, and it rises when the regularization strength does.
 * (b) Overfit a tiny subset: 20 training images, no regularization, SGD, until every image is
 *     classified right and the loss is near 0.
 * (c) Watch the loss: S2's setting (60,000 images, batch 128, 2000 iterations) with SGD at
 *     eight learning rates 1e-6 .. 1e1, one per decade, all from the same initial weights on
 *     the same batches; each run classified too low / good / too high by the rules below; per
 *     layer the update ratio ||lr dW|| / ||W||, which the notes want near 1e-3.
 */
import { z } from 'zod';
import { count, hiddenLayers, initScheme, positive, trainImages } from '../../src/config.js';
import { firstRows, gatherRows } from '../../src/data/mnist.js';
import { hiddenOf, mnistNet } from '../../src/nn/mnist-net.js';
import { Sgd } from '../../src/optim/optimizers.js';
import { CHANCE_LOSS, verdictOf } from '../../src/claims.js';
import { Rng } from '../../src/rng.js';
import { median, roundSig } from '../../src/stats.js';
import { defineStudy, unit, type ClaimCheck, type KeyNumber, type SeedOutput, type StudyContext } from '../../src/study.js';
import { disposeBatch, toBatch } from '../../src/train/batches.js';
import { evaluateAccuracy, meanLoss, trainStep } from '../../src/train/loop.js';
import { sanityChecksFigures } from './figure.js';
import { trainRate, type RateRecord } from './rates.js';

export const SanityChecksConfigSchema = z.strictObject({
  hidden: hiddenLayers,
  initialLoss: z.strictObject({
    init: initScheme,
    /** Regularization strengths lambda of 0.5 lambda sum(W^2), ascending. */
    lambdas: z.array(z.number().min(0).finite()).min(2),
    /** The loss is the mean over the first N training images. */
    images: trainImages,
  }),
  tinySet: z.strictObject({
    images: count(1, 60_000),
    lr: positive,
    /** At most this many full-batch updates; the run stops once the set is fitted. */
    budget: count(1),
  }),
  rates: z
    .strictObject({
      trainSize: trainImages,
      batchSize: count(1, 60_000),
      iterations: count(1),
      lrs: z.array(positive).min(1),
      /** The update ratio is recorded at every k-th iteration (0, k, 2k, ...). */
      ratioEvery: count(1),
      /** Iterations at the end whose mean loss is "the final loss". */
      tail: count(1),
    })
    .refine((c) => c.tail <= c.iterations, { message: 'tail must not exceed iterations', path: ['tail'] }),
});
export type SanityChecksConfig = z.infer<typeof SanityChecksConfigSchema>;

const lecture: SanityChecksConfig = {
  hidden: hiddenOf(4),
  // The notes' check: small weights, the loss with lambda from 0 up to 1; over every training image.
  initialLoss: { init: { std: 0.01 }, lambdas: [0, 1e-3, 1e-2, 1e-1, 1], images: 60000 },
  // 20 images, full batch. lr 0.1: with S2's 0.01 a 5-layer net needs thousands of steps to
  // drive the loss of even 20 images near 0; 0.1 is the top of SGD's usual range for this net.
  // The budget, 2000 updates, is S2's run length.
  tinySet: { images: 20, lr: 0.1, budget: 2000 },
  // S2's setting; the update ratio every 10th iteration (200 points per layer and rate).
  rates: { trainSize: 60000, batchSize: 128, iterations: 2000, lrs: [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10], ratioEvery: 10, tail: 100 },
};

// Quick: the initial loss over 1,000 images, the same tiny set, and 80 iterations per rate on
// the first 10,000 images (ratio every 5th, final loss over the last 20).
const quick: SanityChecksConfig = {
  ...lecture,
  initialLoss: { ...lecture.initialLoss, images: 1000 },
  rates: { ...lecture.rates, trainSize: 10000, iterations: 80, ratioEvery: 5, tail: 20 },
};

// ---------------------------------------------------------------------------------------
// Rules and thresholds, fixed before the first lecture-scale run.

/** (a) "About ln 10": within 0.01 (0.4%); logits spread by s around their mean raise the loss by about s^2/2, so this allows s up to ~0.14. */
const INITIAL_MARGIN = 0.01;
/** (b) "Loss near 0": below 0.01, i.e. the right class gets probability ~0.99 on average. */
const FITTED_LOSS = 0.01;
/**
 * (c) Regimes, judged from the loss curve only (the update ratio is what the last claim tests,
 * so it must not decide the regime). L0 is the initial net's loss on the first batch, the same
 * for every rate.
 * - too high: the run diverged (NaN/Inf or a loss above 10 ln 10, rates.ts), or its loss ever
 *   rose above RISE * L0: the batch-to-batch spread of an untrained net's loss is a few percent,
 *   so a quarter above the start means the steps overshoot;
 * - good: otherwise, if the final loss (mean of the last `tail` iterations) is at most
 *   GOOD * L0: the rate brought the loss down, halving it at least;
 * - too low: otherwise (the loss barely moved).
 * A rate so high that it kills every ReLU at once and then sits at ln 10 without ever rising
 * would be filed as too low by these rules; if that happens the order claim says so.
 */
const RISE = 1.25;
const GOOD = 0.5;
/** The notes' band for the update ratio of a good rate: about 1e-3, a decade either way. */
const RATIO_BAND: [number, number] = [1e-4, 1e-2];

export const REGIMES = ['too low', 'good', 'too high'] as const;
export type Regime = (typeof REGIMES)[number];

// ---------------------------------------------------------------------------------------
// What a run records

export type RateSeries = Omit<RateRecord, 'ms'>;

export interface SanityChecksSeries {
  initialLoss: { lambda: number; loss: number; penalty: number }[];
  tinySet: { loss: number[]; accuracy: number[]; fittedAt: number | null };
  rates: RateSeries[];
}

export interface RateSummary {
  lr: number;
  regime: Regime;
  why: string;
  finalLoss: number | null;
  maxLoss: number;
  divergedAt: number | null;
  /** Median over layers and recorded iterations of the update ratio. */
  medianRatio: number | null;
  /** Per layer, the median over recorded iterations. */
  medianRatioPerLayer: (number | null)[];
}

export interface SanityChecksSummary {
  initialLoss: Record<string, number>;
  tinySet: { fittedAt: number | null; finalLoss: number; finalAccuracy: number; iterations: number };
  /** L0: the initial net's loss on the first batch. */
  startLoss: number;
  rates: RateSummary[];
}

// ---------------------------------------------------------------------------------------
// (a) and (b)

function initialLosses(config: SanityChecksConfig, ctx: StudyContext): SanityChecksSeries['initialLoss'] {
  const c = config.initialLoss;
  const data = firstRows(ctx.mnist().train, c.images);
  const chunk = 10000;
  return c.lambdas.map((lambda) => {
    // The same weights for every lambda (one stream): only the penalty differs.
    const net = mnistNet(config.hidden, { activation: 'relu', init: c.init, weightDecay: lambda }, Rng.stream(ctx.seed, 'initial:init'));
    try {
      let total = 0;
      for (let start = 0; start < data.count; start += chunk) {
        const idx = Array.from({ length: Math.min(chunk, data.count - start) }, (_, i) => start + i);
        const b = toBatch(gatherRows(data, idx));
        total += net.lossValue(b.x, b.y) * idx.length;
        disposeBatch(b);
      }
      let sq = 0;
      for (const w of net.weights) for (const v of w.dataSync()) sq += v * v;
      return { lambda, loss: roundSig(total / data.count, 7), penalty: roundSig(0.5 * lambda * sq, 7) };
    } finally {
      net.dispose();
    }
  });
}

function tinySet(config: SanityChecksConfig, ctx: StudyContext): SanityChecksSeries['tinySet'] {
  const c = config.tinySet;
  const batch = toBatch(firstRows(ctx.mnist().train, c.images));
  const net = mnistNet(config.hidden, { activation: 'relu', init: 'he' }, Rng.stream(ctx.seed, 'tiny:init'));
  const trainee = { name: 'tiny', net, optimizer: new Sgd(c.lr) };
  const out: SanityChecksSeries['tinySet'] = { loss: [], accuracy: [], fittedAt: null };
  const progress = ctx.progress('tiny set', c.budget);
  try {
    for (let i = 0; i < c.budget; i++) {
      trainStep(trainee, batch);
      const loss = net.lossValue(batch.x, batch.y);
      const acc = evaluateAccuracy(net, batch);
      out.loss.push(roundSig(loss, 5));
      out.accuracy.push(acc);
      progress.tick();
      if (!Number.isFinite(loss)) break;
      if (acc === 1 && loss < FITTED_LOSS) {
        out.fittedAt = i;
        break;
      }
    }
  } finally {
    progress.done();
    disposeBatch(batch);
    net.dispose();
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// (c) classification

export function classify(r: RateSeries, tail: number): Pick<RateSummary, 'regime' | 'why' | 'finalLoss' | 'maxLoss'> {
  const l0 = r.initialLoss;
  const maxLoss = r.loss.length > 0 ? Math.max(...r.loss) : NaN;
  const finalLoss = r.diverged || r.loss.length < tail ? null : meanLoss(r.loss.slice(-tail));
  if (r.diverged) return { regime: 'too high', why: `diverged at iteration ${r.diverged.iteration}`, finalLoss, maxLoss };
  if (maxLoss > RISE * l0) return { regime: 'too high', why: `loss rose to ${maxLoss.toFixed(3)} > ${RISE} L0 = ${(RISE * l0).toFixed(3)}`, finalLoss, maxLoss };
  if (finalLoss !== null && finalLoss <= GOOD * l0) return { regime: 'good', why: `final loss ${finalLoss.toFixed(3)} <= ${GOOD} L0 = ${(GOOD * l0).toFixed(3)}`, finalLoss, maxLoss };
  return { regime: 'too low', why: `final loss ${finalLoss === null ? 'none' : finalLoss.toFixed(3)} > ${GOOD} L0 = ${(GOOD * l0).toFixed(3)}, never above ${RISE} L0`, finalLoss, maxLoss };
}

const finite = (xs: (number | null)[]): number[] => xs.filter((x): x is number => x !== null && Number.isFinite(x));

export function summarizeRate(r: RateSeries, tail: number): RateSummary {
  const perLayer = r.ratio.map((l) => median(finite(l)));
  return {
    lr: r.lr,
    ...classify(r, tail),
    divergedAt: r.diverged?.iteration ?? null,
    medianRatio: median(finite(r.ratio.flat())),
    medianRatioPerLayer: perLayer.map((m) => (m === null ? null : roundSig(m, 4))),
  };
}

// ---------------------------------------------------------------------------------------
// Claims

const lrLabel = (lr: number) => `lr=${Number(lr.toPrecision(3))}`;

export function sanityClaims(run: SeedOutput<SanityChecksSeries, SanityChecksSummary>, config: SanityChecksConfig): ClaimCheck[] {
  const s = run.summary;
  const il = run.series.initialLoss;
  const claims: ClaimCheck[] = [];
  const zero = il.find((r) => r.lambda === 0);
  claims.push({
    id: 'initial-loss-ln10',
    text: `(a) With ${typeof config.initialLoss.init === 'string' ? config.initialLoss.init : `std=${config.initialLoss.init.std}`} init and lambda 0 the initial loss is within ${INITIAL_MARGIN} of ln 10 = ${CHANCE_LOSS.toFixed(4)}`,
    verdict: verdictOf(zero !== undefined && Math.abs(zero.loss - CHANCE_LOSS) <= INITIAL_MARGIN),
    numbers: { loss: zero?.loss ?? null, ln10: CHANCE_LOSS, difference: zero ? zero.loss - CHANCE_LOSS : null },
  });
  const rising = il.every((r, i) => i === 0 || r.loss > il[i - 1]!.loss);
  claims.push({
    id: 'initial-loss-rises',
    text: `(a) The initial loss rises with the regularization strength (lambda ${il.map((r) => r.lambda).join(', ')})`,
    verdict: verdictOf(rising),
    numbers: { loss: s.initialLoss, penalty: Object.fromEntries(il.map((r) => [`lambda=${r.lambda}`, r.penalty])) },
  });
  const t = s.tinySet;
  claims.push({
    id: 'tiny-set-fitted',
    text: `(b) SGD (lr ${config.tinySet.lr}, no regularization) fits ${config.tinySet.images} training images within ${config.tinySet.budget} updates: accuracy 1.0 and loss < ${FITTED_LOSS}`,
    verdict: verdictOf(t.fittedAt !== null),
    numbers: { fittedAtUpdate: t.fittedAt === null ? null : t.fittedAt + 1, finalLoss: t.finalLoss, finalAccuracy: t.finalAccuracy },
  });
  const rank = (r: Regime) => REGIMES.indexOf(r);
  const rates = [...s.rates].sort((a, b) => a.lr - b.lr);
  const ordered = rates.every((r, i) => i === 0 || rank(r.regime) >= rank(rates[i - 1]!.regime));
  const present = REGIMES.filter((g) => rates.some((r) => r.regime === g));
  claims.push({
    id: 'regimes-in-order',
    text: `(c) The three regimes appear in order of lr: too low, then good, then too high (by the loss-curve rules: diverged or rose above ${RISE} L0 = too high; final loss <= ${GOOD} L0 = good)`,
    verdict: verdictOf(ordered && present.length === REGIMES.length),
    numbers: { regimes: Object.fromEntries(rates.map((r) => [lrLabel(r.lr), `${r.regime} (${r.why})`])), startLoss: s.startLoss },
  });
  // The notes' heuristic speaks of the ratio, not of the loss rule's "good": a ratio near 1e-3
  // marks a good rate, one below it a rate that "might be too low", one much above it a rate
  // "likely too high". So the best rate (lowest final loss, not diverged) must sit in the band,
  // the too-low rates below it and the too-high ones above it; a rate the loss rule calls good
  // while its ratio is below the band (slow, yet halving the loss) is consistent with the notes.
  const inBand = (m: number | null) => m !== null && m >= RATIO_BAND[0] && m <= RATIO_BAND[1];
  const finished = rates.filter((r) => r.regime !== 'too high' && r.finalLoss !== null);
  const best = finished.length ? finished.reduce((a, b) => (b.finalLoss! < a.finalLoss! ? b : a)) : null;
  const low = rates.filter((r) => r.regime === 'too low');
  const high = rates.filter((r) => r.regime === 'too high');
  claims.push({
    id: 'update-ratio-band',
    text: `(c) The best rate's (lowest final loss) median update ratio ||lr dW|| / ||W|| lies within ${RATIO_BAND[0]}..${RATIO_BAND[1]} (around the notes' 1e-3); every too-low rate's lies below ${RATIO_BAND[0]} and every too-high rate's above ${RATIO_BAND[1]}`,
    verdict: verdictOf(best !== null && inBand(best.medianRatio) && low.every((r) => r.medianRatio !== null && r.medianRatio < RATIO_BAND[0]) && high.every((r) => r.medianRatio === null || r.medianRatio > RATIO_BAND[1])),
    numbers: { bestRate: best ? lrLabel(best.lr) : null, ...Object.fromEntries(rates.map((r) => [lrLabel(r.lr), `${r.medianRatio === null ? 'none' : r.medianRatio.toExponential(2)} (${r.regime})`])) },
  });
  return claims;
}

// ---------------------------------------------------------------------------------------
// The study

const units = { rate: unit(trainRate) };

export const sanityChecks = defineStudy<SanityChecksConfig, SanityChecksSeries, SanityChecksSummary, typeof units>({
  name: 'sanity-checks',
  id: 'S9',
  title: 'Sanity checks: babysitting the learning process',
  description: '5-layer net: initial loss vs regularization, overfitting 20 images, SGD at eight learning rates 1e-6..10 (60,000 images, 2000 iterations) with update ratios',
  needsMnist: true,
  configSchema: SanityChecksConfigSchema,
  profiles: { lecture, quick },
  // Each learning rate is a unit of work: the eight run in parallel worker processes with the
  // same numbers (a unit draws only from the seed's "rates:init" and "rates:batches" streams).
  units,
  async run(config, ctx) {
    const t0 = performance.now();
    const initialLoss = initialLosses(config, ctx);
    const t1 = performance.now();
    const tiny = tinySet(config, ctx);
    const t2 = performance.now();
    const progress = ctx.progress('learning rates', config.rates.lrs.length);
    const records = await ctx.units.run(
      config.rates.lrs.map((lr, i) => ({ unit: 'rate', key: `${i}`, input: lr })),
      (r, _task, fromJournal) => {
        progress.tick();
        if (!fromJournal && r.diverged) ctx.log(`lr ${r.lr} diverged at iteration ${r.diverged.iteration}; the other rates go on`);
      },
    );
    progress.done();
    const rates: RateSeries[] = records.map(({ ms: _ms, ...r }) => r);
    const rateSummaries = rates.map((r) => summarizeRate(r, config.rates.tail));
    for (const r of rateSummaries) ctx.log(`${lrLabel(r.lr)}: ${r.regime} (${r.why}); median update ratio ${r.medianRatio?.toExponential(2) ?? 'none'}`);
    const series: SanityChecksSeries = { initialLoss, tinySet: tiny, rates };
    const summary: SanityChecksSummary = {
      initialLoss: Object.fromEntries(initialLoss.map((r) => [`lambda=${r.lambda}`, r.loss])),
      tinySet: { fittedAt: tiny.fittedAt, finalLoss: tiny.loss[tiny.loss.length - 1]!, finalAccuracy: tiny.accuracy[tiny.accuracy.length - 1]!, iterations: tiny.loss.length },
      startLoss: rates[0]!.initialLoss,
      rates: rateSummaries,
    };
    const timings: Record<string, number> = { initialLossMs: Math.round(t1 - t0), tinySetMs: Math.round(t2 - t1) };
    records.forEach((r) => (timings[`${lrLabel(r.lr)}.ms`] = r.ms));
    return { series, summary, timings };
  },
  claims: sanityClaims,
  // CI's guard: the initial losses (loss tolerance), the updates the tiny set took (+-50%: a
  // rounding change shifts the stopping point by a little, a broken step by far more), and per
  // rate its final loss (loss tolerance) and log10 median update ratio (+-0.3 decade).
  keyNumbers(run): Record<string, KeyNumber> {
    const s = run.summary;
    const out: Record<string, KeyNumber> = {};
    for (const [k, v] of Object.entries(s.initialLoss)) out[`initialLoss.${k}`] = { value: v, tolerance: 0.02 + 0.15 * Math.abs(v) };
    if (s.tinySet.fittedAt !== null) out['tinySet.updatesToFit'] = { value: s.tinySet.fittedAt + 1, tolerance: Math.max(5, 0.5 * (s.tinySet.fittedAt + 1)) };
    for (const r of s.rates) {
      if (r.finalLoss !== null) out[`${lrLabel(r.lr)}.finalLoss`] = { value: r.finalLoss, tolerance: 0.02 + 0.15 * Math.abs(r.finalLoss) };
      if (r.medianRatio !== null && r.medianRatio > 0) out[`${lrLabel(r.lr)}.log10MedianRatio`] = { value: roundSig(Math.log10(r.medianRatio), 4), tolerance: 0.3 };
    }
    return out;
  },
  figures: sanityChecksFigures,
  curves(run) {
    return [
      { panel: 'loss per learning rate', x: 'iteration', y: 'batch loss', lines: run.series.rates.map((r) => ({ name: lrLabel(r.lr), y: r.loss })) },
      { panel: 'tiny set', x: 'update', y: 'loss', lines: [{ name: 'loss', y: run.series.tinySet.loss }, { name: 'accuracy', y: run.series.tinySet.accuracy }] },
    ];
  },
});

export { lrLabel };
