/**
 * The lecture's two training loops, shared by every study.
 *
 * Both draw one minibatch per iteration, with replacement, and train every network in the
 * list on that same batch (so optimizers, inits or BN/no-BN compare on identical data).
 * A network whose loss turns NaN or infinite is recorded as diverged at that iteration and
 * trains no further; the others go on.
 *
 * A network may carry a learning-rate schedule (`lrAt`, see src/optim/schedules.ts): before
 * each of its updates the loop sets its optimizer's rate to lrAt(iteration), and both loops
 * record the rate every update used.
 */
import * as tf from '@tensorflow/tfjs';
import type { MnistSplit } from '../data/mnist.js';
import type { Mlp } from '../nn/mlp.js';
import type { Optimizer } from '../optim/optimizers.js';
import type { Rng } from '../rng.js';
import { accuracyOf, disposeBatch, sampleBatch, type Batch } from './batches.js';

export interface Trainee {
  name: string;
  net: Mlp;
  optimizer: Optimizer;
  /** The rate of iteration i (0-based), e.g. scheduleFn(...); absent: the optimizer's rate throughout. */
  lrAt?: (iteration: number) => number;
}

/**
 * Iteration i of one trainee in a loop: once it has diverged, null for its rate (and the
 * caller records null for its loss); else its rate for i (from its schedule, when it has one)
 * is set, recorded, and the update made. Returns the loss before the update, or null.
 */
function scheduledStep(t: Trainee, batch: Batch, i: number, diverged: boolean, lr: Record<string, (number | null)[]>): number | null {
  if (diverged) {
    lr[t.name]!.push(null);
    return null;
  }
  if (t.lrAt) t.optimizer.lr = t.lrAt(i);
  lr[t.name]!.push(t.optimizer.lr);
  return trainStep(t, batch);
}

export interface Divergence {
  iteration: number;
  /** Epoch index (0-based, counting evaluations) during which it happened; iteration loops leave it null. */
  epoch: number | null;
  loss: number | null;
}

/** One update of one network; returns the loss before the update. */
export function trainStep(t: Trainee, batch: Batch): number {
  const { loss, grads } = t.net.gradients(batch.x, batch.y, batch.xT);
  if (Number.isFinite(loss)) t.optimizer.update(t.net.params(), grads);
  tf.dispose(grads);
  return loss;
}

/**
 * Mean of a recorded loss series (e.g. its last 100 iterations), or null when any entry is
 * missing or not finite: a network that diverged has no final loss.
 */
export function meanLoss(xs: (number | null)[]): number | null {
  const finite = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  return finite.length === xs.length && finite.length > 0 ? finite.reduce((a, b) => a + b, 0) / finite.length : null;
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

export interface IterationLoopOptions {
  trainees: Trainee[];
  train: MnistSplit;
  batchSize: number;
  iterations: number;
  rng: Rng;
  /** Called after every iteration (progress display), with each network's loss on that batch (diverged ones left out). */
  onIteration?: (i: number, latestLoss: Record<string, number>) => void;
}

export interface IterationLoopResult {
  /** Per network: the loss on the iteration's batch after its update (null once diverged). */
  loss: Record<string, (number | null)[]>;
  /** Per network: the learning rate of each iteration's update (null once diverged). */
  lr: Record<string, (number | null)[]>;
  divergedAt: Record<string, Divergence | null>;
  /** Wall time per iteration per network (ms). */
  msPerStep: number;
  /** Per network: mean wall time of its training steps alone (forward, backward, update; ms), its loss evaluation left out. */
  msPerStepOf: Record<string, number>;
}

/**
 * The iteration loop: `iterations` updates; after each, the loss on that same batch is recorded
 * (evaluation mode, as the lecture's `network.loss(x_batch, t_batch)` after the update).
 */
export function trainIterations(o: IterationLoopOptions): IterationLoopResult {
  const loss: Record<string, (number | null)[]> = {};
  const lr: Record<string, (number | null)[]> = {};
  const divergedAt: Record<string, Divergence | null> = {};
  const stepMs: Record<string, number> = {};
  const steps: Record<string, number> = {};
  for (const t of o.trainees) {
    loss[t.name] = [];
    lr[t.name] = [];
    divergedAt[t.name] = null;
    stepMs[t.name] = 0;
    steps[t.name] = 0;
  }
  const start = performance.now();
  for (let i = 0; i < o.iterations; i++) {
    const batch = sampleBatch(o.train, o.batchSize, o.rng);
    for (const t of o.trainees) {
      const t0 = performance.now();
      const before = scheduledStep(t, batch, i, divergedAt[t.name] !== null, lr);
      if (before === null) {
        loss[t.name]!.push(null);
        continue;
      }
      stepMs[t.name]! += performance.now() - t0;
      steps[t.name]!++;
      const after = Number.isFinite(before) ? t.net.lossValue(batch.x, batch.y) : before;
      if (!Number.isFinite(after)) divergedAt[t.name] = { iteration: i, epoch: null, loss: finiteOrNull(after) };
      loss[t.name]!.push(finiteOrNull(after));
    }
    disposeBatch(batch);
    if (o.onIteration) {
      const latest: Record<string, number> = {};
      for (const t of o.trainees) if (loss[t.name]![i] != null) latest[t.name] = loss[t.name]![i]!;
      o.onIteration(i, latest);
    }
  }
  const msPerStep = (performance.now() - start) / Math.max(1, o.iterations * o.trainees.length);
  const msPerStepOf = Object.fromEntries(o.trainees.map((t) => [t.name, stepMs[t.name]! / Math.max(1, steps[t.name]!)]));
  return { loss, lr, divergedAt, msPerStep, msPerStepOf };
}

export interface EpochLoopOptions {
  trainees: Trainee[];
  train: MnistSplit;
  batchSize: number;
  epochs: number;
  rng: Rng;
  /** Named evaluation sets (e.g. train, test, val), each held as tensors for the whole run. */
  evalSets: Record<string, Batch>;
  /**
   * Iterations per epoch (a whole number) in place of the lecture's max(trainSize / batchSize, 1),
   * which evaluates only at whole multiples when it is fractional (10,000 / 128 = 78.125).
   */
  iterationsPerEpoch?: number;
  /** Called after each epoch's evaluation (e.g. to take a checkpoint). */
  onEpoch?: (epoch: number) => void;
  /** Called after every iteration's updates, before any evaluation (e.g. to update a parameter average). */
  onIteration?: (iteration: number) => void;
}

export interface EpochLoopResult {
  /** Per network, per evaluation set: accuracy at each epoch (evaluation mode). */
  accuracy: Record<string, Record<string, number[]>>;
  divergedAt: Record<string, Divergence | null>;
  /** Per network: the training-mode loss of each iteration's batch before its update (null once diverged). */
  loss: Record<string, (number | null)[]>;
  /** Per network: the learning rate of each iteration's update (null once diverged). */
  lr: Record<string, (number | null)[]>;
  iterationsPerEpoch: number;
  msPerStep: number;
  /** Total wall time spent evaluating (ms) and the number of evaluation passes. */
  evalMs: number;
  evalPasses: number;
}

/**
 * Whole iterations per epoch, ceil(trainSize / batchSize): each epoch draws at least trainSize
 * images. For `iterationsPerEpoch` when the lecture's trainSize / batchSize is fractional.
 */
export function wholeIterationsPerEpoch(trainSize: number, batchSize: number): number {
  return Math.max(1, Math.ceil(trainSize / batchSize));
}

/** Accuracy of a network on a set: one batched forward pass in evaluation mode, no tape. */
export function evaluateAccuracy(net: Mlp, set: Batch): number {
  return accuracyOf(net.predict(set.x), set.labels);
}

/**
 * The lecture's epoch loop. An epoch is max(trainSize / batchSize, 1) iterations;
 * after the update of every iteration i with i % iterationsPerEpoch == 0 each network is
 * evaluated, so E epochs give E points (the first after one update), as the lecture's
 * `if i % iter_per_epoch == 0` loop does.
 */
export function trainEpochs(o: EpochLoopOptions): EpochLoopResult {
  if (o.iterationsPerEpoch !== undefined && !(Number.isInteger(o.iterationsPerEpoch) && o.iterationsPerEpoch >= 1)) {
    throw new Error(`iterationsPerEpoch must be a whole number >= 1, got ${o.iterationsPerEpoch}`);
  }
  const iterationsPerEpoch = o.iterationsPerEpoch ?? Math.max(o.train.count / o.batchSize, 1);
  const accuracy: EpochLoopResult['accuracy'] = {};
  const divergedAt: Record<string, Divergence | null> = {};
  const loss: Record<string, (number | null)[]> = {};
  const lr: Record<string, (number | null)[]> = {};
  for (const t of o.trainees) {
    accuracy[t.name] = Object.fromEntries(Object.keys(o.evalSets).map((k) => [k, [] as number[]]));
    divergedAt[t.name] = null;
    loss[t.name] = [];
    lr[t.name] = [];
  }
  let epoch = 0;
  let steps = 0;
  let stepMs = 0;
  let evalMs = 0;
  let evalPasses = 0;
  for (let i = 0; epoch < o.epochs; i++) {
    const batch = sampleBatch(o.train, o.batchSize, o.rng);
    const t0 = performance.now();
    for (const t of o.trainees) {
      const before = scheduledStep(t, batch, i, divergedAt[t.name] !== null, lr);
      loss[t.name]!.push(before === null ? null : finiteOrNull(before));
      if (before === null) continue;
      steps++;
      if (!Number.isFinite(before)) divergedAt[t.name] = { iteration: i, epoch, loss: finiteOrNull(before) };
    }
    stepMs += performance.now() - t0;
    disposeBatch(batch);
    o.onIteration?.(i);
    if (i % iterationsPerEpoch === 0) {
      const e0 = performance.now();
      for (const t of o.trainees) {
        for (const [setName, set] of Object.entries(o.evalSets)) {
          accuracy[t.name]![setName]!.push(evaluateAccuracy(t.net, set));
          evalPasses++;
        }
      }
      evalMs += performance.now() - e0;
      o.onEpoch?.(epoch);
      epoch++;
    }
  }
  return { accuracy, divergedAt, loss, lr, iterationsPerEpoch, msPerStep: stepMs / Math.max(1, steps), evalMs, evalPasses };
}
