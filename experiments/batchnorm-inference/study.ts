/**
 * S15 batchnorm-inference: batch norm at test time. A test example may come alone, so a
 * network with batch norm cannot normalise it by its own batch: it needs a mean and variance
 * for each unit from training. The lecture's answer is running (exponentially weighted)
 * averages of the training batches' statistics; this study measures them against the exact
 * population statistics of the training set and against normalising by the test batch itself.
 *
 * One training run of the 5-layer ReLU/He net with batch norm (SGD, same seed streams as the
 * suite's other MNIST studies). After `early` iterations and at the end, the 10,000 test images
 * are classified with batch norm using:
 * - the running averages (momentum 0.9, the suite's: what evaluation always uses);
 * - the population statistics: exact mean and variance of each BN layer's input over every
 *   training image, layer by layer in evaluation mode (src/nn/batchnorm-eval.ts);
 * - the running averages of other momenta (0.5, 0.99). They are tracked beside the net's own
 *   from the same training run: every training step hands each BN layer's batch statistics to
 *   the tracker, which averages them with each momentum (training never reads them, so the run
 *   is the one a net without the tracker makes). Momentum 0.9 is tracked too and checked, bit
 *   for bit, against the net's own running statistics (`trackedMatchesSuite`);
 * - the test batch's own statistics: the test set (in one seeded random order) split into
 *   batches of 10,000, 100, 10 and 1 images, each normalised by itself.
 *
 * What the running averages are here (src/nn/mlp.ts): both start at 0 and each step does
 * running = m*running + (1-m)*batch_stat, the variance being the batch's biased variance (divided
 * by the batch size, 100). After k steps the weights on the batch statistics add up to 1 - m^k,
 * and the rest still sits on the zero start: with m = 0.99 after 100 steps that is 1 - 0.99^100 =
 * 0.634, so the mean is pulled about a third of the way to 0 and the variance too (the std to
 * about 0.8 of its value), on top of the ordinary delay of an average over about 1/(1-m) = 100
 * steps of a network that is still changing fast. With m = 0.9, 0.9^100 = 3e-5: the zero start is
 * gone. The biased variance underestimates the variance by the factor 99/100 on average, which
 * every running average carries (the population statistics do not).
 */
import { z } from 'zod';
import { count, hiddenLayers, positive, testImages, trainImages } from '../../src/config.js';
import { firstRows, gatherRows, type MnistSplit } from '../../src/data/mnist.js';
import { comparing, LEARNED_ACCURACY_ABOVE, verdictOf } from '../../src/claims.js';
import { judgeDifference } from '../../src/difference.js';
import { populationStatistics, RunningAverages, runningTensors, sameBits, statisticsError, toMoments, withGiven, RUNNING, type BnEval, type BnMoments } from '../../src/nn/batchnorm-eval.js';
import { BN_EPS, BN_MOMENTUM, type Mlp } from '../../src/nn/mlp.js';
import { hiddenOf, mnistNet } from '../../src/nn/mnist-net.js';
import { Sgd } from '../../src/optim/optimizers.js';
import { lossCurves } from '../../src/plot/loss-curves.js';
import { ACCURACY_TOLERANCE } from '../../src/regression.js';
import { Rng } from '../../src/rng.js';
import { roundTo } from '../../src/stats.js';
import { defineStudy, type ClaimCheck, type KeyNumber } from '../../src/study.js';
import { accuracyOf, disposeBatch, majorityShare, toBatch, type Batch } from '../../src/train/batches.js';
import { trainIterations, type Divergence } from '../../src/train/loop.js';
import { batchnormInferenceFigures } from './figure.js';

export const BatchnormInferenceConfigSchema = z
  .strictObject({
    trainSize: trainImages,
    hidden: hiddenLayers,
    lr: positive,
    batchSize: count(1, 60_000),
    iterations: count(2),
    /** The early checkpoint ("after only 100 iterations"); the other is the end. */
    early: count(1),
    /** Momenta of the running averages tracked from the same run; must include 0.9, the suite's. */
    momenta: z.array(z.number().min(0).lt(1)).min(1),
    /** The first testSize test images are classified. */
    testSize: testImages,
    /** Test batch sizes for normalising by the test batch itself; each must divide testSize. */
    testBatchSizes: z.array(count(1, 10_000)).min(1),
  })
  .refine((c) => c.early < c.iterations, { message: 'early must be below iterations', path: ['early'] })
  .refine((c) => c.momenta.includes(BN_MOMENTUM), { message: `must include ${BN_MOMENTUM}, the suite's momentum (checked against the net's own)`, path: ['momenta'] })
  .refine((c) => new Set(c.momenta).size === c.momenta.length, { message: 'each momentum once', path: ['momenta'] })
  .refine((c) => new Set(c.testBatchSizes).size === c.testBatchSizes.length, { message: 'each batch size once', path: ['testBatchSizes'] })
  .refine((c) => c.testBatchSizes.every((b) => c.testSize % b === 0), { message: 'every test batch size must divide testSize', path: ['testBatchSizes'] });
export type BatchnormInferenceConfig = z.infer<typeof BatchnormInferenceConfigSchema>;

const lecture: BatchnormInferenceConfig = {
  trainSize: 60_000,
  hidden: hiddenOf(4),
  lr: 0.01,
  batchSize: 100,
  iterations: 2000,
  early: 100,
  momenta: [0.5, 0.9, 0.99],
  testSize: 10_000,
  testBatchSizes: [10_000, 100, 10, 1],
};

// Quick (CI): the first 10,000 training images (also for the population statistics), 300
// iterations, the first 5,000 test images (batches of 5,000, 100, 10, 1); the early checkpoint
// and the momenta as at lecture scale.
const quick: BatchnormInferenceConfig = { ...lecture, trainSize: 10_000, iterations: 300, testSize: 5000, testBatchSizes: [5000, 100, 10, 1] };

// Claim thresholds, all fixed before the first lecture-scale run.
/**
 * "Running averages come within a margin of the population statistics": test accuracies at most
 * 0.005 apart (50 of 10,000 images). That is about twice the binomial standard error of one
 * accuracy near 0.95 measured on 10,000 images (0.0022): a smaller gap is below what a second
 * test set of this size could even detect, so the estimate is as good as the exact statistics.
 */
const RUNNING_MARGIN = 0.005;
/**
 * "Degrades as the batch shrinks": going to the next smaller test batch, the accuracy never
 * rises by a real difference, and at the smallest batch above 1 (10) it is below the largest
 * batch's by a real difference: both under the suite's rule (src/difference.ts, on testSize
 * images).
 */
/**
 * "Collapses to chance at batch 1": accuracy at most 0.2, the suite's line for a net that did
 * not learn (src/claims.ts; twice the 0.1 of guessing). A batch of one has variance 0, so every
 * BN layer outputs its beta whatever the image: all images get the same logits, hence one class.
 */
const CHANCE = LEARNED_ACCURACY_ABOVE;
/**
 * "A momentum too close to 1 lags after few iterations": at the early checkpoint, the highest
 * momentum's averages (0.99) are at least twice as far from that moment's population statistics
 * as 0.9's (mean error, see statisticsError), so the lag dominates their error, and they cost
 * test accuracy against 0.9's: lower by a real difference under the suite's rule.
 */
const LAG_ERROR_FACTOR = 2;

/** What is measured at one checkpoint (test accuracies are k/testSize, exact). */
export interface Checkpoint {
  iteration: number;
  /** Population statistics of the training images. */
  population: number;
  /** The net's own running statistics (momentum 0.9): plain evaluation. */
  running: number;
  /** Per tracked momentum (key: the momentum as written, "0.99"). */
  momentum: Record<string, number>;
  /** Per test batch size (key: the size). */
  testBatch: Record<string, number>;
  /** How far each momentum's averages are from the population statistics. */
  statsError: Record<string, { mean: number; scale: number }>;
  /** The tracked momentum-0.9 averages equal the net's own running statistics, bit for bit. */
  trackedMatchesSuite: boolean;
  /** Distinct classes predicted with test batches of 1 (null when 1 is not among the sizes). */
  classesAtBatchOne: number | null;
}

export interface BatchnormInferenceSeries {
  /** Training loss per iteration (the batch's loss after the update, evaluation mode), key "bn". */
  loss: Record<string, (number | null)[]>;
  divergedAt: Record<string, Divergence | null>;
  checkpoints: Checkpoint[];
}

export interface BatchnormInferenceSummary {
  early: Checkpoint;
  final: Checkpoint;
  /** Share of the most frequent class among the test images: what predicting one class can score at best. */
  majorityClassShare: number;
}

export const momentumKey = (m: number): string => String(m);


/** Every evaluation of one checkpoint. */
function measure(net: Mlp, tracker: RunningAverages, train: MnistSplit, test: Batch, config: BatchnormInferenceConfig, iteration: number): Checkpoint {
  const population: BnMoments[] = populationStatistics(net, train);
  const predict = (bnEval: BnEval) => net.predict(test.x, bnEval);
  const accuracy = (bnEval: BnEval) => accuracyOf(predict(bnEval), test.labels);
  const running = accuracy(RUNNING);
  const trackedMatchesSuite = sameBits(tracker.tensors(BN_MOMENTUM), runningTensors(net));
  const momentum: Record<string, number> = {};
  const statsError: Record<string, { mean: number; scale: number }> = {};
  for (const m of config.momenta) {
    const stats = tracker.tensors(m);
    // The same statistics, bit for bit, give the same predictions: no second pass for the suite's momentum.
    momentum[momentumKey(m)] = m === BN_MOMENTUM && trackedMatchesSuite ? running : accuracy({ kind: 'given', stats });
    const err = statisticsError(toMoments(stats), population, BN_EPS);
    statsError[momentumKey(m)] = { mean: roundTo(err.mean, 6), scale: roundTo(err.scale, 6) };
  }
  const testBatch: Record<string, number> = {};
  let classesAtBatchOne: number | null = null;
  for (const b of config.testBatchSizes) {
    const predicted = predict({ kind: 'batch', groupSize: b });
    testBatch[String(b)] = accuracyOf(predicted, test.labels);
    if (b === 1) classesAtBatchOne = new Set(predicted).size;
  }
  return {
    iteration,
    population: withGiven(population, accuracy),
    running,
    momentum,
    testBatch,
    statsError,
    trackedMatchesSuite,
    classesAtBatchOne,
  };
}

/** The test batch sizes from largest to smallest. */
const descending = (sizes: readonly number[]): number[] => [...sizes].sort((a, b) => b - a);

export const batchnormInference = defineStudy<BatchnormInferenceConfig, BatchnormInferenceSeries, BatchnormInferenceSummary>({
  name: 'batchnorm-inference',
  id: 'S15',
  title: 'Batch norm at test time: running averages, population and test-batch statistics',
  description: '5-layer BN net, 60,000 images, batch 100, SGD 0.01, 2000 iterations; test accuracy with running averages (momentum 0.5/0.9/0.99), population statistics, test batches of 10,000..1',
  needsMnist: true,
  configSchema: BatchnormInferenceConfigSchema,
  profiles: { lecture, quick },
  run(config, ctx) {
    const mnist = ctx.mnist();
    const train = firstRows(mnist.train, config.trainSize);
    // One seeded order of the test images, so each test batch is a random sample of them.
    const testSplit = firstRows(mnist.test, config.testSize);
    const test = toBatch(gatherRows(testSplit, Rng.stream(ctx.seed, 'test-order').permutation(config.testSize)));
    const net = mnistNet(config.hidden, { activation: 'relu', init: 'he', batchNorm: true }, Rng.stream(ctx.seed, 'init'));
    const optimizer = new Sgd(config.lr);
    const tracker = new RunningAverages(config.momenta, config.hidden);
    tracker.attach(net);
    const checkpoints: Checkpoint[] = [];
    const measureMs: number[] = [];
    const checkpoint = (iteration: number) => {
      const t0 = performance.now();
      const c = measure(net, tracker, train, test, config, iteration);
      measureMs.push(performance.now() - t0);
      checkpoints.push(c);
      ctx.log(`after ${iteration} iterations: population ${c.population.toFixed(4)}, running ${c.running.toFixed(4)}, test batch ${config.testBatchSizes.map((b) => `${b}: ${c.testBatch[String(b)]!.toFixed(4)}`).join(', ')}`);
    };
    const progress = ctx.progress('training', config.iterations);
    let run;
    try {
      run = trainIterations({
        trainees: [{ name: 'bn', net, optimizer }],
        train,
        batchSize: config.batchSize,
        iterations: config.iterations,
        rng: Rng.stream(ctx.seed, 'batches'),
        onIteration: (i) => {
          progress.tick();
          if (i + 1 === config.early) checkpoint(config.early);
        },
      });
      progress.done();
      checkpoint(config.iterations);
    } finally {
      net.onBatchStatistics = null;
      tracker.dispose();
      net.dispose();
      optimizer.dispose();
      disposeBatch(test);
    }
    const steps = config.iterations;
    const earlyMs = measureMs[0]!;
    return {
      series: { loss: run.loss, divergedAt: run.divergedAt, checkpoints },
      summary: { early: checkpoints[0]!, final: checkpoints[1]!, majorityClassShare: majorityShare(test.labels) },
      // trainIterations' time per step includes the early checkpoint's evaluations: taken out here.
      timings: { msPerStep: roundTo((run.msPerStep * steps - earlyMs) / steps, 4), msPerCheckpoint: roundTo((earlyMs + measureMs[1]!) / 2, 1) },
    };
  },
  // CI's guard (src/regression.ts): every test accuracy of both checkpoints, +-0.05.
  keyNumbers(run, config): Record<string, KeyNumber> {
    const out: Record<string, KeyNumber> = {};
    for (const [name, c] of [['early', run.summary.early], ['final', run.summary.final]] as const) {
      const add = (method: string, value: number) => (out[`${name}.${method}.testAccuracy`] = { value, tolerance: ACCURACY_TOLERANCE });
      add('population', c.population);
      add('running', c.running);
      for (const m of config.momenta) add(`momentum ${momentumKey(m)}`, c.momentum[momentumKey(m)]!);
      for (const b of config.testBatchSizes) add(`testBatch ${b}`, c.testBatch[String(b)]!);
    }
    return out;
  },
  figures: batchnormInferenceFigures,
  curves: (run, config) => [
    ...lossCurves(run.series),
    {
      panel: 'test accuracy by test batch size',
      x: 'test batch size',
      y: 'test accuracy',
      yDomain: [0, 1],
      lines: run.series.checkpoints.map((c) => ({ name: `after ${c.iteration} iterations`, x: config.testBatchSizes, y: config.testBatchSizes.map((b) => c.testBatch[String(b)]!) })),
    },
    {
      panel: 'test accuracy by method',
      x: 'method',
      y: 'test accuracy',
      yDomain: [0, 1],
      lines: run.series.checkpoints.map((c) => ({ name: `after ${c.iteration} iterations`, y: [c.population, ...config.momenta.map((m) => c.momentum[momentumKey(m)]!), ...config.testBatchSizes.map((b) => c.testBatch[String(b)]!)] })),
    },
  ],
  claims(run, config): ClaimCheck[] {
    const { early, final } = run.summary;
    const claims: ClaimCheck[] = [];
    const suite = momentumKey(BN_MOMENTUM);
    claims.push(
      comparing(
        {
          id: 'running-near-population',
          text: `After ${final.iteration} iterations, the running averages (momentum ${BN_MOMENTUM}) give a test accuracy within ${RUNNING_MARGIN} of the population statistics of the ${config.trainSize.toLocaleString('en-US')} training images`,
          verdict: verdictOf(Math.abs(final.running - final.population) <= RUNNING_MARGIN),
          numbers: { running: final.running, population: final.population, difference: roundTo(final.running - final.population, 6), margin: RUNNING_MARGIN, trackedMatchesSuite: final.trackedMatchesSuite },
        },
        { running: { accuracy: final.running }, population: { accuracy: final.population } },
      ),
    );
    const sizes = descending(config.testBatchSizes).filter((b) => b > 1);
    if (sizes.length >= 2) {
      const acc = (b: number) => final.testBatch[String(b)]!;
      const rises = sizes.slice(1).map((b, i) => roundTo(acc(b) - acc(sizes[i]!), 6));
      const largest = sizes[0]!;
      const smallest = sizes[sizes.length - 1]!;
      const drop = roundTo(acc(largest) - acc(smallest), 6);
      const n = config.testSize;
      const noRealRise = sizes.slice(1).every((b, i) => judgeDifference('notHigher', { kind: 'accuracy', n, a: acc(b), b: acc(sizes[i]!) }).verdict === 'holds');
      const realDrop = judgeDifference('lower', { kind: 'accuracy', n, a: acc(smallest), b: acc(largest) });
      claims.push(
        comparing(
          {
            id: 'test-batch-degrades',
            text: `Normalising by the test batch itself degrades as the batch shrinks (${sizes.join(' -> ')}): no step to a smaller batch gains by a real difference, and batch ${smallest} is below batch ${largest} by a real difference`,
            ...(noRealRise ? { verdict: realDrop.verdict, ...(realDrop.reason ? { reason: realDrop.reason } : {}) } : { verdict: 'FAILS' as const, reason: 'a smaller test batch gains by a real difference' }),
            numbers: { accuracy: Object.fromEntries(sizes.map((b) => [`batch ${b}`, acc(b)])), changeAtEachStep: rises, drop, test: realDrop.difference.test },
          },
          { [`batch ${largest}`]: { accuracy: acc(largest) } },
        ),
      );
    }
    if (config.testBatchSizes.includes(1)) {
      claims.push({
        id: 'batch-one-chance',
        text: `With test batches of 1 image the accuracy collapses to chance (at most ${CHANCE}): a single image's variance is 0, so every BN layer outputs its beta`,
        verdict: verdictOf(final.testBatch['1']! <= CHANCE),
        numbers: { accuracy: final.testBatch['1']!, chanceLine: CHANCE, classesPredicted: final.classesAtBatchOne, majorityClassShare: run.summary.majorityClassShare },
      });
    }
    const high = Math.max(...config.momenta);
    if (high > BN_MOMENTUM) {
      const key = momentumKey(high);
      const errHigh = early.statsError[key]!.mean;
      const errSuite = early.statsError[suite]!.mean;
      const accHigh = early.momentum[key]!;
      const accSuite = early.momentum[suite]!;
      const lagAcc = judgeDifference('lower', { kind: 'accuracy', n: config.testSize, a: accHigh, b: accSuite });
      claims.push(
        comparing(
          {
            id: 'high-momentum-lags',
            text: `After only ${early.iteration} iterations momentum ${high} lags: its running means are at least ${LAG_ERROR_FACTOR}x as far from the population statistics as momentum ${BN_MOMENTUM}'s, and its test accuracy is lower (a real difference)`,
            ...(errHigh >= LAG_ERROR_FACTOR * errSuite ? { verdict: lagAcc.verdict, ...(lagAcc.reason ? { reason: lagAcc.reason } : {}) } : { verdict: 'FAILS' as const }),
            numbers: {
              test: lagAcc.difference.test,
              meanError: { [key]: errHigh, [suite]: errSuite },
              scaleError: { [key]: early.statsError[key]!.scale, [suite]: early.statsError[suite]!.scale },
              accuracy: { [key]: accHigh, [suite]: accSuite, population: early.population },
              atTheEnd: { iteration: final.iteration, accuracy: { [key]: final.momentum[key]!, [suite]: final.momentum[suite]!, population: final.population }, meanError: { [key]: final.statsError[key]!.mean, [suite]: final.statsError[suite]!.mean } },
            },
          },
          { [`population after ${early.iteration}`]: { accuracy: early.population }, [`momentum ${BN_MOMENTUM}`]: { accuracy: accSuite } },
        ),
      );
    }
    return claims;
  },
});
