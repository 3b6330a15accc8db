/**
 * Preprocessing (src/data/preprocess.ts) against values worked out by hand, and the proof that
 * S14's test set never feeds the statistics: changing every test image changes neither the
 * statistics, nor any loss of the training, nor a bit of the trained weights.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { curvesOf } from './helpers/curves.js';
import { dataPreprocessing, trainPreprocessing, type DataPreprocessingConfig, type DataPreprocessingSummary } from '../experiments/data-preprocessing/study.js';
import { defaultMnistDir, loadMnist, type Mnist, type MnistSplit } from '../src/data/mnist.js';
import { fitPreprocessing, maxAbs, pixelStats } from '../src/data/preprocess.js';
import { Mlp } from '../src/nn/mlp.js';
import { testContext } from './helpers/context.js';

const split = (rows: number[][]): MnistSplit => ({ images: Float32Array.from(rows.flat()), labels: new Uint8Array(rows.length), count: rows.length });

// Three training images of four pixels; pixel 0 and pixel 2 never vary.
const TRAIN = split([
  [0, 1, 0.5, 0],
  [0, 0, 0.5, 0.2],
  [0, 0.5, 0.5, 0.4],
]);
// per-pixel mean [0, 0.5, 0.5, 0.2]; population std [0, sqrt(1/6), 0, sqrt(0.08/3)]
const STD1 = Math.sqrt(1 / 6);
const STD3 = Math.sqrt(0.08 / 3);

function close(actual: Float32Array, expected: number[]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => expect(a).toBeCloseTo(expected[i]!, 6));
}

describe('preprocessing (training statistics only)', () => {
  it('per-pixel mean and population std, worked by hand', () => {
    const s = pixelStats(TRAIN);
    expect(s.count).toBe(3);
    close(s.mean, [0, 0.5, 0.5, 0.2]);
    close(s.std, [0, STD1, 0, STD3]);
  });

  it('raw leaves the images alone; zero-centred subtracts the mean image', () => {
    const raw = fitPreprocessing('raw', TRAIN);
    expect(raw.apply(TRAIN)).toBe(TRAIN);
    expect(raw.stats).toBeNull();
    const c = fitPreprocessing('zero-centred', TRAIN).apply(TRAIN);
    close(c.images, [0, 0.5, 0, -0.2, 0, -0.5, 0, 0, 0, 0, 0, 0.2]);
    expect(c.labels).toBe(TRAIN.labels);
  });

  it('standardized divides by the std, and by 1 where the std is 0 (two guarded pixels here)', () => {
    const p = fitPreprocessing('standardized', TRAIN);
    expect(p.guardedPixels).toBe(2);
    close(p.apply(TRAIN).images, [0, 0.5 / STD1, 0, -0.2 / STD3, 0, -0.5 / STD1, 0, 0, 0, 0, 0, 0.2 / STD3]);
    // A test image lit where every training image is dark keeps its plain offset from the mean.
    const test = split([[1, 0, 0.5, 0.2]]);
    close(p.apply(test).images, [1, -0.5 / STD1, 0, 0]);
    expect(maxAbs(p.apply(test))).toBeCloseTo(0.5 / STD1, 6);
  });

  it('applying the transform to other images never changes its statistics', () => {
    const p = fitPreprocessing('standardized', TRAIN);
    const mean = Float32Array.from(p.stats!.mean);
    const std = Float32Array.from(p.stats!.std);
    p.apply(split([[9, 9, 9, 9], [-3, 0, 7, 1]]));
    expect(p.stats!.mean).toEqual(mean);
    expect(p.stats!.std).toEqual(std);
  });

  it('refuses images of another size than it was fitted on', () => {
    const p = fitPreprocessing('zero-centred', TRAIN);
    expect(() => p.apply(split([[1, 2, 3]]))).toThrow(/4 pixels/);
  });
});

describe('S14: the test set never feeds the statistics or the training', () => {
  afterEach(() => vi.restoreAllMocks());

  const real = loadMnist(defaultMnistDir(), { trainLimit: 300, testLimit: 100 });
  // The same training images; every test image replaced by its negative plus a bright frame.
  const changedTest: MnistSplit = { ...real.test, images: real.test.images.map((v, i) => 1 - v + (i % 28 === 0 ? 5 : 0)) };
  const config: DataPreprocessingConfig = { ...dataPreprocessing.profiles.quick, trainSize: 300, hidden: [16], batchSize: 32, iterations: 8, tail: 4 };

  /** Trains one preprocessing on `mnist`; returns what it recorded and every trained weight's bits. */
  function trainOn(mnist: Mnist, p: 'zero-centred' | 'standardized') {
    const weights: number[][] = [];
    const dispose = Mlp.prototype.dispose;
    // Catch the weights as trainOnSameBatches frees the trained nets.
    vi.spyOn(Mlp.prototype, 'dispose').mockImplementation(function (this: Mlp) {
      weights.push(...this.weights.map((w) => Array.from(new Uint32Array(Float32Array.from(w.dataSync()).buffer))));
      dispose.call(this);
    });
    const t = testContext({ study: dataPreprocessing, config, mnist: () => mnist });
    const out = trainPreprocessing(config, p, mnist, t.ctx);
    t.close();
    vi.restoreAllMocks();
    return { ...out, weights };
  }

  for (const p of ['zero-centred', 'standardized'] as const) {
    it(`${p}: same statistics, losses and weight bits with other test images; only the test accuracy may move`, () => {
      const before = tf.memory().numTensors;
      const a = trainOn(real, p);
      const b = trainOn({ ...real, test: changedTest }, p);
      expect(tf.memory().numTensors).toBe(before);
      expect(b.stats!.mean).toEqual(a.stats!.mean);
      expect(b.stats!.std).toEqual(a.stats!.std);
      expect(b.stats!.count).toBe(300);
      expect(b.run.loss).toEqual(a.run.loss);
      expect(a.weights.length).toBe(2 * config.nets.length);
      expect(b.weights).toEqual(a.weights);
      expect(b.input.maxAbsTrain).toBe(a.input.maxAbsTrain);
      // The test images were really transformed and used (for evaluation only): they differ.
      expect(b.input.maxAbsTest).not.toBe(a.input.maxAbsTest);
    });
  }

  it('the statistics are those of the training images the nets train on (trainSize), not of all of MNIST', () => {
    const t = testContext({ study: dataPreprocessing, config, mnist: () => real });
    const { stats } = trainPreprocessing({ ...config, trainSize: 200, iterations: 1, tail: 1 }, 'zero-centred', real, t.ctx);
    t.close();
    expect(stats!.count).toBe(200);
    expect(stats!.mean).toEqual(pixelStats({ ...real.train, images: real.train.images.subarray(0, 200 * 784), count: 200 }).mean);
  });
});

describe('S14 claims', () => {
  const row = (activation: 'relu' | 'sigmoid', preprocessing: 'raw' | 'zero-centred' | 'standardized', finalLoss: number | null) => ({ activation, preprocessing, finalLoss, testAccuracy: 0.9, diverged: finalLoss === null });
  const claims = (rows: ReturnType<typeof row>[]) => {
    const nets = Object.fromEntries(rows.map((r) => [`${r.activation}/${r.preprocessing}`, r]));
    const summary: DataPreprocessingSummary = { nets, inputs: {} };
    return Object.fromEntries(dataPreprocessing.claims({ series: { loss: curvesOf(nets), divergedAt: {}, nets: {} }, summary }, dataPreprocessing.profiles.lecture).map((c) => [c.id, c.verdict]));
  };

  it('hold per activation when zero-centred ends lower for real, fail when it ends higher, and cannot decide when equal or a net did not learn', () => {
    expect(claims([row('relu', 'raw', 0.3), row('relu', 'zero-centred', 0.25), row('sigmoid', 'raw', 1.2), row('sigmoid', 'zero-centred', 1.1)])).toEqual({
      'zero-centred-below-raw-relu': 'holds',
      'zero-centred-below-raw-sigmoid': 'holds',
    });
    expect(claims([row('relu', 'raw', 0.3), row('relu', 'zero-centred', 0.3), row('sigmoid', 'raw', 2.3), row('sigmoid', 'zero-centred', 2.2)])).toEqual({
      'zero-centred-below-raw-relu': 'inconclusive',
      'zero-centred-below-raw-sigmoid': 'inconclusive',
    });
    expect(claims([row('relu', 'raw', 0.3), row('relu', 'zero-centred', 0.35), row('sigmoid', 'raw', 1.2), row('sigmoid', 'zero-centred', null)])).toEqual({
      'zero-centred-below-raw-relu': 'FAILS',
      'zero-centred-below-raw-sigmoid': 'inconclusive',
    });
  });
});
