/**
 * Distillation (src/train/distill.ts): the soft-target loss's gradient against a numerical one
 * in float64, the tfjs form against the float64 one, the T^2 scaling, the ensemble's soft
 * targets, and the student's gradient through the net against tfjs's own gradient (tape).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { relativeError } from '../experiments/gradient-check/check.js';
import { mnistNet } from '../src/nn/mnist-net.js';
import { Rng } from '../src/rng.js';
import { distillationGradients, distillationLoss, distillationLoss64, ensembleSoftTargets, softenedSoftmax, type DistillationMix } from '../src/train/distill.js';

const CLASSES = 5;
const ROWS = 4;
const rng = new Rng(3, 'distill-test');
const logits = Float64Array.from(rng.normalArray(ROWS * CLASSES, 2));
const labels = Uint8Array.from([0, 3, 4, 1]);
const soft = softenedSoftmax(Float64Array.from(rng.normalArray(ROWS * CLASSES, 3)), CLASSES, 4);
const MIXES: DistillationMix[] = [
  { temperature: 3, softWeight: 0.9 },
  { temperature: 1, softWeight: 0.5 },
  { temperature: 20, softWeight: 1 },
  { temperature: 3, softWeight: 0 },
];

describe('distillation loss', () => {
  it.each(MIXES)('its gradient equals centered differences in float64 (T $temperature, soft weight $softWeight)', (mix) => {
    const { dLogits } = distillationLoss64(logits, labels, soft, CLASSES, mix);
    // h 1e-4: truncation (h^2) stays below 1e-8; round-off, about 1e-16 L / (h |g|), reaches 1e-6
    // only where a coordinate's gradient is tiny next to a loss scaled up by T^2 (T = 20: 400 L).
    const h = 1e-4;
    for (let i = 0; i < logits.length; i++) {
      const at = (d: number) => {
        const z = Float64Array.from(logits);
        z[i]! += d;
        return distillationLoss64(z, labels, soft, CLASSES, mix).loss;
      };
      const numeric = (at(h) - at(-h)) / (2 * h);
      // Far inside the notes' "fine" band (1e-4); a wrong factor (say T in place of T^2) is off by 1e-1 or more.
      expect(relativeError(dLogits[i]!, numeric)).toBeLessThan(1e-6);
    }
  });

  it('soft targets equal to the student\'s own softened softmax give a zero soft gradient; soft weight 0 is the label-only (softmax - y) / N', () => {
    const own = softenedSoftmax(logits, CLASSES, 3);
    const { dLogits } = distillationLoss64(logits, labels, own, CLASSES, { temperature: 3, softWeight: 1 });
    for (const v of dLogits) expect(Math.abs(v)).toBeLessThan(1e-15);
    const s = softenedSoftmax(logits, CLASSES, 1);
    const hard = distillationLoss64(logits, labels, soft, CLASSES, { temperature: 3, softWeight: 0 });
    for (let i = 0; i < logits.length; i++) expect(hard.dLogits[i]).toBeCloseTo((s[i]! - (labels[Math.floor(i / CLASSES)] === i % CLASSES ? 1 : 0)) / ROWS, 15);
  });

  it('T^2 keeps the soft gradient on one scale: for small logits its size barely changes from T = 10 to T = 100, where without T^2 it would fall 100x', () => {
    const small = logits.map((v) => v * 0.1);
    const teacher = softenedSoftmax(logits.map((v) => -v * 0.1), CLASSES, 1);
    const norm = (T: number) => Math.hypot(...distillationLoss64(small, labels, softenedSoftmax(teacher.map(Math.log), CLASSES, T / 10), CLASSES, { temperature: T, softWeight: 1 }).dLogits);
    // Teacher logits log(teacher) * 10 / T at temperature T: the same "hot" teacher at both T, z / T shrinking.
    const ratio = norm(100) / norm(10);
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
  });

  it.each(MIXES)('the tfjs form gives the float64 loss and gradient to float32 precision (T $temperature, soft weight $softWeight)', (mix) => {
    const before = tf.memory().numTensors;
    const want = distillationLoss64(logits, labels, soft, CLASSES, mix);
    const got = tf.tidy(() => {
      const hard = tf.oneHot(tf.tensor1d(labels, 'int32'), CLASSES).toFloat() as tf.Tensor2D;
      const r = distillationLoss(tf.tensor2d(Float32Array.from(logits), [ROWS, CLASSES]), hard, tf.tensor2d(Float32Array.from(soft), [ROWS, CLASSES]), mix);
      return { loss: r.loss.dataSync()[0]!, d: r.dLogits.dataSync() };
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(relativeError(want.loss, got.loss)).toBeLessThan(1e-5);
    for (let i = 0; i < logits.length; i++) expect(Math.abs(got.d[i]! - want.dLogits[i]!)).toBeLessThan(1e-6);
  });
});

describe('ensemble soft targets', () => {
  it('are the mean of the members\' softened softmax, each row summing to 1', () => {
    const a = Float32Array.from([1, 2, 0, 0, 0, 3]);
    const b = Float32Array.from([0, 0, 1, 5, 1, 1]);
    const p = ensembleSoftTargets([a, b], 3, 2);
    const pa = softenedSoftmax(a, 3, 2);
    const pb = softenedSoftmax(b, 3, 2);
    for (let i = 0; i < 6; i++) expect(p[i]).toBeCloseTo((pa[i]! + pb[i]!) / 2, 7);
    expect(p[0]! + p[1]! + p[2]!).toBeCloseTo(1, 6);
    expect(() => ensembleSoftTargets([a, Float32Array.from([1])], 3, 2)).toThrow(/same rows/);
  });
});

describe('the student\'s gradient', () => {
  it.each(['relu', 'tanh'] as const)('equals tfjs\'s own gradient (tape) of the same loss, every parameter, %s', (activation) => {
    const net = mnistNet([6, 5], { activation, init: 'he' }, new Rng(5, 'student'));
    const r = new Rng(9, 'batch');
    const x = tf.tensor2d(r.normalArray(8 * 784, 0.5), [8, 784]);
    const hard = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32'), 10).toFloat() as tf.Tensor2D);
    const softT = tf.tensor2d(Float32Array.from(softenedSoftmax(Float64Array.from(r.normalArray(80, 2)), 10, 3)), [8, 10]);
    const mix = { temperature: 3, softWeight: 0.9 };
    const before = tf.memory().numTensors;
    const mine = distillationGradients(net, x, hard, softT, mix);
    const tape = tf.variableGrads(() => {
      const z = net.logits(x, 'train');
      const q = tf.logSoftmax(tf.div(z, 3));
      const s = tf.logSoftmax(z);
      const softTerm = tf.mul(tf.div(tf.sum(tf.mul(softT, q)), -8), 0.9 * 9);
      const hardTerm = tf.mul(tf.div(tf.sum(tf.mul(hard, s)), -8), 0.1);
      return tf.add(softTerm, hardTerm) as tf.Scalar;
    }, net.params());
    expect(mine.loss).toBeCloseTo(tape.value.dataSync()[0]!, 5);
    net.params().forEach((p, i) => {
      const a = mine.grads[i]!.dataSync();
      const b = tape.grads[p.name]!.dataSync();
      let worst = 0;
      for (let k = 0; k < a.length; k++) worst = Math.max(worst, Math.abs(a[k]! - b[k]!));
      const scale = Math.max(...Array.from(b, Math.abs), 1e-6);
      expect(worst / scale).toBeLessThan(1e-4);
    });
    tf.dispose([...mine.grads, tape.value, ...Object.values(tape.grads)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, hard, softT]);
    net.dispose();
  });

  it('refuses a net with batch norm, dropout or weight decay', () => {
    const net = mnistNet([4], { activation: 'relu', init: 'he', dropout: 0.2 }, new Rng(1, 'n'));
    const x = tf.zeros([2, 784]) as tf.Tensor2D;
    const y = tf.zeros([2, 10]) as tf.Tensor2D;
    expect(() => distillationGradients(net, x, y, null, { temperature: 1, softWeight: 0 })).toThrow(/plain MLP/);
    tf.dispose([x, y]);
    net.dispose();
  });
});
