/**
 * Knowledge distillation as Hinton, Vinyals and Dean (2015, "Distilling the knowledge in a
 * neural network") define it: a student is trained on the teacher's softened probabilities
 * softmax(v / T) (T, the temperature, > 1 spreads them out, so the small probabilities of the
 * wrong classes, the "dark knowledge", carry weight) mixed with the true labels.
 *
 * For one row with student logits z, soft targets p (the teacher's softened probabilities,
 * summing to 1) and a one-hot label y, with q = softmax(z / T) and s = softmax(z):
 *
 *   L = w * T^2 * H(p, q) + (1 - w) * H(y, s),        H(a, b) = -sum_j a_j log b_j
 *
 *   dL/dz_j = w * T * (q_j - p_j) + (1 - w) * (s_j - y_j)
 *
 * The soft term: dH(p, q)/dz_j = (q_j - p_j) / T (the softmax's own gradient, through z / T),
 * times T^2 gives T (q_j - p_j). The factor T^2 is the paper's: as T grows, q - p shrinks as
 * 1/T (for logits small next to T, q_j ~ (1 + z_j / T) / m), so the soft gradient falls as
 * 1/T^2 without it, and the mix w would mean something else at every temperature. The batch's
 * loss is the mean over its rows, so every row's gradient is divided by the row count.
 *
 * Two forms: plain numbers in float64 (the reference a test checks against a numerical
 * gradient) and tfjs ops (what trains). `distillationGradients` carries dL/dz back through a
 * plain MLP (affine + activation layers, layers.ts) to every parameter.
 */
import * as tf from '@tensorflow/tfjs';
import { ACTIVATION_RULES } from '../nn/activation.js';
import { logSoftmax } from '../nn/kernels.js';
import { affineBackward, affineForward } from '../nn/layers.js';
import type { Mlp } from '../nn/mlp.js';

export interface DistillationMix {
  /** T: the soft targets' and the student's soft term's temperature. */
  temperature: number;
  /** w: the soft term's weight; the hard (label) term gets 1 - w. 0 is training on the labels alone. */
  softWeight: number;
}

/** softmax(z / T) of every row of a rows x classes array, in float64 (the row maximum taken out first). */
export function softenedSoftmax(logits: ArrayLike<number>, classes: number, temperature: number): Float64Array {
  const out = new Float64Array(logits.length);
  for (let r = 0; r * classes < logits.length; r++) {
    let max = -Infinity;
    for (let j = 0; j < classes; j++) max = Math.max(max, logits[r * classes + j]! / temperature);
    let sum = 0;
    for (let j = 0; j < classes; j++) sum += out[r * classes + j] = Math.exp(logits[r * classes + j]! / temperature - max);
    for (let j = 0; j < classes; j++) out[r * classes + j]! /= sum;
  }
  return out;
}

/**
 * An ensemble teacher's soft targets: the arithmetic mean over its members of softmax(v_m / T)
 * (the paper's way for an ensemble: average the members' softened distributions), float32.
 */
export function ensembleSoftTargets(memberLogits: readonly ArrayLike<number>[], classes: number, temperature: number): Float32Array {
  if (memberLogits.length === 0) throw new Error('an ensemble teacher needs at least one member');
  const size = memberLogits[0]!.length;
  if (memberLogits.some((m) => m.length !== size)) throw new Error('every member must give logits for the same rows');
  const sum = new Float64Array(size);
  for (const m of memberLogits) {
    const p = softenedSoftmax(m, classes, temperature);
    for (let i = 0; i < size; i++) sum[i]! += p[i]!;
  }
  return Float32Array.from(sum, (v) => v / memberLogits.length);
}

/** The loss of a batch (mean over rows) and dL/dz, in float64: the formulas above, written out. */
export function distillationLoss64(logits: ArrayLike<number>, labels: ArrayLike<number>, soft: ArrayLike<number>, classes: number, mix: DistillationMix): { loss: number; dLogits: Float64Array } {
  const { temperature: T, softWeight: w } = mix;
  const rows = logits.length / classes;
  const q = softenedSoftmax(logits, classes, T);
  const s = softenedSoftmax(logits, classes, 1);
  const dLogits = new Float64Array(logits.length);
  let loss = 0;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < classes; j++) {
      const i = r * classes + j;
      const y = labels[r] === j ? 1 : 0;
      if (w !== 0) loss -= w * T * T * soft[i]! * Math.log(q[i]!);
      if (y === 1) loss -= (1 - w) * Math.log(s[i]!);
      dLogits[i] = (w * T * (q[i]! - soft[i]!) + (1 - w) * (s[i]! - y)) / rows;
    }
  }
  return { loss: loss / rows, dLogits };
}

/**
 * The same in tfjs ops, for training: the batch's loss and dL/dz. `hard` holds one-hot labels,
 * `soft` the soft targets (both rows x classes). With w = 0 the soft term is not formed at all:
 * the label-only loss, (s - y) / N.
 */
export function distillationLoss(logits: tf.Tensor2D, hard: tf.Tensor2D, soft: tf.Tensor2D | null, mix: DistillationMix): { loss: tf.Scalar; dLogits: tf.Tensor2D } {
  const { temperature: T, softWeight: w } = mix;
  const n = logits.shape[0];
  const logS = logSoftmax(logits);
  const hardLoss = tf.div(tf.sum(tf.mul(hard, logS)), -n);
  const hardGrad = tf.sub(tf.exp(logS), hard);
  if (w === 0) return { loss: hardLoss as tf.Scalar, dLogits: tf.div(hardGrad, n) as tf.Tensor2D };
  if (!soft) throw new Error('a soft weight above 0 needs soft targets');
  const logQ = logSoftmax(tf.div(logits, T) as tf.Tensor2D);
  const softLoss = tf.div(tf.sum(tf.mul(soft, logQ)), -n);
  const loss = tf.add(tf.mul(softLoss, w * T * T), tf.mul(hardLoss, 1 - w)) as tf.Scalar;
  const softGrad = tf.sub(tf.exp(logQ), soft);
  const dLogits = tf.div(tf.add(tf.mul(softGrad, w * T), tf.mul(hardGrad, 1 - w)), n) as tf.Tensor2D;
  return { loss, dLogits };
}

/**
 * The distillation loss of a batch and its gradient for every parameter of a plain MLP (no
 * batch norm, dropout or weight decay), in params() order: the training-mode forward pass,
 * dL/dz from distillationLoss, then back through each affine layer and activation (the same
 * layer functions as Mlp's own backward pass). The caller disposes the gradients.
 */
export function distillationGradients(net: Mlp, x: tf.Tensor2D, hard: tf.Tensor2D, soft: tf.Tensor2D | null, mix: DistillationMix, xT?: tf.Tensor2D): { loss: number; grads: tf.Tensor[] } {
  if (net.bn.length > 0 || net.spec.dropout || net.spec.weightDecay) throw new Error('distillationGradients takes a plain MLP (no batch norm, dropout or weight decay)');
  const rule = ACTIVATION_RULES[net.spec.activation];
  const out = tf.tidy(() => {
    const last = net.weights.length - 1;
    const inputs: tf.Tensor2D[] = [];
    const pre: tf.Tensor2D[] = [];
    const post: tf.Tensor2D[] = [];
    let h = x;
    for (let l = 0; l < last; l++) {
      inputs.push(h);
      const a = affineForward(h, net.weights[l] as tf.Tensor2D, net.biases[l] as tf.Tensor1D, 'fused');
      h = rule.forward(a) as tf.Tensor2D;
      pre.push(a);
      post.push(h);
    }
    inputs.push(h);
    const logits = affineForward(h, net.weights[last] as tf.Tensor2D, net.biases[last] as tf.Tensor1D, 'fused');
    const { loss, dLogits } = distillationLoss(logits, hard, soft, mix);
    const grads: tf.Tensor[][] = [];
    let d = dLogits;
    for (let l = last; l >= 0; l--) {
      const g = affineBackward(d, inputs[l]!, net.weights[l] as tf.Tensor2D, l > 0, l === 0 ? xT : undefined);
      grads[l] = [g.dW, g.db];
      if (l > 0) d = rule.backward(g.dx!, pre[l - 1]!, post[l - 1]!);
    }
    return { loss, grads: grads.flat() };
  });
  const loss = out.loss.dataSync()[0]!;
  out.loss.dispose();
  return { loss, grads: out.grads };
}
