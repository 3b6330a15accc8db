/**
 * A fully connected network of any depth, as the lecture builds it:
 * affine -> [batch norm] -> activation -> [dropout], repeated, then a last affine layer and
 * softmax cross-entropy. Optional L2 weight decay adds 0.5*lambda*sum(W^2) over every weight
 * matrix (not biases, not BN's gamma/beta).
 *
 * Batch norm: in training mode it normalises with the batch mean and (biased) variance,
 * xhat = (x - mu) / sqrt(var + 1e-6), y = gamma*xhat + beta, and updates running statistics
 * with momentum 0.9, both starting at 0; evaluation uses the running statistics by default,
 * or (batchnorm-eval.ts) given statistics per layer, e.g. the population statistics of a data
 * set, or each evaluated batch's own statistics.
 *
 * Two batch-norm options (both default to the lecture's net): `biasBeforeBatchNorm: false`
 * drops the bias b of every affine layer that feeds batch norm (subtracting the batch mean
 * removes any constant b adds, and beta takes its role), so that layer computes x W alone and
 * has no b among its parameters; `batchNormAffine: 'frozen'` keeps gamma at 1 and beta at 0
 * (they are left out of the parameters, so no update moves them).
 *
 * Dropout follows the lecture's (not inverted) form: in training each unit is kept with
 * probability 1-ratio and not rescaled; at evaluation every unit is used and scaled by
 * (1-ratio), so the expected activation matches.
 *
 * Training: `gradients` runs the forward pass and a hand-written backward pass, layer by
 * layer (layers.ts), with no gradient tape; `gradientsTape` (reference.ts) differentiates
 * `loss` with tfjs's tape instead and is the reference it must match bit for bit
 * (test/backward.test.ts). Each activation's forward and backward come from one table
 * (activation.ts), read by both passes.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng.js';
import { ACTIVATION_RULES, type Activation, type FusedActivation } from './activation.js';
import { dense, denseOnData } from './dense.js';
import { softmaxCrossEntropy } from './loss.js';
import { initWeights, type InitScheme } from './init.js';
import { fusedAffine } from './kernels.js';
import {
  affineBackward,
  affineForward,
  batchNormBackward,
  batchNormForward,
  dropoutBackward,
  dropoutForward,
  softmaxWithLossBackward,
  softmaxWithLossForward,
  weightDecayBackward,
  weightDecayLoss,
} from './layers.js';
import { normalizeByGroups, normalizeWith, runningAverage, RUNNING, type BnEval } from './batchnorm-eval.js';

export const BN_EPS = 1e-6;
export const BN_MOMENTUM = 0.9;

export interface MlpSpec {
  /** Layer widths, input first: [784, 100, 100, 100, 100, 10] is the 5-layer net. */
  sizes: number[];
  activation: Activation;
  init: InitScheme;
  batchNorm?: boolean;
  /** Dropout ratio after each hidden activation (0 or absent: none). */
  dropout?: number;
  /** L2 strength lambda of 0.5*lambda*sum(W^2). */
  weightDecay?: number;
  /** false: the affine layers before batch norm have no bias (default true; needs batchNorm). */
  biasBeforeBatchNorm?: boolean;
  /** 'frozen': batch norm's gamma stays 1 and beta 0, not trained (default 'learned'). */
  batchNormAffine?: 'learned' | 'frozen';
}

export type Mode = 'train' | 'eval';

/** Sees the batch mean and variance of BN layer `layer` (index of its hidden layer) at every training-mode forward pass. */
export type BatchStatisticsObserver = (layer: number, mean: tf.Tensor1D, variance: tf.Tensor1D) => void;

/** One step of a hidden layer's backward pass: dL/d(its output) to dL/d(its input). */
type BackStep = (d: tf.Tensor2D) => tf.Tensor2D;

interface BnLayer {
  gamma: tf.Variable;
  beta: tf.Variable;
  runningMean: tf.Variable;
  runningVar: tf.Variable;
}

export class Mlp {
  readonly weights: tf.Variable[] = [];
  readonly biases: tf.Variable[] = [];
  readonly bn: BnLayer[] = [];
  /** Draws dropout masks; seeded so a run repeats exactly. */
  private readonly dropoutRng: Rng;
  /**
   * Called with each BN layer's batch statistics right after its running statistics are
   * updated (inside that tf.tidy): lets running averages of other momenta follow the same
   * training run (batchnorm-eval.ts, RunningAverages). Training does not read what it does.
   */
  onBatchStatistics: BatchStatisticsObserver | null = null;

  constructor(readonly spec: MlpSpec, initRng: Rng) {
    const { sizes } = spec;
    if (sizes.length < 2) throw new Error('an MLP needs at least an input and an output size');
    if (spec.biasBeforeBatchNorm === false && !spec.batchNorm) throw new Error('biasBeforeBatchNorm: false needs batchNorm (only a layer before batch norm may drop its bias)');
    if (spec.batchNormAffine === 'frozen' && !spec.batchNorm) throw new Error("batchNormAffine: 'frozen' needs batchNorm");
    // tidy frees the initial-value tensors; tf.variable keeps its own reference to the data.
    tf.tidy(() => this.makeParams(initRng));
    this.dropoutRng = new Rng(initRng.nextUint32(), 'dropout');
  }

  private makeParams(initRng: Rng): void {
    const { spec } = this;
    const { sizes } = spec;
    for (let l = 0; l + 1 < sizes.length; l++) {
      const fanIn = sizes[l]!;
      const fanOut = sizes[l + 1]!;
      this.weights.push(tf.variable(tf.tensor2d(initWeights(spec.init, fanIn, fanOut, initRng), [fanIn, fanOut])));
      const hidden = l + 2 < sizes.length;
      const bn = hidden && spec.batchNorm === true;
      // A layer without bias keeps a zero one here (never trained, never read by the forward
      // pass) so that biases[l] stays layer l's for every reader.
      this.biases.push(tf.variable(tf.zeros([fanOut]), !(bn && spec.biasBeforeBatchNorm === false)));
      if (bn) {
        const learned = spec.batchNormAffine !== 'frozen';
        this.bn.push({
          gamma: tf.variable(tf.ones([fanOut]), learned),
          beta: tf.variable(tf.zeros([fanOut]), learned),
          runningMean: tf.variable(tf.zeros([fanOut]), false),
          runningVar: tf.variable(tf.zeros([fanOut]), false),
        });
      }
    }
  }

  /**
   * Trainable parameters in a fixed order (the optimizers keep state by position): per layer
   * W, b (unless the layer has none), then gamma, beta (unless frozen).
   */
  params(): tf.Variable[] {
    const out: tf.Variable[] = [];
    for (let l = 0; l < this.weights.length; l++) {
      out.push(this.weights[l]!);
      if (this.hasBias(l)) out.push(this.biases[l]!);
      const bn = this.bn[l];
      if (bn && this.learnsBatchNormAffine()) out.push(bn.gamma, bn.beta);
    }
    return out;
  }

  /** Whether affine layer l adds a bias (all do, except those before batch norm when biasBeforeBatchNorm is false). */
  hasBias(l: number): boolean {
    return !(this.bn[l] && this.spec.biasBeforeBatchNorm === false);
  }

  private learnsBatchNormAffine(): boolean {
    return this.spec.batchNormAffine !== 'frozen';
  }

  private dropoutMask(rows: number, cols: number, ratio: number): tf.Tensor2D {
    const mask = new Float32Array(rows * cols);
    for (let i = 0; i < mask.length; i++) mask[i] = this.dropoutRng.uniform() > ratio ? 1 : 0;
    return tf.tensor2d(mask, [rows, cols]);
  }

  /** Running statistics follow the batch statistics with momentum BN_MOMENTUM (then the observer sees them). */
  private updateRunningStats(index: number, mean: tf.Tensor1D, variance: tf.Tensor1D): void {
    const layer = this.bn[index]!;
    tf.tidy(() => {
      layer.runningMean.assign(runningAverage(layer.runningMean, mean, BN_MOMENTUM));
      layer.runningVar.assign(runningAverage(layer.runningVar, variance, BN_MOMENTUM));
      this.onBatchStatistics?.(index, mean, variance);
    });
  }

  private batchNorm(a: tf.Tensor2D, index: number, mode: Mode, bnEval: BnEval): tf.Tensor2D {
    const layer = this.bn[index]!;
    const gamma = layer.gamma as tf.Tensor1D;
    const beta = layer.beta as tf.Tensor1D;
    if (mode === 'eval') {
      if (bnEval.kind === 'batch') return normalizeByGroups(a, bnEval.groupSize, gamma, beta, BN_EPS);
      const s = bnEval.kind === 'given' ? bnEval.stats[index] : { mean: layer.runningMean as tf.Tensor1D, variance: layer.runningVar as tf.Tensor1D };
      if (!s) throw new Error(`no batch-norm statistics given for hidden layer ${index}`);
      return normalizeWith(a, s.mean, s.variance, gamma, beta, BN_EPS);
    }
    const { mean, variance } = tf.moments(a, 0) as { mean: tf.Tensor1D; variance: tf.Tensor1D };
    // The assignment is not on the path to the loss, so backpropagation never reaches it.
    this.updateRunningStats(index, mean, variance);
    const xhat = tf.div(tf.sub(a, mean), tf.sqrt(tf.add(variance, BN_EPS)));
    return tf.add(tf.mul(xhat, layer.gamma), layer.beta);
  }

  /**
   * Logits for a batch. Call inside tf.tidy (or a gradient function). `xT`, the batch
   * transposed, lets the first layer of a training step skip the gradient for its input.
   * Training steps do not come here (see backprop); evaluation and the tape reference do.
   * `bnEval` says which statistics batch norm uses in evaluation mode (default: running).
   */
  logits(x: tf.Tensor2D, mode: Mode, xT?: tf.Tensor2D, bnEval: BnEval = RUNNING): tf.Tensor2D {
    let h = x;
    const last = this.weights.length - 1;
    for (let l = 0; l < last; l++) h = this.afterAffine(this.affine(h, l, mode, xT), l, mode, bnEval);
    return this.affine(h, last, mode, xT);
  }

  /**
   * Fuse the activation into the affine kernel where nothing stands between them (it fuses in
   * evaluation; under the gradient tape tfjs runs it as matMul + add + activation).
   */
  protected fusedActivation(l: number): FusedActivation {
    const hidden = l < this.weights.length - 1;
    const fused = ACTIVATION_RULES[this.spec.activation].fused;
    return hidden && !this.bn[l] && fused ? fused.kernel : 'linear';
  }

  /** Layer l's affine product (in a BN net: batch norm's input), with the activation fused in where fusedActivation says. */
  affine(h: tf.Tensor2D, l: number, mode: Mode, xT?: tf.Tensor2D): tf.Tensor2D {
    const w = this.weights[l] as tf.Tensor2D;
    // No bias: batch norm follows, so nothing is fused either.
    if (!this.hasBias(l)) return tf.matMul(h, w);
    const b = this.biases[l] as tf.Tensor1D;
    const fused = this.fusedActivation(l);
    if (mode === 'eval') return fusedAffine(h, w, b, fused);
    if (l === 0 && xT) return denseOnData(h, xT, w, b, fused);
    return dense(h, w, b, fused);
  }

  /** What follows hidden layer l's affine product: batch norm, the activation (unless fused into the product), dropout. */
  afterAffine(a: tf.Tensor2D, l: number, mode: Mode, bnEval: BnEval = RUNNING): tf.Tensor2D {
    const { activation, dropout } = this.spec;
    if (this.bn[l]) a = this.batchNorm(a, l, mode, bnEval);
    let h = this.fusedActivation(l) === 'linear' ? (ACTIVATION_RULES[activation].forward(a) as tf.Tensor2D) : a;
    if (dropout) {
      h = mode === 'train' ? tf.mul(h, this.dropoutMask(h.shape[0], h.shape[1], dropout)) : tf.mul(h, 1 - dropout);
    }
    return h;
  }

  /** Mean softmax cross-entropy of the batch plus the weight-decay term. */
  loss(x: tf.Tensor2D, yOneHot: tf.Tensor2D, mode: Mode, xT?: tf.Tensor2D): tf.Scalar {
    const ce = this.crossEntropy(this.logits(x, mode, xT), yOneHot);
    const lambda = this.spec.weightDecay ?? 0;
    if (lambda === 0) return ce;
    const penalty = tf.addN(this.weights.map((w) => tf.sum(tf.square(w))));
    return tf.add(ce, tf.mul(penalty, 0.5 * lambda)) as tf.Scalar;
  }

  /** Mean softmax cross-entropy of a batch's logits (the loss op of loss.ts, with its own gradient for the tape). */
  protected crossEntropy(logits: tf.Tensor2D, yOneHot: tf.Tensor2D): tf.Scalar {
    return softmaxCrossEntropy(logits, yOneHot);
  }

  /**
   * The training-mode loss before the update and its gradient for every parameter of
   * params(), in that order; the caller disposes the gradients. A hand-written backward pass,
   * layer by layer (layers.ts), with no gradient tape; bit-identical to gradientsTape
   * (reference.ts).
   */
  gradients(x: tf.Tensor2D, yOneHot: tf.Tensor2D, xT?: tf.Tensor2D): { loss: number; grads: tf.Tensor[] } {
    const out = tf.tidy(() => this.backprop(x, yOneHot, xT));
    const loss = out.loss.dataSync()[0]!;
    out.loss.dispose();
    return { loss, grads: out.grads };
  }

  /**
   * One training-mode forward pass, keeping what each layer's backward needs, then the
   * backward pass from the loss down to the first layer. Runs the same kernels the tape runs
   * for `loss(x, y, 'train')` and its gradient (see layers.ts), minus the tape's bookkeeping.
   */
  private backprop(x: tf.Tensor2D, yOneHot: tf.Tensor2D, xT?: tf.Tensor2D): { loss: tf.Scalar; grads: tf.Tensor[] } {
    const lambda = this.spec.weightDecay ?? 0;
    const last = this.weights.length - 1;
    const inputs: tf.Tensor2D[] = [];
    /** Per hidden layer, what stands between its affine output and the next layer's input, in forward order. */
    const after: BackStep[][] = [];
    const bnGrads: { dgamma: tf.Tensor1D; dbeta: tf.Tensor1D }[] = [];
    let h = x;
    for (let l = 0; l < last; l++) {
      inputs.push(h);
      // Where the dense op fuses the activation, the tape runs matMul + add + activation.
      const fused = this.fusedActivation(l) !== 'linear';
      const a = this.hasBias(l) ? affineForward(h, this.weights[l] as tf.Tensor2D, this.biases[l] as tf.Tensor1D, fused ? 'separate' : 'fused') : (tf.matMul(h, this.weights[l] as tf.Tensor2D) as tf.Tensor2D);
      const layer = this.hiddenForward(a, l, fused, bnGrads);
      after.push(layer.back);
      h = layer.out;
    }
    inputs.push(h);
    const logits = affineForward(h, this.weights[last] as tf.Tensor2D, this.biases[last] as tf.Tensor1D, 'fused');
    const { loss: ce, logProb } = softmaxWithLossForward(logits, yOneHot);
    const loss = lambda === 0 ? ce : (tf.add(ce, weightDecayLoss(this.weights, lambda)) as tf.Scalar);

    const grads: tf.Tensor[][] = [];
    let d = softmaxWithLossBackward(logProb, yOneHot);
    for (let l = last; l >= 0; l--) {
      const w = this.weights[l] as tf.Tensor2D;
      const g = affineBackward(d, inputs[l]!, w, l > 0, l === 0 ? xT : undefined);
      const dW = lambda === 0 ? g.dW : weightDecayBackward(g.dW, w, lambda);
      if (l > 0) {
        d = g.dx!;
        const back = after[l - 1]!;
        for (let k = back.length - 1; k >= 0; k--) d = back[k]!(d);
      }
      const bnG = bnGrads[l];
      // In params() order; a layer without bias has no db, frozen gamma/beta no gradient.
      grads[l] = [dW, ...(this.hasBias(l) ? [g.db] : []), ...(bnG && this.learnsBatchNormAffine() ? [bnG.dgamma, bnG.dbeta] : [])];
    }
    return { loss, grads: grads.flat() };
  }

  /**
   * Hidden layer l after its affine product `a`, in training mode: batch norm, the activation,
   * dropout; and the backward steps of each, in forward order. `fused`: the activation is the
   * dense op's (its gradient from the output, see activation.ts).
   */
  private hiddenForward(a: tf.Tensor2D, l: number, fused: boolean, bnGrads: { dgamma: tf.Tensor1D; dbeta: tf.Tensor1D }[]): { out: tf.Tensor2D; back: BackStep[] } {
    const rule = ACTIVATION_RULES[this.spec.activation];
    const { dropout } = this.spec;
    const back: BackStep[] = [];
    let z = a;
    const bn = this.bn[l];
    if (bn) {
      const f = batchNormForward(a, bn.gamma as tf.Tensor1D, bn.beta as tf.Tensor1D, BN_EPS);
      this.updateRunningStats(l, f.mean, f.variance);
      back.push((d) => {
        const g = batchNormBackward(d, f.cache);
        bnGrads[l] = g;
        return g.dx;
      });
      z = f.out;
    }
    const y = rule.forward(z) as tf.Tensor2D;
    back.push(fused ? (d) => rule.fused!.backward(d, y) : (d) => rule.backward(d, z, y));
    let out = y;
    if (dropout) {
      const mask = this.dropoutMask(y.shape[0], y.shape[1], dropout);
      out = dropoutForward(y, mask);
      back.push((d) => dropoutBackward(d, mask));
    }
    return { out, back };
  }

  /** The loss in evaluation mode, as a number (the lecture records this after each update). */
  lossValue(x: tf.Tensor2D, yOneHot: tf.Tensor2D): number {
    return tf.tidy(() => this.loss(x, yOneHot, 'eval').dataSync()[0]!);
  }

  /** Predicted class of each row, evaluation mode (batch norm as `bnEval` says: running statistics by default), no gradient tape. */
  predict(x: tf.Tensor2D, bnEval: BnEval = RUNNING): Int32Array {
    return tf.tidy(() => tf.argMax(this.logits(x, 'eval', undefined, bnEval), 1).dataSync() as Int32Array);
  }

  dispose(): void {
    for (const v of [...this.weights, ...this.biases]) v.dispose();
    for (const bn of this.bn) {
      bn.gamma.dispose();
      bn.beta.dispose();
      bn.runningMean.dispose();
      bn.runningVar.dispose();
    }
  }
}
