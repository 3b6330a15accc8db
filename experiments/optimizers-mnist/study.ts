/**
 * S2 optimizers-mnist: the 5-layer ReLU/He net trained on MNIST by six update rules, every
 * one on the same minibatch each iteration; the loss on that batch after each update.
 */
import { z } from 'zod';
import { count, hiddenLayers, ratePerOptimizer, trainImages } from '../../src/config.js';
import { firstRows } from '../../src/data/mnist.js';
import { hiddenOf, mnistNet } from '../../src/nn/mnist-net.js';
import { makeOptimizer, type OptimizerName } from '../../src/optim/optimizers.js';
import { lossStudyViews, type LossSeries } from '../../src/plot/loss-curves.js';
import { allOf, comparing, lossDifference } from '../../src/claims.js';
import { listText } from '../../src/format.js';
import { finalLossAndTestAccuracy } from '../../src/regression.js';
import { Rng } from '../../src/rng.js';
import { defineStudy, type ClaimCheck } from '../../src/study.js';
import { meanLoss, type Trainee } from '../../src/train/loop.js';
import { trainOnSameBatches } from '../../src/train/same-batches.js';

export const OptimizersMnistConfigSchema = z
  .strictObject({
    trainSize: trainImages,
    hidden: hiddenLayers,
    batchSize: count(1, 60_000),
    iterations: count(1),
    /** A learning rate per update rule; the rules listed are the ones that run. */
    lr: ratePerOptimizer,
    /** Iterations at the end whose mean loss is "the final loss". */
    tail: count(1),
  })
  .refine((c) => c.tail <= c.iterations, { message: 'tail must not exceed iterations', path: ['tail'] })
  .refine((c) => 'sgd' in c.lr, { message: 'must include sgd: the claims compare every rule with it', path: ['lr'] });
export type OptimizersMnistConfig = z.infer<typeof OptimizersMnistConfigSchema>;

const lecture: OptimizersMnistConfig = {
  trainSize: 60000,
  hidden: hiddenOf(4),
  batchSize: 128,
  iterations: 2000,
  // SGD 0.01, Momentum 0.01, AdaGrad 0.01, Adam 0.001 are the lecture's; Nesterov and RMSprop are its extra rows.
  lr: { sgd: 0.01, momentum: 0.01, adagrad: 0.01, adam: 0.001, nesterov: 0.01, rmsprop: 0.01 },
  tail: 100,
};

const quick: OptimizersMnistConfig = { ...lecture, trainSize: 10000, iterations: 300, tail: 50 };

export interface OptimizerRow {
  finalLoss: number | null;
  testAccuracy: number;
  diverged: boolean;
}

export type OptimizersMnistSummary = Record<string, OptimizerRow>;

/** Legend labels: the lecture's four in its legend order, then the two extra rows. */
const LABELS = { sgd: 'SGD', momentum: 'Momentum', adagrad: 'AdaGrad', adam: 'Adam', nesterov: 'Nesterov', rmsprop: 'RMSprop' };

export const optimizersMnist = defineStudy<OptimizersMnistConfig, LossSeries, OptimizersMnistSummary>({
  name: 'optimizers-mnist',
  id: 'S2',
  title: 'Update rules compared on MNIST',
  description: '5-layer ReLU/He net, batch 128, 2000 iterations, six optimizers on the same batches; loss per iteration',
  needsMnist: true,
  configSchema: OptimizersMnistConfigSchema,
  profiles: { lecture, quick },
  run(config, ctx) {
    const mnist = ctx.mnist();
    const train = firstRows(mnist.train, config.trainSize);
    const trainees: Trainee[] = (Object.entries(config.lr) as [OptimizerName, number][]).map(([name, lr]) => ({
      name,
      net: mnistNet(config.hidden, { activation: 'relu', init: 'he' }, Rng.stream(ctx.seed, `init:${name}`)),
      optimizer: makeOptimizer(name, lr),
    }));
    const run = trainOnSameBatches(trainees, { train, test: mnist.test, batchSize: config.batchSize, iterations: config.iterations }, ctx);
    const summary: OptimizersMnistSummary = {};
    for (const t of trainees) {
      summary[t.name] = {
        finalLoss: meanLoss(run.loss[t.name]!.slice(-config.tail)),
        testAccuracy: run.testAccuracy[t.name]!,
        diverged: run.divergedAt[t.name] !== null,
      };
    }
    return { series: { loss: run.loss, divergedAt: run.divergedAt }, summary, timings: { msPerStep: run.msPerStep } };
  },
  claims(run, config): ClaimCheck[] {
    const s = run.summary;
    const names = Object.keys(config.lr);
    const final = Object.fromEntries(names.map((n) => [n, s[n]!.finalLoss]));
    const adaptive = ['momentum', 'adagrad', 'adam'].filter((n) => n in config.lr);
    const learned = (ns: string[]) => Object.fromEntries(ns.map((n) => [n, { loss: final[n] ?? null }]));
    const named = adaptive.map((n) => LABELS[n as keyof typeof LABELS]);
    const loss = run.series.loss;
    // SGD against each other rule, on the losses of the last `tail` shared batches.
    const others = names.filter((n) => n !== 'sgd');
    const slowest = allOf(Object.fromEntries(others.map((n) => [n, lossDifference('higher', loss.sgd, loss[n], config.tail)])));
    const faster = allOf(Object.fromEntries(adaptive.map((n) => [n, lossDifference('lower', loss[n], loss.sgd, config.tail)])));
    const claims = [
      // "Slowest" is a prediction about SGD: the nets it is compared with must have learned; SGD need not.
      comparing(
        {
          id: 'sgd-slowest',
          text: `SGD (lr ${config.lr.sgd}) ends with the highest loss (mean of the last ${config.tail} iterations) of all ${names.length} optimizers, each difference real (paired test over the last ${config.tail} shared batches)`,
          verdict: slowest.verdict,
          ...(slowest.reason ? { reason: slowest.reason } : {}),
          numbers: { finalLoss: final, tests: slowest.tests },
        },
        learned(others),
      ),
    ];
    if (adaptive.length > 0) {
      claims.push(
        comparing(
          {
            id: 'adaptive-faster-than-sgd',
            text: `${listText(named)} each end with a lower loss than SGD (mean of the last ${config.tail} iterations; paired test over the shared batches)`,
            verdict: faster.verdict,
            ...(faster.reason ? { reason: faster.reason } : {}),
            numbers: { sgd: final.sgd ?? null, ...Object.fromEntries(adaptive.map((n) => [n, final[n]])), tests: faster.tests },
          },
          learned(adaptive),
        ),
      );
    }
    return claims;
  },
  // CI's guard (src/regression.ts): each optimizer's final loss and test accuracy.
  keyNumbers: (run) => finalLossAndTestAccuracy(run.summary),
  ...lossStudyViews({
    title: 'S2 Update rules on MNIST: training loss',
    caption: 'Training loss per iteration (smoothed), one curve per update rule; y from 0 to 1 as in the lecture.',
    yMax: 1,
    labels: LABELS,
  }),
});
