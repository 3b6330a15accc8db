/**
 * Batch norm at evaluation time (src/nn/batchnorm-eval.ts): each way of choosing the statistics
 * against values worked out by hand on tiny nets, the running averages of other momenta against
 * the net's own (bit for bit) and against the closed form, no tensor left behind, and the S15
 * study at a tiny size on real MNIST.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { IMAGE_SIZE, defaultMnistDir, loadMnist, type MnistSplit } from '../src/data/mnist.js';
import {
  columnMoments,
  populationStatistics,
  RunningAverages,
  runningTensors,
  sameBits,
  statisticsError,
  toMoments,
  withGiven,
  type BnEval,
} from '../src/nn/batchnorm-eval.js';
import { BN_EPS, BN_MOMENTUM, Mlp } from '../src/nn/mlp.js';
import { Sgd } from '../src/optim/optimizers.js';
import { Rng } from '../src/rng.js';
import { sampleBatch, disposeBatch } from '../src/train/batches.js';
import { trainStep } from '../src/train/loop.js';
import { batchnormInference, type BatchnormInferenceConfig } from '../experiments/batchnorm-inference/study.js';
import { runInTest } from './helpers/context.js';

const set = (v: tf.Variable, values: number[][] | number[]) => tf.tidy(() => v.assign(tf.tensor(values, v.shape)));

/**
 * 2 inputs -> 2 hidden units with BN and ReLU -> 2 outputs. W1 = W2 = identity and zero
 * biases, so the logits are the BN layer's output after ReLU; gamma = (2, 1), beta = (0.5, -0.5).
 */
function tinyNet(): Mlp {
  const net = new Mlp({ sizes: [2, 2, 2], activation: 'relu', init: 'he', batchNorm: true }, new Rng(1, 'tiny'));
  set(net.weights[0]!, [[1, 0], [0, 1]]);
  set(net.weights[1]!, [[1, 0], [0, 1]]);
  set(net.bn[0]!.gamma, [2, 1]);
  set(net.bn[0]!.beta, [0.5, -0.5]);
  return net;
}

function logits(net: Mlp, rows: number[][], bnEval?: BnEval): number[][] {
  return tf.tidy(() => net.logits(tf.tensor2d(rows), 'eval', undefined, bnEval).arraySync() as number[][]);
}

/** y = relu(gamma * (x - mean) / sqrt(var + eps) + beta) worked out by hand for x = (1, 2), (3, 6); eps changes it below 1e-6. */
const close = (actual: number[][], expected: number[][]) => actual.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(expected[i]![j]!, 5)));

describe('batch norm evaluation modes, by hand', () => {
  const x = [
    [1, 2],
    [3, 6],
  ];

  it('running statistics (the default): mean (1, 1), variance (4, 9)', () => {
    const net = tinyNet();
    set(net.bn[0]!.runningMean, [1, 1]);
    set(net.bn[0]!.runningVar, [4, 9]);
    // xhat = ((1-1)/2, (2-1)/3) = (0, 1/3) and ((3-1)/2, (6-1)/3) = (1, 5/3);
    // gamma*xhat + beta = (0.5, -1/6) and (2.5, 7/6); ReLU: (0.5, 0) and (2.5, 7/6).
    const expected = [
      [0.5, 0],
      [2.5, 7 / 6],
    ];
    close(logits(net, x), expected);
    close(logits(net, x, { kind: 'running' }), expected);
    net.dispose();
  });

  it('given statistics: mean (2, 4), variance (1, 4)', () => {
    const net = tinyNet();
    // xhat = (-1, -1) and (1, 1); gamma*xhat + beta = (-1.5, -1.5) and (2.5, 0.5); ReLU: (0, 0) and (2.5, 0.5).
    const out = withGiven([{ mean: Float64Array.of(2, 4), variance: Float64Array.of(1, 4) }], (bnEval) => logits(net, x, bnEval));
    close(out, [
      [0, 0],
      [2.5, 0.5],
    ]);
    net.dispose();
  });

  it("the batch's own statistics: one batch of 2, two batches of 2, batches of 1", () => {
    const net = tinyNet();
    // The batch (1, 2), (3, 6) has mean (2, 4) and biased variance (1, 4): the given case above.
    close(logits(net, x, { kind: 'batch', groupSize: 2 }), [
      [0, 0],
      [2.5, 0.5],
    ]);
    // A second batch (0, 0), (2, 2): mean (1, 1), variance (1, 1), xhat again (-1, -1) and (1, 1).
    close(logits(net, [...x, [0, 0], [2, 2]], { kind: 'batch', groupSize: 2 }), [
      [0, 0],
      [2.5, 0.5],
      [0, 0],
      [2.5, 0.5],
    ]);
    // A batch of one image: x - mean = 0 and variance 0, so BN outputs beta = (0.5, -0.5); ReLU: (0.5, 0) for every image.
    const one = logits(net, [...x, [0, 0], [2, 2]], { kind: 'batch', groupSize: 1 });
    expect(one).toEqual([
      [0.5, 0],
      [0.5, 0],
      [0.5, 0],
      [0.5, 0],
    ]);
    // The whole set as one batch: mean (1.5, 2.5), variance (1.25, 4.75).
    const all = logits(net, [...x, [0, 0], [2, 2]], { kind: 'batch', groupSize: 4 });
    const s0 = Math.sqrt(1.25);
    const s1 = Math.sqrt(4.75);
    const relu = (v: number) => Math.max(0, v);
    close(
      all,
      [
        [1, 2],
        [3, 6],
        [0, 0],
        [2, 2],
      ].map(([a, b]) => [relu((2 * (a! - 1.5)) / s0 + 0.5), relu((b! - 2.5) / s1 - 0.5)]),
    );
    expect(() => logits(net, x, { kind: 'batch', groupSize: 3 })).toThrow(/cannot split 2 rows into batches of 3/);
    net.dispose();
  });

  it('given statistics must cover every BN layer', () => {
    const net = tinyNet();
    expect(() => logits(net, x, { kind: 'given', stats: [] })).toThrow(/no batch-norm statistics given for hidden layer 0/);
    net.dispose();
  });
});

describe('population statistics', () => {
  it('column moments in float64: mean, then the biased variance', () => {
    const m = columnMoments([Float32Array.of(1, 2, 3, 6), Float32Array.of(0, 0, 2, 2)], 2);
    expect([...m.mean]).toEqual([1.5, 2.5]);
    expect([...m.variance]).toEqual([1.25, 4.75]);
  });

  /**
   * 784 inputs, of which only the first two pixels reach the first BN layer (W1 picks them);
   * two BN layers with gamma 1 and beta 0; W2 = [[1, 1], [0, 1]], so layer 2's units are
   * h0 and h0 + h1. Four images with pixels (1, 2), (3, 6), (0, 0), (2, 2), in chunks of 3 and 1.
   */
  it('layer by layer, each layer fed by the previous ones normalised with their population statistics', () => {
    const net = new Mlp({ sizes: [IMAGE_SIZE, 2, 2, 2], activation: 'relu', init: 'he', batchNorm: true }, new Rng(2, 'pop'));
    const w1 = new Array(IMAGE_SIZE).fill(0).map(() => [0, 0]);
    w1[0] = [1, 0];
    w1[1] = [0, 1];
    set(net.weights[0]!, w1);
    set(net.weights[1]!, [[1, 1], [0, 1]]);
    const pixels = [
      [1, 2],
      [3, 6],
      [0, 0],
      [2, 2],
    ];
    const images = new Float32Array(pixels.length * IMAGE_SIZE);
    pixels.forEach(([a, b], i) => images.set([a!, b!], i * IMAGE_SIZE));
    const split: MnistSplit = { images, labels: Uint8Array.of(0, 1, 2, 3), count: 4 };
    const before = tf.memory().numTensors;
    const pop = populationStatistics(net, split, 3);
    expect(tf.memory().numTensors).toBe(before);
    // Layer 1: mean (1.5, 2.5), variance (1.25, 4.75), as above.
    expect(pop[0]!.mean[0]).toBeCloseTo(1.5, 12);
    expect(pop[0]!.mean[1]).toBeCloseTo(2.5, 12);
    expect(pop[0]!.variance[0]).toBeCloseTo(1.25, 12);
    expect(pop[0]!.variance[1]).toBeCloseTo(4.75, 12);
    // Layer 1's output, ReLU of the normalised pixels: h0 = (0, 1.5, 0, 0.5) / sqrt(1.25),
    // h1 = (0, 3.5, 0, 0) / sqrt(4.75) (the others are negative). Layer 2's unit 0 is h0:
    // mean 2 / sqrt(1.25) / 4 = 0.5 / sqrt(1.25), mean of squares (2.25 + 0.25) / 1.25 / 4 = 0.5,
    // so variance 0.5 - 0.25 / 1.25 = 0.3. Unit 1 is h0 + h1: only images 2 and 4 are non-zero.
    const e = BN_EPS;
    const a = 1.5 / Math.sqrt(1.25 + e) + 3.5 / Math.sqrt(4.75 + e);
    const b = 0.5 / Math.sqrt(1.25 + e);
    expect(pop[1]!.mean[0]).toBeCloseTo(0.5 / Math.sqrt(1.25), 5);
    expect(pop[1]!.variance[0]).toBeCloseTo(0.3, 5);
    expect(pop[1]!.mean[1]).toBeCloseTo((a + b) / 4, 5);
    expect(pop[1]!.variance[1]).toBeCloseTo((a * a + b * b) / 4 - ((a + b) / 4) ** 2, 5);
    // With its own population statistics a set is normalised as one batch of all of it is.
    const x = tf.tensor2d(images, [4, IMAGE_SIZE]);
    const viaPopulation = withGiven(pop, (bnEval) => tf.tidy(() => net.logits(x, 'eval', undefined, bnEval).arraySync() as number[][]));
    const viaBatch = tf.tidy(() => net.logits(x, 'eval', undefined, { kind: 'batch', groupSize: 4 }).arraySync() as number[][]);
    close(viaPopulation, viaBatch);
    x.dispose();
    net.dispose();
  });
});

describe('running averages of several momenta from one training run', () => {
  it('follow the closed form m*running + (1-m)*stat from 0', () => {
    const tracker = new RunningAverages([0.5, 0.99], [1]);
    const stat = (v: number) => tf.tensor1d([v]);
    const [two, four, one] = [stat(2), stat(4), stat(1)];
    tracker.observe(0, two, four);
    // m = 0.5: 0.5*0 + 0.5*2 = 1, variance 2; a second step: 0.5*1 + 0.5*2 = 1.5, variance 3.
    tracker.observe(0, two, four);
    const half = toMoments(tracker.tensors(0.5))[0]!;
    expect(half.mean[0]).toBe(1.5);
    expect(half.variance[0]).toBe(3);
    // m = 0.99 after 100 steps of a constant 1: 1 - 0.99^100 = 0.634 (the start at 0 still weighs 0.366).
    const t99 = new RunningAverages([0.99], [1]);
    for (let i = 0; i < 100; i++) t99.observe(0, one, one);
    expect(toMoments(t99.tensors(0.99))[0]!.mean[0]).toBeCloseTo(1 - 0.99 ** 100, 5);
    tf.dispose([two, four, one]);
    tracker.dispose();
    t99.dispose();
    expect(() => new RunningAverages([1], [1])).toThrow(/momentum must be in \[0, 1\)/);
  });

  it("momentum 0.9 tracked from the batches equals the net's own running statistics bit for bit, and tracking leaves training unchanged", () => {
    const rngData = new Rng(3, 'data');
    const n = 64;
    const split: MnistSplit = { images: Float32Array.from({ length: n * IMAGE_SIZE }, () => rngData.uniform()), labels: Uint8Array.from({ length: n }, () => rngData.int(10)), count: n };
    const spec = { sizes: [IMAGE_SIZE, 20, 20, 10], activation: 'relu' as const, init: 'he' as const, batchNorm: true };
    const tracked = new Mlp(spec, new Rng(4, 'init'));
    const plain = new Mlp(spec, new Rng(4, 'init'));
    const tracker = new RunningAverages([0.5, BN_MOMENTUM, 0.99], [20, 20]);
    tracker.attach(tracked);
    const trainees = [
      { name: 'tracked', net: tracked, optimizer: new Sgd(0.1) },
      { name: 'plain', net: plain, optimizer: new Sgd(0.1) },
    ];
    const batches = new Rng(5, 'batches');
    let start = 0;
    for (let i = 0; i < 30; i++) {
      const batch = sampleBatch(split, 16, batches);
      for (const t of trainees) trainStep(t, batch);
      disposeBatch(batch);
      if (i === 0) start = tf.memory().numTensors;
    }
    // No tensor left behind by the tracker over the steps.
    expect(tf.memory().numTensors).toBe(start);
    expect(sameBits(tracker.tensors(BN_MOMENTUM), runningTensors(tracked))).toBe(true);
    expect(sameBits(tracker.tensors(0.5), runningTensors(tracked))).toBe(false);
    // The tracked net trained exactly as the untracked one.
    tracked.params().forEach((p, i) => expect(Array.from(p.dataSync())).toEqual(Array.from(plain.params()[i]!.dataSync())));
    expect(sameBits(runningTensors(plain), runningTensors(tracked))).toBe(true);
    for (const t of trainees) {
      t.net.dispose();
      t.optimizer.dispose();
    }
    tracker.dispose();
  });

  it('statistics error: mean error in reference stds, scale error of the std', () => {
    const err = statisticsError([{ mean: Float64Array.of(1, 0), variance: Float64Array.of(3, 4) }], [{ mean: Float64Array.of(0, 0), variance: Float64Array.of(4, 4) }], 0);
    // Unit 0: |1 - 0| / 2 = 0.5 and |sqrt(3/4) - 1| = 0.13397; unit 1: 0 and 0. Averages over the two units.
    expect(err.mean).toBeCloseTo(0.25, 12);
    expect(err.scale).toBeCloseTo((1 - Math.sqrt(0.75)) / 2, 12);
  });
});

describe('S15 batchnorm-inference at a tiny size (real MNIST)', () => {
  const mnist = loadMnist(defaultMnistDir(), { trainLimit: 2000, testLimit: 1000 });
  const config: BatchnormInferenceConfig = {
    ...batchnormInference.profiles.quick,
    trainSize: 2000,
    iterations: 40,
    early: 10,
    testSize: 1000,
    testBatchSizes: [1000, 100, 10, 1],
  };

  it('measures every method at both checkpoints, leaves no tensor behind, and checks its claims', async () => {
    const before = tf.memory().numTensors;
    const run = await runInTest(batchnormInference, config, () => mnist);
    expect(tf.memory().numTensors).toBe(before);
    const { early, final } = run.summary;
    expect([early.iteration, final.iteration]).toEqual([10, 40]);
    for (const c of [early, final]) {
      expect(c.trackedMatchesSuite).toBe(true);
      expect(c.momentum['0.9']).toBe(c.running);
      expect(Object.keys(c.momentum).sort()).toEqual(['0.5', '0.9', '0.99']);
      expect(Object.keys(c.testBatch).sort()).toEqual(['1', '10', '100', '1000']);
      // A batch of one: every image gets beta's logits, so one class.
      expect(c.classesAtBatchOne).toBe(1);
      for (const v of [c.population, c.running, ...Object.values(c.testBatch)]) expect(v * 1000).toBe(Math.round(v * 1000));
    }
    expect(run.series.loss.bn).toHaveLength(40);
    const claims = batchnormInference.claims(run, config);
    expect(claims.map((c) => c.id)).toEqual(['running-near-population', 'test-batch-degrades', 'batch-one-chance', 'high-momentum-lags']);
    expect(Object.keys(batchnormInference.keyNumbers(run, config))).toContain('final.testBatch 1.testAccuracy');
  });

  it('refuses test batch sizes that do not divide the test set, and momenta without 0.9', () => {
    const schema = batchnormInference.configSchema;
    expect(schema.safeParse({ ...config, testBatchSizes: [3] }).success).toBe(false);
    expect(schema.safeParse({ ...config, momenta: [0.5, 0.99] }).success).toBe(false);
    expect(schema.safeParse({ ...config, early: 40 }).success).toBe(false);
    expect(schema.safeParse(config).success).toBe(true);
  });
});
