/**
 * S4 init-mnist: the 5-layer ReLU net trained on MNIST with plain SGD from four inits,
 * std=0.01, Xavier and He (the lecture's three) and std=1 (the project brief's fourth row),
 * every one on the same minibatch each iteration; the loss on that batch after each update.
 *
 * All four nets draw their weights from one stream ("init"), so they start from the same
 * directions and differ only in scale. The std=1 net's logits are huge from the start; if
 * its loss turns NaN/Inf the loop records the iteration and stops training that net only.
 */
import { z } from 'zod';
import { count, hiddenLayers, initScheme, positive, trainImages } from '../../src/config.js';
import { firstRows, gatherRows } from '../../src/data/mnist.js';
import { initLabel } from '../../src/nn/init.js';
import { hiddenOf, mnistNet } from '../../src/nn/mnist-net.js';
import { makeOptimizer } from '../../src/optim/optimizers.js';
import { lossStudyViews, type LossSeries } from '../../src/plot/loss-curves.js';
import { comparing, lossDifference, verdictOf } from '../../src/claims.js';
import { finalLossAndTestAccuracy } from '../../src/regression.js';
import { Rng } from '../../src/rng.js';
import { roundSig } from '../../src/stats.js';
import { defineStudy, type ClaimCheck } from '../../src/study.js';
import { disposeBatch, toBatch } from '../../src/train/batches.js';
import { meanLoss, type Trainee } from '../../src/train/loop.js';
import { trainOnSameBatches } from '../../src/train/same-batches.js';

export const InitMnistConfigSchema = z
  .strictObject({
    trainSize: trainImages,
    hidden: hiddenLayers,
    batchSize: count(1, 60_000),
    iterations: count(1),
    lr: positive,
    inits: z.array(initScheme).min(1),
    /** Iterations at the end whose mean loss is "the final loss". */
    tail: count(1),
    /** Training images on which every net's loss is measured before the first update. */
    probeSize: count(1, 60_000),
    /** He and Xavier "learn": their final loss is below this. */
    learnedBelow: positive,
  })
  .refine((c) => c.tail <= c.iterations, { message: 'tail must not exceed iterations', path: ['tail'] });
export type InitMnistConfig = z.infer<typeof InitMnistConfigSchema>;

export const LN10 = Math.log(10);

// ---- Claim thresholds, fixed before the first run. ----
/**
 * std=0.01 "does not learn": every loss of the last `tail` iterations stays above 2.2. The
 * lecture's curve sits at ln 10 = 2.303 (uniform guessing) throughout; 2.2 leaves room for
 * batch-to-batch noise while being far above anything a learning net reaches.
 */
export const FLAT_FLOOR = 2.2;
/**
 * std=1 "explodes": its loss goes above ten times the no-information loss ln 10 (about 23)
 * at some iteration, or turns NaN/Inf. A net that merely learns slowly never exceeds ln 10
 * by much; ten times it is a blow-up.
 */
export const EXPLODE_ABOVE = 10 * LN10;

const lecture: InitMnistConfig = {
  trainSize: 60000,
  hidden: hiddenOf(4),
  batchSize: 128,
  iterations: 2000,
  lr: 0.01,
  inits: [{ std: 0.01 }, 'xavier', 'he', { std: 1 }],
  tail: 100,
  probeSize: 1000,
  // The lecture's run ends near 0.28 (Xavier) and 0.20 (He); 0.5 says "clearly learned".
  learnedBelow: 0.5,
};

const quick: InitMnistConfig = {
  ...lecture,
  // 800 of the lecture's 2000 iterations: Xavier's 50-iteration mean first falls below 1.0
  // near iteration 530 at lecture scale, so 300 (tried first) left it at 1.93 and the quick
  // claim failing for want of time, not for a change in the finding.
  iterations: 800,
  tail: 50,
  // Plain SGD is still far from 0.28/0.20 this early, so the quick claim is only "well below
  // ln 10": under 1.0.
  learnedBelow: 1.0,
};

/** What the claims and the report need from one net's loss curve. */
export interface RowSummary {
  initialLoss: number | null;
  /** Mean loss of the last `tail` iterations (null if any is missing: the net diverged). */
  finalLoss: number | null;
  /** Smallest and largest loss of the last `tail` iterations. */
  tailMin: number | null;
  tailMax: number | null;
  maxLoss: number | null;
  /** First iteration whose loss is above EXPLODE_ABOVE or not finite (null: never). */
  explodedAt: number | null;
  /** Iteration whose loss first turned NaN/Inf (null: never). */
  divergedAt: number | null;
  /** First iteration where the mean loss of the 50 iterations ending there is below 1.0. */
  firstMean50Below1: number | null;
  testAccuracy: number;
}

export function summarizeLoss(loss: (number | null)[], tail: number): Omit<RowSummary, 'initialLoss' | 'testAccuracy' | 'divergedAt'> {
  const last = loss.slice(-tail);
  const finiteLast = last.filter((x): x is number => x !== null);
  const finite = loss.filter((x): x is number => x !== null);
  const explodedAt = loss.findIndex((x) => x === null || x > EXPLODE_ABOVE);
  let firstMean50Below1: number | null = null;
  let window = 0;
  for (let i = 0; i < loss.length; i++) {
    const v = loss[i];
    if (v === null || v === undefined) break;
    window += v;
    if (i >= 50) window -= loss[i - 50]!;
    if (i >= 49 && window / 50 < 1) {
      firstMean50Below1 = i;
      break;
    }
  }
  return {
    finalLoss: meanLoss(last),
    tailMin: finiteLast.length === last.length && last.length > 0 ? Math.min(...finiteLast) : null,
    tailMax: finiteLast.length === last.length && last.length > 0 ? Math.max(...finiteLast) : null,
    maxLoss: finite.length > 0 ? finite.reduce((a, b) => Math.max(a, b), -Infinity) : null,
    explodedAt: explodedAt >= 0 ? explodedAt : null,
    firstMean50Below1,
  };
}

/** Legend labels: the lecture's three, then any extra init the run adds (e.g. std=1). */
const LABELS = { 'std=0.01': 'std=0.01', xavier: 'Xavier', he: 'He' };

export interface InitMnistSeries extends LossSeries {
  /** Each net's loss on the probe images before the first update. */
  initialLoss: Record<string, number>;
  ln10: number;
}

export type InitMnistSummary = Record<string, RowSummary>;

export const initMnist = defineStudy<InitMnistConfig, InitMnistSeries, InitMnistSummary>({
  name: 'init-mnist',
  id: 'S4',
  title: 'Weight init compared on MNIST',
  description: '5-layer ReLU net, SGD 0.01, batch 128, 2000 iterations; init std=0.01, Xavier, He (and std=1) on the same batches',
  needsMnist: true,
  configSchema: InitMnistConfigSchema,
  profiles: { lecture, quick },
  run(config, ctx) {
    const mnist = ctx.mnist();
    const train = firstRows(mnist.train, config.trainSize);
    const trainees: Trainee[] = config.inits.map((init) => ({
      name: initLabel(init),
      net: mnistNet(config.hidden, { activation: 'relu', init }, Rng.stream(ctx.seed, 'init')),
      optimizer: makeOptimizer('sgd', config.lr),
    }));
    // The loss before any update on one seeded sample of training images (the notes' sanity
    // check: about ln 10 for a well-scaled net).
    const probe = toBatch(gatherRows(train, Rng.stream(ctx.seed, 'probe').choice(train.count, config.probeSize)));
    const initialLoss = Object.fromEntries(trainees.map((t) => [t.name, t.net.lossValue(probe.x, probe.y)]));
    disposeBatch(probe);

    const run = trainOnSameBatches(trainees, { train, test: mnist.test, batchSize: config.batchSize, iterations: config.iterations }, ctx);
    const summary: InitMnistSummary = {};
    const loss: Record<string, (number | null)[]> = {};
    for (const t of trainees) {
      const curve = run.loss[t.name]!;
      const row: RowSummary = {
        initialLoss: Number.isFinite(initialLoss[t.name]!) ? initialLoss[t.name]! : null,
        ...summarizeLoss(curve, config.tail),
        divergedAt: run.divergedAt[t.name]?.iteration ?? null,
        testAccuracy: run.testAccuracy[t.name]!,
      };
      summary[t.name] = row;
      loss[t.name] = curve.map((x) => (x === null ? null : roundSig(x, 5)));
    }
    return {
      series: { loss, divergedAt: run.divergedAt, initialLoss, ln10: LN10 },
      summary,
      timings: { msPerStep: run.msPerStep },
    };
  },
  claims(run, config): ClaimCheck[] {
    // Each claim is checked when the run has the inits it speaks of (a "what if" may drop some).
    const s = run.summary;
    const { 'std=0.01': small, xavier, he, 'std=1': big } = s;
    const claims: ClaimCheck[] = [];
    if (small) {
      claims.push({
        id: 'std001-no-learning',
        text: `std=0.01 does not learn: every loss of the last ${config.tail} iterations stays above ${FLAT_FLOOR} (ln 10 = ${LN10.toFixed(3)})`,
        verdict: verdictOf(small.tailMin !== null && small.tailMin > FLAT_FLOOR),
        numbers: { tailMin: small.tailMin, finalLoss: small.finalLoss, ln10: LN10, testAccuracy: small.testAccuracy },
      });
    }
    if (he && xavier) {
      const d = lossDifference('lower', run.series.loss.he, run.series.loss.xavier, config.tail);
      claims.push(
        comparing(
          {
            id: 'he-below-xavier',
            text: `He ends with a lower loss than Xavier (mean of the last ${config.tail} iterations; SGD lr ${config.lr}; paired test over the shared batches)`,
            verdict: d.verdict,
            ...(d.reason ? { reason: d.reason } : {}),
            numbers: { he: he.finalLoss, xavier: xavier.finalLoss, test: d.test },
          },
          { he: { loss: he.finalLoss }, xavier: { loss: xavier.finalLoss } },
        ),
        {
          id: 'he-xavier-learn',
          text: `He and Xavier both learn: final loss (mean of the last ${config.tail} iterations) below ${config.learnedBelow}`,
          verdict: verdictOf([he, xavier].every((r) => r.finalLoss !== null && r.finalLoss < config.learnedBelow)),
          numbers: { he: he.finalLoss, xavier: xavier.finalLoss, heTestAccuracy: he.testAccuracy, xavierTestAccuracy: xavier.testAccuracy },
        },
      );
    }
    if (big) {
      claims.push({
        id: 'std1-explodes',
        text: `std=1 explodes: its loss goes above 10 ln 10 = ${EXPLODE_ABOVE.toFixed(1)} or turns NaN/Inf (first such iteration recorded)`,
        verdict: verdictOf(big.explodedAt !== null),
        numbers: {
          explodedAt: big.explodedAt,
          divergedAt: big.divergedAt,
          initialLoss: big.initialLoss,
          maxLoss: big.maxLoss,
          finalLoss: big.finalLoss,
          testAccuracy: big.testAccuracy,
        },
      });
    }
    return claims;
  },
  // CI's guard (src/regression.ts): each init's final loss (when it has one) and test accuracy.
  keyNumbers: (run) => finalLossAndTestAccuracy(run.summary),
  ...lossStudyViews({
    title: 'S4 Weight init on MNIST: training loss',
    caption: 'Training loss per iteration (smoothed), one curve per weight init; y from 0 to 2.5 as in the lecture.',
    yMax: 2.5,
    labels: LABELS,
  }),
});
