/**
 * The comparison of nets side by side (the studies in the iteration setting): several networks trained
 * for a number of iterations on the same minibatches, a progress bar over the iterations, then
 * each network's test accuracy. The networks and their optimizers are freed at the end.
 */
import type { MnistSplit } from '../data/mnist.js';
import { disposeTrainees } from '../nn/mnist-net.js';
import { Rng } from '../rng.js';
import type { StudyContext } from '../study.js';
import { disposeBatch, toBatch } from './batches.js';
import { evaluateAccuracy, trainIterations, type IterationLoopResult, type Trainee } from './loop.js';

export interface SameBatchesOptions {
  train: MnistSplit;
  test: MnistSplit;
  batchSize: number;
  iterations: number;
}

export function trainOnSameBatches(trainees: Trainee[], o: SameBatchesOptions, ctx: StudyContext): IterationLoopResult & { testAccuracy: Record<string, number> } {
  const progress = ctx.progress('training', o.iterations);
  const run = trainIterations({
    trainees,
    train: o.train,
    batchSize: o.batchSize,
    iterations: o.iterations,
    rng: Rng.stream(ctx.seed, 'batches'),
    // The latest losses go out with the count: a live view can draw them as they come.
    onIteration: (_i, latestLoss) => progress.tick(1, latestLoss),
  });
  progress.done();
  const test = toBatch(o.test);
  const testAccuracy = Object.fromEntries(trainees.map((t) => [t.name, evaluateAccuracy(t.net, test)]));
  disposeBatch(test);
  disposeTrainees(trainees);
  return { ...run, testAccuracy };
}
