/**
 * S2 optimizers-mnist: the 5-layer ReLU/He net trained on MNIST by six update rules, every
 * one on the same minibatch each iteration; the loss on that batch after each update.
 */
import { Mlp } from '../src/nn/mlp.js';
import { makeOptimizer, type OptimizerName } from '../src/optim/optimizers.js';
import { Rng } from '../src/rng.js';
import { defineStudy, type ClaimCheck, type StudyRun } from '../src/study.js';
import { disposeBatch, toBatch } from '../src/train/batches.js';
import { evaluateAccuracy, meanLoss, trainIterations, type Divergence, type Trainee } from '../src/train/loop.js';
import { IMAGE_SIZE, firstRows } from '../src/data/mnist.js';

export interface OptimizersMnistConfig {
  trainSize: number;
  hidden: number[];
  batchSize: number;
  iterations: number;
  lr: Partial<Record<OptimizerName, number>>;
  /** Iterations at the end whose mean loss is "the final loss". */
  tail: number;
}

const lecture: OptimizersMnistConfig = {
  trainSize: 60000,
  hidden: [100, 100, 100, 100],
  batchSize: 128,
  iterations: 2000,
  // SGD 0.01, Momentum 0.01, AdaGrad 0.01, Adam 0.001 are the lecture's; Nesterov and RMSprop are its extra rows.
  lr: { sgd: 0.01, momentum: 0.01, adagrad: 0.01, adam: 0.001, nesterov: 0.01, rmsprop: 0.01 },
  tail: 100,
};

const quick: OptimizersMnistConfig = { ...lecture, trainSize: 10000, iterations: 300, tail: 50 };

export const optimizersMnist = defineStudy<OptimizersMnistConfig>({
  name: 'optimizers-mnist',
  id: 'S2',
  title: 'Update rules compared on MNIST',
  description: '5-layer ReLU/He net, batch 128, 2000 iterations, six optimizers on the same batches; loss per iteration',
  needsMnist: true,
  profiles: { lecture, quick },
  run(config, ctx): StudyRun {
    const mnist = ctx.mnist();
    const train = firstRows(mnist.train, config.trainSize);
    const sizes = [IMAGE_SIZE, ...config.hidden, 10];
    const trainees: Trainee[] = (Object.entries(config.lr) as [OptimizerName, number][]).map(([name, lr]) => ({
      name,
      net: new Mlp({ sizes, activation: 'relu', init: 'he' }, Rng.stream(ctx.seed, `init:${name}`)),
      optimizer: makeOptimizer(name, lr),
    }));
    const progress = ctx.progress('training', config.iterations);
    const run = trainIterations({
      trainees,
      train,
      batchSize: config.batchSize,
      iterations: config.iterations,
      rng: Rng.stream(ctx.seed, 'batches'),
      onIteration: () => progress.tick(),
    });
    progress.done();
    const test = toBatch(mnist.test);
    const summary: Record<string, unknown> = { msPerStep: run.msPerStep };
    for (const t of trainees) {
      const losses = run.loss[t.name]!;
      summary[t.name] = {
        finalLoss: meanLoss(losses.slice(-config.tail)),
        testAccuracy: evaluateAccuracy(t.net, test),
        diverged: run.divergedAt[t.name] !== null,
      };
      t.net.dispose();
      t.optimizer.dispose();
    }
    disposeBatch(test);
    return { series: { loss: run.loss, divergedAt: run.divergedAt as Record<string, Divergence | null> }, summary };
  },
  claims(run, config): ClaimCheck[] {
    const s = run.summary as Record<string, { finalLoss: number | null; testAccuracy: number }>;
    const names = Object.keys(config.lr);
    const final = Object.fromEntries(names.map((n) => [n, s[n]!.finalLoss]));
    const sgd = final.sgd ?? Infinity;
    const highest = names.every((n) => n === 'sgd' || (final[n] ?? Infinity) < sgd);
    const lecturesFour = ['momentum', 'adagrad', 'adam'];
    return [
      {
        id: 'sgd-slowest',
        text: `SGD ends with the highest loss (mean of the last ${config.tail} iterations) of all ${names.length} optimizers`,
        holds: highest,
        numbers: { finalLoss: final },
      },
      {
        id: 'adaptive-below-half-sgd',
        text: 'Momentum, AdaGrad and Adam each end below half of SGD\'s final loss',
        holds: lecturesFour.every((n) => final[n] !== null && final[n]! < sgd / 2),
        numbers: { halfSgd: sgd / 2, momentum: final.momentum, adagrad: final.adagrad, adam: final.adam },
      },
    ];
  },
});
