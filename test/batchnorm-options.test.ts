/**
 * The training-core additions S18 uses, each shown to be what it claims:
 * - a BN net without the bias before batch norm computes what the BN net computes with b = 0
 *   (forward in both modes, loss and every other gradient), and has no b to train;
 * - frozen gamma/beta stay exactly 1 and 0, while every other parameter's first step equals
 *   the learned net's;
 * - the per-layer gradient norms are the norms of the very gradients the step uses;
 * - the probe's per-unit input statistics are those of the layer inputs formed by hand, and
 *   leave the running statistics alone.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { defaultMnistDir, loadMnist } from '../src/data/mnist.js';
import { Mlp, type MlpSpec } from '../src/nn/mlp.js';
import { makeOptimizer } from '../src/optim/optimizers.js';
import { Rng } from '../src/rng.js';
import { disposeBatch, sampleBatch } from '../src/train/batches.js';
import { trainStep } from '../src/train/loop.js';
import { gradientNormsOf, layerGradientNorms, layerInputStatistics } from '../src/train/layer-probes.js';

const train = loadMnist(defaultMnistDir(), { trainLimit: 300, withTest: false }).train;
const SPEC: MlpSpec = { sizes: [784, 20, 16, 10], activation: 'relu', init: 'he', batchNorm: true };
const bitsOf = (t: tf.Tensor) => Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer));

describe('no bias before batch norm', () => {
  it('forward pass, loss and gradients equal the BN net with b = 0; b is not a parameter', () => {
    const before = tf.memory().numTensors;
    const withB = new Mlp(SPEC, new Rng(1, 'init'));
    const noB = new Mlp({ ...SPEC, biasBeforeBatchNorm: false }, new Rng(1, 'init'));
    expect(withB.params().length).toBe(2 * 4 + 2); // per hidden layer W, b, gamma, beta; output W, b
    expect(noB.params().length).toBe(2 * 3 + 2);
    expect(noB.params()).not.toContain(noB.biases[0]);
    expect(noB.params()).toContain(noB.biases[2]); // the output layer keeps its bias
    const batch = sampleBatch(train, 32, new Rng(2, 'batches'));
    // b = 0 (the BN net's start): identical logits in evaluation and training mode.
    for (const mode of ['eval', 'train'] as const) {
      const [a, b] = tf.tidy(() => [bitsOf(withB.logits(batch.x, mode)), bitsOf(noB.logits(batch.x, mode))]);
      expect(b).toEqual(a);
    }
    const g1 = withB.gradients(batch.x, batch.y, batch.xT);
    const g2 = noB.gradients(batch.x, batch.y, batch.xT);
    expect(g2.loss).toBe(g1.loss);
    // The BN net's gradients without its two pre-BN biases are the no-bias net's, bit for bit.
    const kept = g1.grads.filter((_, i) => ![1, 5].includes(i));
    expect(g2.grads.map(bitsOf)).toEqual(kept.map(bitsOf));
    // The pre-BN bias's gradient is zero up to float32 round-off.
    const n = gradientNormsOf(withB, g1.grads);
    expect(n.bias[0]!).toBeLessThan(1e-5 * n.weight[0]!);
    expect(gradientNormsOf(noB, g2.grads).bias).toEqual([null, null, expect.any(Number)]);
    tf.dispose([...g1.grads, ...g2.grads]);
    disposeBatch(batch);
    withB.dispose();
    noB.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is refused without batch norm', () => {
    expect(() => new Mlp({ ...SPEC, batchNorm: false, biasBeforeBatchNorm: false }, new Rng(1, 'init'))).toThrow(/needs batchNorm/);
    expect(() => new Mlp({ ...SPEC, batchNorm: false, batchNormAffine: 'frozen' }, new Rng(1, 'init'))).toThrow(/needs batchNorm/);
  });
});

describe('frozen gamma and beta', () => {
  it('stay 1 and 0 while the other parameters take the learned net\'s first step', () => {
    const before = tf.memory().numTensors;
    const learned = new Mlp(SPEC, new Rng(3, 'init'));
    const frozen = new Mlp({ ...SPEC, batchNormAffine: 'frozen' }, new Rng(3, 'init'));
    expect(frozen.params()).not.toContain(frozen.bn[0]!.gamma);
    const optL = makeOptimizer('sgd', 0.5);
    const optF = makeOptimizer('sgd', 0.5);
    const batches = [1, 2, 3].map((k) => sampleBatch(train, 32, new Rng(k, 'batches')));
    trainStep({ name: 'l', net: learned, optimizer: optL }, batches[0]!);
    trainStep({ name: 'f', net: frozen, optimizer: optF }, batches[0]!);
    // Step one: every parameter the frozen net trains equals the learned net's, bit for bit.
    const trained = (net: Mlp) => net.params().filter((p) => !net.bn.some((b) => b.gamma === p || b.beta === p));
    expect(trained(frozen).map(bitsOf)).toEqual(trained(learned).map(bitsOf));
    // ...while the learned gamma/beta did move.
    expect(learned.bn[0]!.gamma.dataSync().some((g) => g !== 1)).toBe(true);
    for (const b of batches.slice(1)) trainStep({ name: 'f', net: frozen, optimizer: optF }, b);
    for (const bn of frozen.bn) {
      expect(Array.from(bn.gamma.dataSync()).every((g) => g === 1)).toBe(true);
      expect(Array.from(bn.beta.dataSync()).every((b) => b === 0)).toBe(true);
    }
    batches.forEach(disposeBatch);
    for (const [n, o] of [[learned, optL], [frozen, optF]] as const) {
      n.dispose();
      o.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('layer probes', () => {
  it('gradient norms are the norms of the step\'s own gradients', () => {
    const net = new Mlp({ ...SPEC, batchNorm: false }, new Rng(4, 'init'));
    const batch = sampleBatch(train, 32, new Rng(5, 'batches'));
    const before = tf.memory().numTensors;
    const probe = layerGradientNorms(net, batch.x, batch.y);
    expect(tf.memory().numTensors).toBe(before);
    const g = net.gradients(batch.x, batch.y);
    const dW = g.grads.filter((_, i) => i % 2 === 0).map((t) => Math.hypot(...t.dataSync()));
    probe.weight.forEach((v, l) => expect(v).toBeCloseTo(dW[l]!, 5));
    expect(probe.loss).toBe(g.loss);
    tf.dispose(g.grads);
    disposeBatch(batch);
    net.dispose();
  });

  it('per-unit input statistics are those of the layer inputs, with the probe batch\'s own BN statistics, running statistics untouched', () => {
    const net = new Mlp(SPEC, new Rng(6, 'init'));
    const batch = sampleBatch(train, 50, new Rng(7, 'batches'));
    const running = net.bn.map((b) => bitsOf(b.runningMean));
    const before = tf.memory().numTensors;
    const s = layerInputStatistics(net, batch.x);
    expect(tf.memory().numTensors).toBe(before);
    expect(net.bn.map((b) => bitsOf(b.runningMean))).toEqual(running);
    expect(s.mean.map((m) => m.length)).toEqual([20, 16]);
    // By hand: affine, batch norm with the batch's mean and biased variance (gamma 1, beta 0), ReLU.
    const x = Array.from({ length: 50 }, (_, i) => Array.from(batch.x.dataSync().slice(i * 784, (i + 1) * 784)));
    const w = net.weights[0]!.arraySync() as number[][];
    const a = x.map((row) => w[0]!.map((_, j) => row.reduce((sum, v, i) => sum + v * w[i]![j]!, 0)));
    const h = a[0]!.map((_, j) => {
      const col = a.map((r) => r[j]!);
      const mu = col.reduce((p, q) => p + q, 0) / col.length;
      const sd = Math.sqrt(col.reduce((p, q) => p + (q - mu) ** 2, 0) / col.length + 1e-6);
      return col.map((v) => Math.max(0, (v - mu) / sd));
    });
    h.forEach((col, j) => {
      const mu = col.reduce((p, q) => p + q, 0) / col.length;
      const sd = Math.sqrt(col.reduce((p, q) => p + (q - mu) ** 2, 0) / col.length);
      expect(s.mean[0]![j]!).toBeCloseTo(mu, 4);
      expect(s.std[0]![j]!).toBeCloseTo(sd, 4);
    });
    disposeBatch(batch);
    net.dispose();
  });
});
