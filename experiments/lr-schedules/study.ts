/**
 * S10 lr-schedules: annealing the learning rate. The 5-layer ReLU/He net trained by SGD from a
 * starting rate high enough to bounce, four times: at that rate throughout (constant), and with
 * the lecture notes' three decays (step, exponential a0 e^(-kt), 1/t a0 / (1 + kt)). All four
 * start from the same initial weights and see the same minibatches, so the curves differ only
 * by the schedule. The lesson: annealing lets a high starting rate settle into a deeper minimum
 * instead of bouncing around it.
 *
 * The starting rate a0 is chosen by a rule fixed before the run, so that constant does bounce:
 * of the candidate rates `startRates`, the largest whose first epoch of constant SGD neither
 * diverges nor leaves the net unlearned (the mean loss of that epoch's last 10 batches below
 * 0.9 ln 10, the suite's did-not-learn line). Beside it, as measured figures only, the same
 * four schedules from the low rate `lr` (0.1, the notes' example, where constant SGD on
 * 10,000 images settles without bouncing: it memorizes them).
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
import { allOf, comparing, lossDifference, LEARNED_LOSS_BELOW } from '../../src/claims.js';
import { listText } from '../../src/format.js';
import { disposeTrainees, hiddenOf, mnistNet } from '../../src/nn/mnist-net.js';
import { makeOptimizer } from '../../src/optim/optimizers.js';
import { describeSchedule, lrScheduleSchema, scheduleFn, type LrSchedule } from '../../src/optim/schedules.js';
import { ACCURACY_TOLERANCE, defaultTolerance } from '../../src/regression.js';
import { Rng } from '../../src/rng.js';
import { mean, roundSig } from '../../src/stats.js';
import { defineStudy, unit, type ClaimCheck, type KeyNumber, type UnitContext } from '../../src/study.js';
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
    /** The low-rate arm's starting rate (measured beside the claims, not judged). */
    lr: positive,
    /** Candidate starting rates of the judged arm, ascending: the rule in the header picks one. */
    startRates: z.array(positive).min(1),
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

// Candidates on a 1-2-5 grid from the low rate up to 5 (S9 saw SGD at 1 diverge on this net).
const lectureBase = { trainSize: 10000, testSize: 10000, hidden: hiddenOf(4), batchSize: 128, epochs: 30, lr: 0.1, startRates: [0.1, 0.2, 0.5, 1, 2, 5] };
// 30 epochs: the last epoch index is 29, so drops every 10 epochs fall at 10 and 20.
const lecture: LrSchedulesConfig = { ...lectureBase, schedules: decays(lectureBase, 10) };

// Quick: 2,000 images (16 iterations per epoch), 10 epochs (145 updates), 2,000 test images;
// the same rates, the decays solved for its own last update (step: drops at epochs 4 and 8).
const quickBase = { ...lectureBase, trainSize: 2000, testSize: 2000, epochs: 10 };
const quick: LrSchedulesConfig = { ...quickBase, schedules: decays(quickBase, 4) };

// ---------------------------------------------------------------------------------------
// Claims' thresholds, fixed before the lecture-scale run that judges them (all on the arm
// started at the rule's a0):
// - "lower training loss": the last epoch's per-iteration losses (its last iterationsPerEpoch
//   updates) lower than constant's on the same batches, a real difference under the suite's
//   rule (src/difference.ts, paired over the shared batches);
// - "less noise": a lower standard deviation of those same losses, the difference real under
//   the same paired rule applied to each batch's absolute deviation from its schedule's
//   last-epoch mean;
// - test accuracy is recorded and shown, not claimed: the notes say nothing about it.
// A comparison whose schedules did not learn is inconclusive (src/claims.ts).

/** The judged arm's schedules are named as in the config; the low arm's carry this prefix. */
export const LOW_PREFIX = 'low:';
/** The rule's "learned in the first epoch": mean loss of its last 10 batches below 0.9 ln 10. */
const PROBE_TAIL = 10;

export const NAME_LABEL: Record<string, string> = { constant: 'constant', step: 'step', exponential: 'exponential', 'inverse-time': '1/t' };
export const scheduleLabel = (name: string): string =>
  name.startsWith(LOW_PREFIX) ? `${scheduleLabel(name.slice(LOW_PREFIX.length))}, low a0` : (NAME_LABEL[name] ?? name);

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

/** The starting-rate rule's probes: one epoch of constant SGD per candidate. */
export interface StartRateProbe {
  lr: number;
  diverged: boolean;
  /** Mean loss of the probe's last PROBE_TAIL batches (null once diverged). */
  endLoss: number | null;
}

export interface LrSchedulesSeries {
  iterationsPerEpoch: number;
  /** The judged arm's starting rate and the probes that chose it (absent in runs made before the rule). */
  startRate?: { chosen: number; probes: StartRateProbe[] };
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

/**
 * One schedule's run from a0: the shared initial weights and batches, the schedule's rate every
 * update. `epochs` defaults to the config's (a probe runs 2: one epoch of updates).
 */
function trainSchedule(config: LrSchedulesConfig, name: string, a0: number, ctx: UnitContext, epochs = config.epochs): ScheduleRun {
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
  const optimizer = makeOptimizer('sgd', a0);
  const r = trainEpochs({
    trainees: [{ name, net, optimizer, lrAt: scheduleFn(config.schedules[name]!, a0, ipe) }],
    train,
    batchSize: config.batchSize,
    epochs,
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

/** One candidate of the starting-rate rule: one epoch of constant SGD from the shared weights and batches. */
function probeStartRate(config: LrSchedulesConfig, lr: number, ctx: UnitContext): StartRateProbe {
  const r = trainSchedule(config, 'constant', lr, ctx, 2);
  const end = r.loss.slice(-PROBE_TAIL);
  return { lr, diverged: r.divergedAt !== null, endLoss: r.divergedAt !== null ? null : meanLoss(end) };
}

/** The rule (see the header): the largest candidate that neither diverged nor stayed unlearned; the smallest when none qualifies. */
export function chooseStartRate(probes: StartRateProbe[]): number {
  const ok = probes.filter((p) => !p.diverged && p.endLoss !== null && p.endLoss < LEARNED_LOSS_BELOW);
  return ok.length ? Math.max(...ok.map((p) => p.lr)) : Math.min(...probes.map((p) => p.lr));
}

interface ScheduleTask {
  name: string;
  a0: number;
}

const units = {
  schedule: unit((config: LrSchedulesConfig, t: ScheduleTask, ctx: UnitContext) => trainSchedule(config, t.name, t.a0, ctx)),
  probe: unit(probeStartRate),
};

export const lrSchedules = defineStudy<LrSchedulesConfig, LrSchedulesSeries, LrSchedulesSummary, typeof units>({
  name: 'lr-schedules',
  id: 'S10',
  title: 'Annealing the learning rate',
  description:
    '5-layer ReLU/He net, 10,000 images, SGD, batch 128, 30 epochs: constant vs step, exponential and 1/t decay to a0/10, same weights and batches; a0 the largest rate that learns in its first epoch without diverging, and beside it the same four from 0.1',
  needsMnist: true,
  configSchema: LrSchedulesConfigSchema,
  profiles: { lecture, quick },
  units,
  async run(config, ctx) {
    const probing = ctx.progress('start-rate probes', config.startRates.length);
    const probes = (await ctx.units.run(
      config.startRates.map((lr) => ({ unit: 'probe' as const, key: `probe ${lr}`, input: lr })),
      () => probing.tick(),
    )) as StartRateProbe[];
    probing.done();
    const a0 = chooseStartRate(probes);
    ctx.log(`starting rate ${a0}: the largest of ${config.startRates.join(', ')} that learns in its first epoch without diverging (${probes.map((p) => `${p.lr}: ${p.diverged ? 'diverged' : `end loss ${p.endLoss?.toFixed(3)}`}`).join('; ')})`);
    const tasks: ScheduleTask[] = [
      ...Object.keys(config.schedules).map((name) => ({ name, a0 })),
      ...Object.keys(config.schedules).map((name) => ({ name: `${LOW_PREFIX}${name}`, a0: config.lr })),
    ];
    const names = tasks.map((t) => t.name);
    const progress = ctx.progress('schedules', tasks.length);
    const runs = (await ctx.units.run(
      tasks.map((t) => ({ unit: 'schedule' as const, key: t.name, input: { name: t.name.startsWith(LOW_PREFIX) ? t.name.slice(LOW_PREFIX.length) : t.name, a0: t.a0 } })),
      () => progress.tick(),
    )) as ScheduleRun[];
    progress.done();
    const ipe = iterationsPerEpoch(config);
    const schedules: Record<string, ScheduleSeries> = {};
    const summary: LrSchedulesSummary = {};
    const timings: Record<string, number> = {};
    names.forEach((name, k) => {
      const r = runs[k]!;
      const last = r.loss.slice(-ipe);
      const s: ScheduleSummary = {
        schedule: `${describeSchedule(config.schedules[name.startsWith(LOW_PREFIX) ? name.slice(LOW_PREFIX.length) : name]!)} from ${tasks[k]!.a0}`,
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
    return { series: { iterationsPerEpoch: ipe, startRate: { chosen: a0, probes }, schedules }, summary, timings };
  },
  claims(run, config): ClaimCheck[] {
    const s = run.summary;
    const annealed = Object.keys(config.schedules).filter((n) => n !== 'constant');
    const a0 = run.series.startRate?.chosen ?? config.lr;
    const judged = Object.keys(config.schedules);
    const per = <T>(f: (x: ScheduleSummary) => T) => Object.fromEntries(judged.map((n) => [n, f(s[n]!)]));
    const learnedLoss = Object.fromEntries(judged.map((n) => [n, { loss: s[n]!.finalLoss }]));
    const names = listText(annealed.map(scheduleLabel));
    const ipe = iterationsPerEpoch(config);
    const curve = (n: string) => run.series.schedules[n]?.loss;
    const lower = allOf(Object.fromEntries(annealed.map((n) => [n, lossDifference('lower', curve(n), curve('constant'), ipe)])));
    // Noise: each batch's absolute deviation from its schedule's last-epoch mean, paired.
    const deviations = (n: string): (number | null)[] | undefined => {
      const last = curve(n)?.slice(-ipe);
      const m = last ? meanLoss(last) : null;
      return last && m !== null ? last.map((x) => (x === null ? null : Math.abs(x - m))) : undefined;
    };
    const quieter = allOf(Object.fromEntries(annealed.map((n) => [n, lossDifference('lower', deviations(n), deviations('constant'), ipe)])));
    const start = run.series.startRate ? `from a0 = ${a0} (the rule's rate)` : `from ${a0}`;
    return [
      comparing(
        {
          id: 'annealed-lower-loss',
          text: `each annealed schedule (${names}) ${start} ends with a lower training loss than constant (mean over the last epoch, ${ipe} iterations; a real difference, paired over the shared batches)`,
          verdict: lower.verdict,
          ...(lower.reason ? { reason: lower.reason } : {}),
          numbers: { startRate: a0, finalLoss: per((x) => x.finalLoss), finalLr: per((x) => x.finalLr), tests: lower.tests },
        },
        learnedLoss,
      ),
      comparing(
        {
          id: 'annealed-less-noise',
          text: `each annealed schedule ${start} ends with less noise than constant: a lower spread of the per-iteration loss over the last epoch (absolute deviations from the epoch's mean, paired over the shared batches; std shown)`,
          verdict: quieter.verdict,
          ...(quieter.reason ? { reason: quieter.reason } : {}),
          numbers: { finalLossStd: per((x) => x.finalLossStd), tests: quieter.tests },
        },
        learnedLoss,
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
