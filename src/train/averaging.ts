/**
 * Copies of a network's parameters that outlive further training, and the averages the
 * lecture notes build from them:
 *
 * - a checkpoint (`takeCheckpoint`): copies of every trainable parameter and of batch norm's
 *   running statistics at one moment; the net trains on, the copies stay; `loadCheckpoint` puts
 *   them into a net of the same shape (e.g. a second net used only for evaluation);
 * - an exponential moving average of the parameters (`ParamAverage`), updated after every step:
 *   avg = decay * avg + (1 - decay) * param, starting from the parameters it was made with.
 *
 * Every tensor here is owned by its checkpoint or average and freed by its dispose(): an
 * update frees the average it replaces (test/lr-schedules-ensembles.test.ts checks that a run
 * keeping checkpoints and an average leaves tf.memory() flat).
 */
import * as tf from '@tensorflow/tfjs';
import type { Mlp } from '../nn/mlp.js';

/** A net's state at one moment: trainable parameters in params() order, then BN's running mean and variance per layer. */
export interface Checkpoint {
  params: tf.Tensor[];
  running: tf.Tensor[];
}

function runningStats(net: Mlp): tf.Variable[] {
  return net.bn.flatMap((l) => [l.runningMean, l.runningVar]);
}

/** Copies of the net's parameters and running statistics, unaffected by its later updates. */
export function takeCheckpoint(net: Mlp): Checkpoint {
  return { params: net.params().map((p) => tf.clone(p)), running: runningStats(net).map((r) => tf.clone(r)) };
}

/** Sets the net's parameters (and running statistics) to the checkpoint's values; the checkpoint stays the caller's. */
export function loadCheckpoint(net: Mlp, c: Checkpoint): void {
  const params = net.params();
  const running = runningStats(net);
  if (params.length !== c.params.length || running.length !== c.running.length) {
    throw new Error(`checkpoint of ${c.params.length} parameters / ${c.running.length} statistics does not fit a net of ${params.length} / ${running.length}`);
  }
  const assign = (v: tf.Variable, t: tf.Tensor) => {
    if (v.shape.join('x') !== t.shape.join('x')) throw new Error(`checkpoint tensor of shape [${t.shape}] does not fit [${v.shape}]`);
    // A copy, so the net's next update (which frees what the variable held) cannot touch the checkpoint.
    tf.tidy(() => v.assign(tf.clone(t)));
  };
  params.forEach((v, i) => assign(v, c.params[i]!));
  running.forEach((v, i) => assign(v, c.running[i]!));
}

export function disposeCheckpoint(c: Checkpoint): void {
  tf.dispose(c.params);
  tf.dispose(c.running);
  c.params = [];
  c.running = [];
}

/**
 * The exponential moving average of a net's parameters: made from the net's current
 * parameters, then `update(net)` after each training step does avg = decay*avg + (1-decay)*p.
 * `checkpoint()` gives the average as a checkpoint (with the net's running statistics, which
 * are themselves averages), to load into a net for evaluation.
 */
export class ParamAverage {
  private avg: tf.Tensor[];
  private updates = 0;

  constructor(net: Mlp, readonly decay: number) {
    if (!(decay >= 0 && decay < 1)) throw new Error(`an average's decay must be in [0, 1), got ${decay}`);
    this.avg = net.params().map((p) => tf.clone(p));
  }

  /** How many updates the average has taken. */
  get steps(): number {
    return this.updates;
  }

  update(net: Mlp): void {
    const params = net.params();
    if (params.length !== this.avg.length) throw new Error(`average of ${this.avg.length} parameters updated from a net of ${params.length}`);
    const next = tf.tidy(() => this.avg.map((a, i) => tf.add(tf.mul(a, this.decay), tf.mul(params[i]!, 1 - this.decay))));
    tf.dispose(this.avg);
    this.avg = next;
    this.updates++;
  }

  /** A checkpoint holding copies of the averaged parameters and the net's current running statistics. */
  checkpoint(net: Mlp): Checkpoint {
    return { params: this.avg.map((a) => tf.clone(a)), running: runningStats(net).map((r) => tf.clone(r)) };
  }

  dispose(): void {
    tf.dispose(this.avg);
    this.avg = [];
  }
}
