/**
 * S10 lr-schedules: annealing the learning rate. The 5-layer ReLU/He net trained by SGD from a
 * starting rate high enough to bounce, four times: at that rate throughout (constant), and with
 * the lecture notes' three decays (step, exponential a0 e^(-kt), 1/t a0 / (1 + kt)). All four
 * start from the same initial weights and see the same minibatches, so the curves differ only
 * by the schedule. The lesson: annealing lets a high starting rate settle into a deeper minimum
 * instead of bouncing around it.
 *
 * Recorded: the training loss of every iteration (the training-mode loss of the iteration's
 * batch before its update: what the step itself computes, no extra forward pass), the rate of
 * every iteration, and training and test accuracy every epoch (evaluation mode).
 *
 * Choices the notes leave open, made here before the first lecture-scale run:
 * - An epoch is ceil(trainSize / batchSize) iterations (10,000 / 128 -> 79): the lecture's
 *   max(trainSize / batchSize, 1) is fractional here (78.125) and its `i % iter_per_epoch == 0`
 *   would evaluate only every 625 iterations. The lecture's loop otherwise: E epochs give E
 *   evaluations, after iterations 0, 79, ..., (E-1)*79, so a run makes (E-1)*79 + 1 updates.
 * - The three decays reach the same final rate, a0 / 10 at the last update (iteration
 *   T = (E-1) * 79 = 2291): one decade of annealing, from the bouncing 0.1 down to S2's SGD
 *   rate 0.01. Step: x 10^(-1/2) every 10 epochs (two drops, at epochs 10 and 20: the last
 *   third runs at a0 / 10); exponential: k = ln(10) / T per iteration; 1/t: k = 9 / T per
 *   iteration. They differ in how early they spend the rate: 1/t halves it by iteration
 *   T/9, exponential by 0.3 T, step holds a0 for the first third.
 * - Each schedule is a unit of work (same streams "init" and "batches" for all four), so the
 *   four can train in parallel worker processes with the same numbers.
 */
import { z } from 'zod';
import { count, hiddenLayers, positive, testImages, trainImages } from '../../src/config.js';
import { firstRows } from '../../src/data/mnist.js';
import { comparing, verdictOf } from '../../src/claims.js';
import { listText } from '../../src/format.js';
import { disposeTrainees, hiddenOf, mnistNet } from '../../src/nn/mnist-net.js';
import { makeOptimizer } from '../../src/optim/optimizers.js';
import { describeSchedule, lrScheduleSchema, scheduleFn, type LrSchedule } from '../../src/optim/schedules.js';
import { ACCURACY_TOLERANCE, defaultTolerance } from '../../src/regression.js';
import { Rng } from '../../src/rng.js';
import { mean, roundSig } from '../../src/stats.js';
import { defineStudy, type ClaimCheck, type KeyNumber, type UnitContext } from '../../src/study.js';
import { disposeBatch, toBatch } from '../../src/train/batches.js';
import { meanLoss, trainEpochs, wholeIterationsPerEpoch, type Divergence } from '../../src/train/loop.js';
import { scheduleFigures } from './figure.js';

export const LrSchedulesConfigSchema = z
  .strictObject({
    /** The first N training images (trained on, and the "training accuracy" set). */
    trainSize: trainImages,
    /** The first N test images (10,000 = all). */
    testSize: testImages,
    hidden: hiddenLayers,
    batchSize: count(1, 60_000),
    epochs: count(2),
    /** The starting rate a0 of every schedule. */
    lr: positive,
    /** One run per schedule, by name; "constant" is the baseline the claims compare with. */
    schedules: z.record(z.string().min(1), lrScheduleSchema),
  })
  .refine((c) => c.schedules.constant?.kind === 'constant', { message: "must include constant: {kind: 'constant'} (the claims compare with it)", path: ['schedules'] })
  .refine((c) => Object.keys(c.schedules).length >= 2, { message: 'needs at least one annealed schedule beside constant', path: ['schedules'] });
export type LrSchedulesConfig = z.infer<typeof LrSchedulesConfigSchema>;

/** Iterations per epoch: ceil(trainSize / batchSize) (see the header). */
export const iterationsPerEpoch = (c: Pick<LrSchedulesConfig, 'trainSize' | 'batchSize'>): number => wholeIterationsPerEpoch(c.trainSize, c.batchSize);
/** Index of the last update: (epochs - 1) * iterationsPerEpoch (the lecture's loop, see the header). */
export const lastIteration = (c: Pick<LrSchedulesConfig, 'trainSize' | 'batchSize' | 'epochs'>): number => (c.epochs - 1) * iterationsPerEpoch(c);

/** Every decay ends at a0 / FINAL_DIVISOR (one decade: 0.1 -> 0.01, S2's SGD rate). */
export const FINAL_DIVISOR = 10;

/**
 * The three decays of a profile, each reaching a0 / FINAL_DIVISOR at the last update: step
 * drops twice (x FINAL_DIVISOR^(-1/2) every `stepEvery` epochs), exponential and 1/t decay per
 * iteration with k solved for the last update T.
 */
function decays(c: Pick<LrSchedulesConfig, 'trainSize' | 'batchSize' | 'epochs'>, stepEvery: number): Record<string, LrSchedule> {
  const T = lastIteration(c);
  return {
    constant: { kind: 'constant' },
    step: { kind: 'step', unit: 'epoch', every: stepEvery, factor: FINAL_DIVISOR ** -0.5 },
    exponential: { kind: 'exponential', unit: 'iteration', k: Math.log(FINAL_DIVISOR) / T },
    'inverse-time': { kind: 'inverse-time', unit: 'iteration', k: (FINAL_DIVISOR - 1) / T },
  };
}

const lectureBase = { trainSize: 10000, testSize: 10000, hidden: hiddenOf(4), batchSize: 128, epochs: 30, lr: 0.1 };
// 30 epochs: the last epoch index is 29, so drops every 10 epochs fall at 10 and 20.
const lecture: LrSchedulesConfig = { ...lectureBase, schedules: decays(lectureBase, 10) };

// Quick: 2,000 images (16 iterations per epoch), 10 epochs (145 updates), 2,000 test images;
// the same rates, the decays solved for its own last update (step: drops at epochs 4 and 8).
const quickBase = { ...lectureBase, trainSize: 2000, testSize: 2000, epochs: 10 };
const quick: LrSchedulesConfig = { ...quickBase, schedules: decays(quickBase, 4) };

// ---------------------------------------------------------------------------------------
// Claims' thresholds, fixed before the first lecture-scale run:
// - "lower training loss": the mean of the last epoch's per-iteration losses (its last
//   iterationsPerEpoch updates) strictly below constant's; no margin, the notes claim a
//   direction, and the mean over 79 batches is already an average;
// - "less noise": the standard deviation (population) of those same losses strictly below
//   constant's;
// - "best annealed test accuracy at least constant's": the highest final test accuracy among
//   the annealed schedules >= constant's final test accuracy (final = last evaluation).
// Every comparison fails if a schedule it compares did not learn (src/claims.ts).

export const NAME_LABEL: Record<string, string> = { constant: 'constant', step: 'step', exponential: 'exponential', 'inverse-time': '1/t' };
export const scheduleLabel = (name: string): string => NAME_LABEL[name] ?? name;

export interface ScheduleSeries {
  /** Per iteration: the training loss of the batch before the update (null once diverged). */
  loss: (number | null)[];
  /** Per iteration: the rate of the update. */
  lr: (number | null)[];
  /** Per epoch (evaluation mode). */
  trainAccuracy: number[];
  testAccuracy: number[];
  divergedAt: Divergence | null;
}

export interface LrSchedulesSeries {
  iterationsPerEpoch: number;
  schedules: Record<string, ScheduleSeries>;
}

export interface ScheduleSummary {
  schedule: string;
  /** Mean and std of the per-iteration loss over the last epoch (null if it diverged). */
  finalLoss: number | null;
  finalLossStd: number | null;
  finalTrainAccuracy: number;
  testAccuracy: number;
  bestTestAccuracy: number;
  finalLr: number | null;
  diverged: boolean;
}

export type LrSchedulesSummary = Record<string, ScheduleSummary>;

/** Population standard deviation, or null when an entry is missing (a diverged run). */
export function stdOrNull(xs: (number | null)[]): number | null {
  const m = meanLoss(xs);
  if (m === null) return null;
  return Math.sqrt(mean(xs.map((x) => (x! - m) ** 2)));
}

interface ScheduleRun extends ScheduleSeries {
  msPerStep: number;
  evalMs: number;
}

/** One schedule's run: the shared initial weights and batches, the schedule's rate every update. */
function trainSchedule(config: LrSchedulesConfig, name: string, ctx: UnitContext): ScheduleRun {
  const mnist = ctx.mnist();
  const train = firstRows(mnist.train, config.trainSize);
  const evalSets = ctx.cached(
    's10-eval',
    () => ({ train: toBatch(train), test: toBatch(firstRows(mnist.test, config.testSize)) }),
    (s) => {
      disposeBatch(s.train);
      disposeBatch(s.test);
    },
  );
  const ipe = iterationsPerEpoch(config);
  const net = mnistNet(config.hidden, { activation: 'relu', init: 'he' }, Rng.stream(ctx.seed, 'init'));
  const optimizer = makeOptimizer('sgd', config.lr);
  const r = trainEpochs({
    trainees: [{ name, net, optimizer, lrAt: scheduleFn(config.schedules[name]!, config.lr, ipe) }],
    train,
    batchSize: config.batchSize,
    epochs: config.epochs,
    iterationsPerEpoch: ipe,
    rng: Rng.stream(ctx.seed, 'batches'),
    evalSets,
  });
  disposeTrainees([{ net, optimizer }]);
  return {
    loss: r.loss[name]!,
    lr: r.lr[name]!,
    trainAccuracy: r.accuracy[name]!.train!,
    testAccuracy: r.accuracy[name]!.test!,
    divergedAt: r.divergedAt[name] ?? null,
    msPerStep: r.msPerStep,
    evalMs: r.evalMs,
  };
}

const round6 = (x: number | null) => (x === null ? null : roundSig(x, 6));

export const lrSchedules = defineStudy<LrSchedulesConfig, LrSchedulesSeries, LrSchedulesSummary>({
  name: 'lr-schedules',
  id: 'S10',
  title: 'Annealing the learning rate',
  description: '5-layer ReLU/He net, 10,000 images, SGD from 0.1, batch 128, 30 epochs: constant vs step, exponential and 1/t decay to 0.01, same weights and batches',
  needsMnist: true,
  configSchema: LrSchedulesConfigSchema,
  profiles: { lecture, quick },
  units: { schedule: (config, task, ctx) => trainSchedule(config, task.input as string, ctx) },
  async run(config, ctx) {
    const names = Object.keys(config.schedules);
    const progress = ctx.progress('schedules', names.length);
    const runs = await ctx.units.run<ScheduleRun>(
      names.map((name) => ({ unit: 'schedule', key: name, input: name })),
      () => progress.tick(),
    );
    progress.done();
    const ipe = iterationsPerEpoch(config);
    const schedules: Record<string, ScheduleSeries> = {};
    const summary: LrSchedulesSummary = {};
    const timings: Record<string, number> = {};
    names.forEach((name, k) => {
      const r = runs[k]!;
      const last = r.loss.slice(-ipe);
      const s: ScheduleSummary = {
        schedule: describeSchedule(config.schedules[name]!),
        finalLoss: meanLoss(last),
        finalLossStd: stdOrNull(last),
        finalTrainAccuracy: r.trainAccuracy.at(-1)!,
        testAccuracy: r.testAccuracy.at(-1)!,
        bestTestAccuracy: Math.max(...r.testAccuracy),
        finalLr: r.lr.at(-1) ?? null,
        diverged: r.divergedAt !== null,
      };
      summary[name] = s;
      schedules[name] = { loss: r.loss.map(round6), lr: r.lr.map(round6), trainAccuracy: r.trainAccuracy, testAccuracy: r.testAccuracy, divergedAt: r.divergedAt };
      Object.assign(timings, { [`${name}.msPerStep`]: r.msPerStep, [`${name}.evalMs`]: r.evalMs });
      ctx.log(
        `${scheduleLabel(name)} (${s.schedule}): last-epoch loss ${s.finalLoss?.toFixed(4) ?? 'diverged'} (std ${s.finalLossStd?.toFixed(4) ?? '-'}), ` +
          `final rate ${s.finalLr === null ? '-' : roundSig(s.finalLr, 4)}, train ${s.finalTrainAccuracy.toFixed(4)}, test ${s.testAccuracy.toFixed(4)}`,
      );
    });
    return { series: { iterationsPerEpoch: ipe, schedules }, summary, timings };
  },
  claims(run, config): ClaimCheck[] {
    const s = run.summary;
    const annealed = Object.keys(config.schedules).filter((n) => n !== 'constant');
    const c = s.constant!;
    const per = <T>(f: (x: ScheduleSummary) => T) => Object.fromEntries(Object.keys(config.schedules).map((n) => [n, f(s[n]!)]));
    const learnedLoss = Object.fromEntries(Object.keys(config.schedules).map((n) => [n, { loss: s[n]!.finalLoss }]));
    const learnedAcc = Object.fromEntries(Object.keys(config.schedules).map((n) => [n, { accuracy: s[n]!.testAccuracy }]));
    const below = (x: number | null, y: number | null) => x !== null && y !== null && x < y;
    const names = listText(annealed.map(scheduleLabel));
    const ipe = iterationsPerEpoch(config);
    const bestAnnealed = Math.max(...annealed.map((n) => s[n]!.testAccuracy));
    return [
      comparing(
        {
          id: 'annealed-lower-loss',
          text: `each annealed schedule (${names}) ends with a lower training loss than constant lr ${config.lr} (mean over the last epoch, ${ipe} iterations)`,
          verdict: verdictOf(annealed.every((n) => below(s[n]!.finalLoss, c.finalLoss))),
          numbers: { finalLoss: per((x) => x.finalLoss), finalLr: per((x) => x.finalLr) },
        },
        learnedLoss,
      ),
      comparing(
        {
          id: 'annealed-less-noise',
          text: `each annealed schedule ends with less noise than constant: a lower std of the per-iteration loss over the last epoch`,
          verdict: verdictOf(annealed.every((n) => below(s[n]!.finalLossStd, c.finalLossStd))),
          numbers: { finalLossStd: per((x) => x.finalLossStd) },
        },
        learnedLoss,
      ),
      comparing(
        {
          id: 'annealed-test-at-least-constant',
          text: `the best annealed schedule's final test accuracy is at least constant's (${config.testSize.toLocaleString('en-US')} test images)`,
          verdict: verdictOf(bestAnnealed >= c.testAccuracy),
          numbers: { bestAnnealed, constant: c.testAccuracy, testAccuracy: per((x) => x.testAccuracy) },
        },
        learnedAcc,
      ),
    ];
  },
  // CI's guard (src/regression.ts): each schedule's last-epoch loss and final test accuracy.
  keyNumbers(run): Record<string, KeyNumber> {
    const out: Record<string, KeyNumber> = {};
    for (const [name, s] of Object.entries(run.summary)) {
      if (s.finalLoss !== null) out[`${name}.finalLoss`] = { value: s.finalLoss, tolerance: defaultTolerance('loss', s.finalLoss)! };
      out[`${name}.testAccuracy`] = { value: s.testAccuracy, tolerance: ACCURACY_TOLERANCE };
    }
    return out;
  },
  figures: scheduleFigures,
  curves: (run) => [
    { panel: 'training loss', x: 'iteration', y: 'loss (batch before its update)', lines: Object.entries(run.series.schedules).map(([n, s]) => ({ name: scheduleLabel(n), y: s.loss })) },
    { panel: 'learning rate', x: 'iteration', y: 'learning rate', lines: Object.entries(run.series.schedules).map(([n, s]) => ({ name: scheduleLabel(n), y: s.lr })) },
    { panel: 'test accuracy', x: 'epoch', y: 'test accuracy', lines: Object.entries(run.series.schedules).map(([n, s]) => ({ name: scheduleLabel(n), y: s.testAccuracy })) },
  ],
});
