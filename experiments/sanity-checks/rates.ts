/**
 * S9 part (c), one unit of work per learning rate: the 5-layer ReLU/He net trained by SGD on
 * minibatches of MNIST. Every rate starts from the same initial weights and draws the same
 * batch sequence (streams named by the seed only, not the rate), so the curves differ only in
 * the rate; units are independent and may run in parallel worker processes.
 *
 * Recorded per iteration: the loss on that iteration's batch after the update (evaluation
 * mode, as S2 records it). Every `ratioEvery`-th iteration (0, k, 2k, ...), per layer: the
 * update ratio ||lr * dW|| / ||W|| (Frobenius norms, W before the update, dW the gradient of
 * the batch loss) of each weight matrix.
 *
 * Divergence: the loss after an update is NaN/Inf or above EXPLODE_LOSS. The run stops there
 * and records the iteration; the other rates go on in their own units.
 */
import * as tf from '@tensorflow/tfjs';
import { firstRows } from '../../src/data/mnist.js';
import { mnistNet } from '../../src/nn/mnist-net.js';
import { Sgd } from '../../src/optim/optimizers.js';
import { Rng } from '../../src/rng.js';
import { CHANCE_LOSS } from '../../src/claims.js';
import type { UnitContext } from '../../src/study.js';
import { disposeBatch, sampleBatch } from '../../src/train/batches.js';
import type { SanityChecksConfig } from './study.js';

/**
 * A loss above ten times chance (10 ln 10 = 23.0) counts as an explosion: the right class's
 * log-probability is then below -23 on average, logits tens of units apart; a net that learns,
 * or one that barely moves, stays near or below ln 10 (2.30).
 */
export const EXPLODE_LOSS = 10 * CHANCE_LOSS;

export interface RateRecord {
  lr: number;
  /** The initial net's loss on the first batch (before any update): the same for every rate. */
  initialLoss: number;
  /** Per iteration, the batch loss after the update; the run stops at divergence. */
  loss: number[];
  /** ratio[layer][j] at iteration ratioIterations[j]. */
  ratio: number[][];
  ratioIterations: number[];
  /** Iteration and loss (null when NaN/Inf) where the run diverged, or null. */
  diverged: { iteration: number; loss: number | null } | null;
  /** Wall time of the unit (ms); a timing, kept out of the series. */
  ms: number;
}

export function trainRate(config: SanityChecksConfig, lr: number, ctx: UnitContext): RateRecord {
  const t0 = performance.now();
  const c = config.rates;
  const train = firstRows(ctx.mnist().train, c.trainSize);
  const net = mnistNet(config.hidden, { activation: 'relu', init: 'he' }, Rng.stream(ctx.seed, 'rates:init'));
  const optimizer = new Sgd(lr);
  const rng = Rng.stream(ctx.seed, 'rates:batches');
  const rec: RateRecord = { lr, initialLoss: NaN, loss: [], ratio: net.weights.map(() => []), ratioIterations: [], diverged: null, ms: 0 };
  try {
    for (let i = 0; i < c.iterations; i++) {
      const batch = sampleBatch(train, c.batchSize, rng);
      try {
        if (i === 0) rec.initialLoss = net.lossValue(batch.x, batch.y);
        const { loss: before, grads } = net.gradients(batch.x, batch.y, batch.xT);
        if (i % c.ratioEvery === 0) {
          rec.ratioIterations.push(i);
          updateRatios(net.weights, grads, lr).forEach((r, l) => rec.ratio[l]!.push(r));
        }
        if (Number.isFinite(before)) optimizer.update(net.params(), grads);
        tf.dispose(grads);
        const after = Number.isFinite(before) ? net.lossValue(batch.x, batch.y) : before;
        if (!Number.isFinite(after) || after > EXPLODE_LOSS) {
          rec.diverged = { iteration: i, loss: Number.isFinite(after) ? after : null };
          if (Number.isFinite(after)) rec.loss.push(after);
          break;
        }
        rec.loss.push(after);
      } finally {
        disposeBatch(batch);
      }
    }
  } finally {
    net.dispose();
    optimizer.dispose();
  }
  rec.ms = Math.round(performance.now() - t0);
  return rec;
}

/**
 * ||lr * dW|| / ||W|| for each weight matrix; grads in Mlp.params() order (W, b per layer, no
 * batch norm here). Non-finite norms give NaN (kept: the JSON turns it into null).
 */
export function updateRatios(weights: tf.Tensor[], grads: tf.Tensor[], lr: number): number[] {
  const norms = tf.tidy(() => tf.stack(weights.flatMap((w, l) => [tf.norm(grads[2 * l]!), tf.norm(w)])).dataSync());
  return weights.map((_, l) => (lr * norms[2 * l]!) / norms[2 * l + 1]!);
}
