import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { HOMOGENEITY_NOTE, dropoutEnsembleClaims, type DropoutEnsembleConfig, type DropoutEnsembleSeries, type Evaluation, type McNetSeries } from '../experiments/dropout-ensemble/study.js';
import { dropoutEnsemble } from '../experiments/dropout-ensemble/study.js';
import { MaskStream, argMaxRows, crossEntropyOf, logitsWith, monteCarloProbabilities, predictWith, probabilitiesWith, scaled, unscaled, type LayerMultiplier } from '../src/nn/mc-dropout.js';
import { Mlp, type MlpSpec } from '../src/nn/mlp.js';
import { makeOptimizer } from '../src/optim/optimizers.js';
import { Rng } from '../src/rng.js';

const bits = (t: tf.Tensor): number[] => Array.from(new Uint32Array(new Float32Array(t.dataSync()).buffer));
const floatBits = (a: Float32Array): number[] => Array.from(new Uint32Array(new Float32Array(a).buffer));

function data(rows: number, cols: number, seed: number): tf.Tensor2D {
  const rng = new Rng(seed, 'data');
  return tf.tensor2d(Float32Array.from({ length: rows * cols }, () => rng.uniform()), [rows, cols]);
}

/** A small net trained for a few steps, so its biases are not 0. */
function trained(spec: Omit<MlpSpec, 'sizes'>, seed = 3): Mlp {
  const net = new Mlp({ sizes: [20, 16, 12, 10], ...spec }, new Rng(seed, 'init'));
  const opt = makeOptimizer('sgd', 0.1);
  const x = data(32, 20, seed);
  const labels = Array.from({ length: 32 }, (_, i) => i % 10);
  const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 10).toFloat() as tf.Tensor2D;
  for (let i = 0; i < 5; i++) {
    const { grads } = net.gradients(x, y);
    opt.update(net.params(), grads);
    tf.dispose(grads);
  }
  tf.dispose([x, y]);
  opt.dispose();
  return net;
}

describe('test-time dropout (src/nn/mc-dropout.ts)', () => {
  it('the scaled full net is the net as the suite evaluates it, bit for bit (ReLU fused, tanh not)', () => {
    for (const activation of ['relu', 'tanh', 'sigmoid'] as const) {
      const net = trained({ activation, init: 'he', dropout: 0.3 });
      const x = data(40, 20, 9);
      const ours = tf.tidy(() => bits(logitsWith(net, x, scaled(net))));
      const suite = tf.tidy(() => bits(net.logits(x, 'eval')));
      expect(ours).toEqual(suite);
      expect(Array.from(predictWith(net, x, scaled(net)))).toEqual(Array.from(net.predict(x)));
      // A mask tensor holding the keep probability everywhere gives the same bits as the number.
      const keep: LayerMultiplier = (_l, r, c) => tf.fill([r, c], 1 - 0.3) as tf.Tensor2D;
      expect(tf.tidy(() => bits(logitsWith(net, x, keep)))).toEqual(suite);
      net.dispose();
      x.dispose();
    }
  });

  it('the unscaled full net is the same weights with no dropout at all, and a p = 0 net is its own scaled net', () => {
    const spec = { activation: 'relu' as const, init: 'he' as const, dropout: 0.4 };
    const net = trained(spec);
    // Same init stream: the same initial weights; then the trained weights copied over.
    const twin = new Mlp({ sizes: [20, 16, 12, 10], ...spec, dropout: 0 }, new Rng(3, 'init'));
    twin.params().forEach((p, i) => p.assign(net.params()[i]!));
    const x = data(40, 20, 11);
    const noDropout = tf.tidy(() => bits(twin.logits(x, 'eval')));
    expect(tf.tidy(() => bits(logitsWith(net, x, unscaled)))).toEqual(noDropout);
    expect(tf.tidy(() => bits(logitsWith(twin, x, scaled(twin))))).toEqual(noDropout);
    // Scaling does change the logits of a net with dropout.
    expect(tf.tidy(() => bits(logitsWith(net, x, scaled(net))))).not.toEqual(noDropout);
    net.dispose();
    twin.dispose();
    x.dispose();
  });

  it('Monte-Carlo with one all-ones mask is the unscaled full net', () => {
    const net = trained({ activation: 'relu', init: 'he', dropout: 0.5 });
    const x = data(30, 20, 5);
    const ones = new MaskStream(0, 'ones', 0);
    const mc = monteCarloProbabilities(net, x, ones, [1]).get(1)!;
    expect(floatBits(mc)).toEqual(floatBits(probabilitiesWith(net, x, unscaled)));
    net.dispose();
    x.dispose();
  });

  it('averages the softmax over the first K passes, each with fresh masks from the named stream', () => {
    const net = trained({ activation: 'relu', init: 'he', dropout: 0.5 });
    const x = data(30, 20, 6);
    const avg = monteCarloProbabilities(net, x, new MaskStream(7, 'mc', 0.5), [1, 2]);
    const again = new MaskStream(7, 'mc', 0.5);
    const p1 = probabilitiesWith(net, x, again.multiplier());
    const p2 = probabilitiesWith(net, x, again.multiplier());
    expect(floatBits(avg.get(1)!)).toEqual(floatBits(p1));
    const mean = Float32Array.from(p1, (v, i) => (v + p2[i]!) / 2);
    expect(floatBits(avg.get(2)!)).toEqual(floatBits(mean));
    // A random mask changes the prediction of some rows relative to the full net.
    expect(floatBits(p1)).not.toEqual(floatBits(probabilitiesWith(net, x, scaled(net))));
    expect(() => monteCarloProbabilities(net, x, new MaskStream(7, 'mc', 0.5), [2, 1])).toThrow(/ascending/);
    net.dispose();
    x.dispose();
  });

  it('masks: the same (seed, name) gives the same masks, another name other masks, each unit kept with probability 1 - r', () => {
    const a = new MaskStream(0, 'mc-masks:x', 0.2).next(100, 1000);
    const b = new MaskStream(0, 'mc-masks:x', 0.2).next(100, 1000);
    const c = new MaskStream(0, 'mc-masks:y', 0.2).next(100, 1000);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    expect(new Set(a)).toEqual(new Set([0, 1]));
    const kept = a.reduce((s, v) => s + v, 0) / a.length;
    expect(Math.abs(kept - 0.8)).toBeLessThan(0.005);
    expect(() => new MaskStream(0, 'x', 1)).toThrow(/ratio/);
  });

  it('a ReLU net without biases predicts the same class scaled and unscaled (the homogeneity the claims cite)', () => {
    const net = trained({ activation: 'relu', init: 'he', dropout: 0.5 });
    for (const b of net.biases) b.assign(tf.zerosLike(b));
    const x = data(200, 20, 8);
    expect(Array.from(predictWith(net, x, unscaled))).toEqual(Array.from(predictWith(net, x, scaled(net))));
    net.dispose();
    x.dispose();
  });

  it('rejects a batch-norm net, and leaves no tensor behind', () => {
    const bn = new Mlp({ sizes: [20, 8, 10], activation: 'relu', init: 'he', batchNorm: true, dropout: 0.2 }, new Rng(1, 'i'));
    const x = data(4, 20, 1);
    expect(() => tf.tidy(() => logitsWith(bn, x, unscaled))).toThrow(/batch norm/);
    bn.dispose();
    const net = trained({ activation: 'relu', init: 'he', dropout: 0.5 });
    const before = tf.memory().numTensors;
    monteCarloProbabilities(net, x, new MaskStream(1, 'm', 0.5), [1, 3]);
    predictWith(net, x, scaled(net));
    probabilitiesWith(net, x, unscaled);
    expect(tf.memory().numTensors).toBe(before);
    net.dispose();
    x.dispose();
  });

  it('arg-max and cross-entropy of row-major probabilities', () => {
    const p = new Float32Array([0.1, 0.7, 0.2, 0.5, 0.5, 0]);
    expect(Array.from(argMaxRows(p, 3))).toEqual([1, 0]);
    expect(crossEntropyOf(p, new Uint8Array([1, 2]), 3)).toBeCloseTo((-Math.log(Math.fround(0.7)) - Math.log(1e-12)) / 2, 10);
  });
});

describe('S19 claims', () => {
  const config = dropoutEnsemble.profiles.quick as DropoutEnsembleConfig;
  const ev = (accuracy: number, onlyThis: number, onlyScaled: number): Evaluation => ({ accuracy, loss: 1, onlyThis, onlyScaled });
  const net = (unscaledEval: Evaluation, mc: Evaluation[]): McNetSeries => ({
    ratio: 0.5,
    dropoutLayers: 4,
    trainAccuracy: 0.9,
    scaled: ev(0.9, 0, 0),
    unscaled: unscaledEval,
    unscaledChangedShare: 0.01,
    ks: config.mc.ks,
    mc,
  });

  it('judges each net by McNemar against the scaled net, and says why an unscaled ReLU net may not differ', () => {
    const mc = [ev(0.8, 5, 55), ev(0.85, 5, 30), ev(0.87, 5, 20), ev(0.88, 5, 15), ev(0.9, 6, 6)];
    const series: DropoutEnsembleSeries = { mc: { 'five-layer': net(ev(0.9, 3, 3), mc) }, larger: {} };
    const claims = dropoutEnsembleClaims(series, { mc: {}, larger: {}, dropoutVsDecay: null }, config);
    const by = Object.fromEntries(claims.map((c) => [c.id, c]));
    expect(by['unscaled-worse-five-layer']!.verdict).toBe('inconclusive');
    expect(by['unscaled-worse-five-layer']!.reason).toContain(HOMOGENEITY_NOTE);
    expect(by['one-mask-worse-five-layer']!.verdict).toBe('holds');
    expect(by['mc-approaches-scaled-five-layer']!.verdict).toBe('holds');
    // The largest K really below the scaled net: the claim fails.
    const far = [...mc.slice(0, 4), ev(0.86, 2, 42)];
    const failing = dropoutEnsembleClaims({ mc: { 'five-layer': net(ev(0.8, 0, 100), far) }, larger: {} }, { mc: {}, larger: {}, dropoutVsDecay: null }, config);
    const f = Object.fromEntries(failing.map((c) => [c.id, c]));
    expect(f['mc-approaches-scaled-five-layer']!.verdict).toBe('FAILS');
    expect(f['unscaled-worse-five-layer']!.verdict).toBe('holds');
  });

  it('dropout at least weight decay: only a real difference the other way fails it', () => {
    const larger = (d: number, w: number) => ({ dropout: { finalTrain: 0.9, finalTest: d, finalGap: 0.9 - d, bestTest: d }, 'weight-decay': { finalTrain: 0.9, finalTest: w, finalGap: 0.9 - w, bestTest: w } });
    const judge = (d: number, w: number, dropoutOnly: number, decayOnly: number) =>
      dropoutEnsembleClaims({ mc: {}, larger: {} }, { mc: {}, larger: larger(d, w), dropoutVsDecay: { dropoutOnly, decayOnly } }, config)[0]!.verdict;
    expect(judge(0.7, 0.71, 10, 13)).toBe('holds');
    expect(judge(0.6, 0.7, 5, 35)).toBe('FAILS');
    expect(judge(0.1, 0.7, 5, 35)).toBe('inconclusive');
  });
});
