import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { overfit, overfitClaims, VARIANTS, type OverfitConfig, type Variant, type VariantSummary } from '../experiments/overfit/study.js';
import { studyOptions } from '../src/cli/study-flags.js';
import { configFromFlags } from '../src/exec/plan.js';
import { IMAGE_SIZE, gatherRows, resolveMnistDir } from '../src/data/mnist.js';
import { UserError } from '../src/errors.js';
import { Mlp } from '../src/nn/mlp.js';
import { Rng } from '../src/rng.js';
import { mnistFrom } from '../src/exec/runner.js';
import { runInTest } from './helpers/context.js';
import { disposeBatch, toBatch } from '../src/train/batches.js';

function summary(train: number, test: number, firstEpochTrainAtOne: number | null = null): VariantSummary {
  return {
    epochs: 10, finalTrain: train, finalTest: test, finalGap: train - test, tailTrain: train, tailTest: test, bestTest: test,
    firstEpochTrainAtOne, diverged: false, evalPasses: 1,
  };
}

/** Numbers shaped like the lecture's run (plain 1.00/0.756, decay 0.92/0.733, dropout 0.62/0.49, control 1.00/0.762). */
function lectureLike(): Record<Variant, VariantSummary> {
  return {
    plain: summary(1, 0.756, 120),
    'weight-decay': summary(0.92, 0.733),
    dropout: summary(0.62, 0.49),
    'dropout-control': summary(1, 0.762, 110),
  };
}

const verdicts = (s: Partial<Record<Variant, VariantSummary>>) => Object.fromEntries(overfitClaims(s, overfit.profiles.lecture).map((c) => [c.id, c.verdict === 'holds']));

describe('overfit claims', () => {
  it('hold for numbers like the lecture\'s', () => {
    expect(verdicts(lectureLike())).toEqual({
      'plain-overfits': true,
      'weight-decay-narrows-gap': true,
      'dropout-narrows-gap': true,
      'dropout-fits-later': true,
    });
  });

  it('fail when plain does not fit its 300 images or the gap is small', () => {
    expect(verdicts({ plain: summary(299 / 300, 0.7) })['plain-overfits']).toBe(false);
    expect(verdicts({ plain: summary(1, 0.86) })['plain-overfits']).toBe(false); // gap 0.14 <= 0.15
    expect(verdicts({ plain: summary(1, 0.84) })['plain-overfits']).toBe(true); // gap 0.16
  });

  it('fail when weight decay still fits 1.0 or does not narrow the gap', () => {
    const s = lectureLike();
    expect(verdicts({ ...s, 'weight-decay': summary(1, 0.9) })['weight-decay-narrows-gap']).toBe(false);
    expect(verdicts({ ...s, 'weight-decay': summary(0.95, 0.6) })['weight-decay-narrows-gap']).toBe(false); // gap 0.35 > 0.244
  });

  it('fail when dropout does not narrow the gap or fits as early as its control', () => {
    const s = lectureLike();
    expect(verdicts({ ...s, dropout: summary(0.9, 0.5) })['dropout-narrows-gap']).toBe(false);
    expect(verdicts({ ...s, dropout: summary(1, 0.8, 110) })['dropout-fits-later']).toBe(false);
    expect(verdicts({ ...s, dropout: summary(1, 0.8, 150) })['dropout-fits-later']).toBe(true);
    // A control that never fits gives "longer" no meaning: fails.
    expect(verdicts({ ...s, 'dropout-control': summary(0.99, 0.7, null) })['dropout-fits-later']).toBe(false);
  });

  it('leave out a claim whose variants were not run', () => {
    const s = lectureLike();
    expect(Object.keys(verdicts({ plain: s.plain }))).toEqual(['plain-overfits']);
    expect(Object.keys(verdicts({ 'weight-decay': s['weight-decay'] }))).toEqual([]);
    expect(Object.keys(verdicts({ dropout: s.dropout, 'dropout-control': s['dropout-control'] }))).toEqual(['dropout-narrows-gap', 'dropout-fits-later']);
  });

  it('record our numbers beside the lecture\'s', () => {
    const c = overfitClaims(lectureLike(), overfit.profiles.lecture).find((x) => x.id === 'weight-decay-narrows-gap')!;
    expect(c.numbers).toMatchObject({ train: 0.92, test: 0.733, lecture: { train: 0.92, test: 0.733 } });
  });
});

describe('--variant', () => {
  const variants = (value?: string) => configFromFlags<OverfitConfig>(overfit, 'lecture', { variant: value }).variants;

  it('picks one variant or all four', () => {
    expect(variants('all')).toEqual([...VARIANTS]);
    expect(variants(undefined)).toEqual([...VARIANTS]);
    for (const v of VARIANTS) expect(variants(v)).toEqual([v]);
  });

  it('rejects an unknown variant with a user error while the flags are parsed', () => {
    // The flag is checked at parse time (so `all --variant x` fails before any study runs).
    const coerce = studyOptions([overfit]).variant!.coerce as (v: unknown) => string;
    expect(coerce('weight-decay')).toBe('weight-decay');
    expect(() => coerce(['plain', 'dropout'])).toThrow("--variant given twice ('plain', 'dropout'); give it once");
    expect(() => coerce('nope')).toThrow(UserError);
    expect(() => coerce('dropout-0.5')).toThrow(/--variant must be one of plain, weight-decay, dropout, dropout-control, all/);
  });

  it('is declared as a study flag and the lecture profile is the documented scale', () => {
    expect(studyOptions([overfit]).variant!.default).toBe('all');
    const c = overfit.profiles.lecture;
    expect([c.trainSize, c.testSize, c.lr, c.batchSize, c.hidden.length]).toEqual([300, 10000, 0.01, 100, 6]);
    expect(Object.fromEntries(VARIANTS.map((v) => [v, [c.specs[v].epochs, c.specs[v].weightDecay, c.specs[v].dropout]]))).toEqual({
      plain: [201, 0, 0],
      'weight-decay': [201, 0.1, 0],
      dropout: [301, 0, 0.2],
      'dropout-control': [301, 0, 0],
    });
  });
});

/** Softmax cross-entropy of one-hot rows, in float64. */
function crossEntropy(logits: number[][], labels: number[]): number {
  let total = 0;
  logits.forEach((row, i) => {
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((a, z) => a + Math.exp(z - m), 0));
    total += lse - row[labels[i]!]!;
  });
  return total / logits.length;
}

function matrix(t: tf.Tensor): number[][] {
  return t.arraySync() as number[][];
}

describe('weight decay and dropout in the network (real forward passes)', () => {
  it('weight decay adds 0.5*lambda*sum(W^2) to a hand-computed cross-entropy', () => {
    // A 3-4-3 ReLU net small enough to compute by hand.
    const rng = new Rng(11, 'x');
    const x = tf.tensor2d(rng.normalArray(5 * 3), [5, 3]);
    const labels = [0, 2, 1, 1, 0];
    const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 3).toFloat() as tf.Tensor2D;
    const lambda = 0.1;
    const net = new Mlp({ sizes: [3, 4, 3], activation: 'relu', init: 'he', weightDecay: lambda }, new Rng(3, 'init'));
    const [w1, w2] = net.weights.map(matrix) as [number[][], number[][]];
    const xs = matrix(x);
    // Biases are 0 at start: h = relu(x W1), logits = h W2.
    const mul = (a: number[][], b: number[][]) => a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
    const h = mul(xs, w1).map((row) => row.map((v) => Math.max(0, v)));
    const ce = crossEntropy(mul(h, w2), labels);
    const sumSq = [w1, w2].flat(2).reduce((s, v) => s + v * v, 0);
    const byHand = ce + 0.5 * lambda * sumSq;
    const loss = tf.tidy(() => net.loss(x, y, 'eval').dataSync()[0]!);
    expect(loss).toBeCloseTo(byHand, 5);
    expect(0.5 * lambda * sumSq).toBeGreaterThan(0.1); // the term is not negligible in this check
    net.dispose();
    tf.dispose([x, y]);
  });

  it('on the study\'s 7-layer net: decay changes loss by 0.5*lambda*sum(W^2) and gradients by lambda*W; dropout differs between modes', () => {
    const mnist = mnistFrom(resolveMnistDir());
    const batch = toBatch(gatherRows(mnist.train, Array.from({ length: 100 }, (_, i) => i)));
    const sizes = [IMAGE_SIZE, 100, 100, 100, 100, 100, 100, 10];
    const lambda = overfit.profiles.lecture.specs['weight-decay'].weightDecay;
    // Same init stream: identical weights, differing only in the decay term (as plain and weight decay in the study).
    const plain = new Mlp({ sizes, activation: 'relu', init: 'he' }, Rng.stream(0, 'init:decay'));
    const decay = new Mlp({ sizes, activation: 'relu', init: 'he', weightDecay: lambda }, Rng.stream(0, 'init:decay'));
    const sumSq = plain.weights.reduce((s, w) => s + Array.from(w.dataSync()).reduce((a, v) => a + v * v, 0), 0);
    const diff = decay.lossValue(batch.x, batch.y) - plain.lossValue(batch.x, batch.y);
    expect(diff).toBeCloseTo(0.5 * lambda * sumSq, 3);
    // He init: E[sum W^2] = 2 * fan-out per layer, so the term is about 0.05 * 1220 = 61, far above ln 10.
    expect(0.5 * lambda * sumSq).toBeGreaterThan(30);
    const gp = plain.gradients(batch.x, batch.y);
    const gd = decay.gradients(batch.x, batch.y);
    const w0 = plain.weights[0]!.dataSync();
    const d0 = tf.tidy(() => tf.sub(gd.grads[0]!, gp.grads[0]!).dataSync());
    let maxErr = 0;
    for (let i = 0; i < w0.length; i++) maxErr = Math.max(maxErr, Math.abs(d0[i]! - lambda * w0[i]!));
    expect(maxErr).toBeLessThan(1e-5);
    tf.dispose([...gp.grads, ...gd.grads]);

    const ratio = overfit.profiles.lecture.specs.dropout.dropout;
    const drop = new Mlp({ sizes, activation: 'relu', init: 'he', dropout: ratio }, Rng.stream(0, 'init:dropout'));
    const control = new Mlp({ sizes, activation: 'relu', init: 'he' }, Rng.stream(0, 'init:dropout'));
    const logits = (net: Mlp, mode: 'train' | 'eval') => tf.tidy(() => net.logits(batch.x, mode).dataSync());
    const evalA = logits(drop, 'eval');
    expect(logits(drop, 'eval')).toEqual(evalA); // evaluation mode is deterministic
    const trainA = logits(drop, 'train');
    const trainB = logits(drop, 'train');
    const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
    expect(maxAbsDiff(trainA, evalA)).toBeGreaterThan(0.01); // masks in training mode
    expect(maxAbsDiff(trainA, trainB)).toBeGreaterThan(0.01); // a new mask every forward pass
    // Without dropout the two modes are the same network.
    expect(maxAbsDiff(logits(control, 'train'), logits(control, 'eval'))).toBe(0);
    for (const n of [plain, decay, drop, control]) n.dispose();
    disposeBatch(batch);
  });

  it('dropout\'s evaluation mode is the expectation of its training mode (one hidden layer)', () => {
    // With one hidden layer the logits are linear in the masked activations, so the mean over
    // many training-mode passes must approach the evaluation-mode logits (scaled by 1 - ratio).
    const x = tf.tensor2d(new Rng(5, 'x').normalArray(4 * 6), [4, 6]);
    const net = new Mlp({ sizes: [6, 50, 3], activation: 'relu', init: 'he', dropout: 0.2 }, new Rng(6, 'init'));
    const evalLogits = tf.tidy(() => net.logits(x, 'eval').dataSync());
    const n = 2000;
    const sum = new Float64Array(evalLogits.length);
    for (let k = 0; k < n; k++) tf.tidy(() => net.logits(x, 'train').dataSync()).forEach((v, i) => (sum[i]! += v));
    const scale = Math.max(...Array.from(evalLogits, Math.abs));
    for (let i = 0; i < sum.length; i++) expect(Math.abs(sum[i]! / n - evalLogits[i]!)).toBeLessThan(0.05 * scale);
    net.dispose();
    x.dispose();
  });
});

describe('a short real run', () => {
  const tiny: OverfitConfig = {
    ...overfit.profiles.quick,
    testSize: 500,
    specs: {
      plain: { epochs: 4, weightDecay: 0, dropout: 0, pair: 'decay' },
      'weight-decay': { epochs: 4, weightDecay: 0.1, dropout: 0, pair: 'decay' },
      dropout: { epochs: 6, weightDecay: 0, dropout: 0.2, pair: 'dropout' },
      'dropout-control': { epochs: 6, weightDecay: 0, dropout: 0, pair: 'dropout' },
    },
    tail: 2,
  };
  const run = (seed: number, config = tiny) => runInTest(overfit, config, () => mnistFrom(resolveMnistDir()), { seed });

  it('records one train and one test accuracy per epoch for each variant, and frees its tensors', async () => {
    mnistFrom(resolveMnistDir());
    const before = tf.memory().numTensors;
    const r = await run(0);
    expect(tf.memory().numTensors).toBe(before);
    const acc = r.series.accuracy;
    expect(Object.keys(acc)).toEqual([...VARIANTS]);
    for (const v of VARIANTS) {
      expect(acc[v]!.train).toHaveLength(tiny.specs[v].epochs);
      expect(acc[v]!.test).toHaveLength(tiny.specs[v].epochs);
      for (const a of [...acc[v]!.train, ...acc[v]!.test]) expect(a >= 0 && a <= 1).toBe(true);
      // 300 training images: accuracies are multiples of 1/300 (to the 5 decimals recorded).
      for (const a of acc[v]!.train) expect(Math.abs(a * 300 - Math.round(a * 300))).toBeLessThan(0.01);
      const s = r.summary[v]!;
      expect(s.evalPasses).toBe(2 * tiny.specs[v].epochs);
      expect(r.timings![`${v}.msPerEvalPass`]).toBeGreaterThan(0);
    }
    expect(overfit.claims(r, tiny).map((c) => c.id)).toEqual(['plain-overfits', 'weight-decay-narrows-gap', 'dropout-narrows-gap', 'dropout-fits-later']);
  });

  it('gives a variant run alone exactly its numbers in a run of all four, and repeats for a seed', async () => {
    const all = (await run(3)).series.accuracy;
    const again = (await run(3)).series.accuracy;
    expect(again).toEqual(all);
    const alone = (await run(3, { ...tiny, variants: ['dropout'] })).series.accuracy;
    expect(Object.keys(alone)).toEqual(['dropout']);
    expect(alone.dropout).toEqual(all.dropout);
    const other = (await run(4, { ...tiny, variants: ['dropout'] })).series.accuracy;
    expect(other.dropout).not.toEqual(all.dropout);
  });
});
