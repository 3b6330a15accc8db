import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { syntheticSplit } from './helpers/synthetic.js';
import { Mlp } from '../src/nn/mlp.js';
import { OPTIMIZER_NAMES, makeOptimizer } from '../src/optim/optimizers.js';
import { Rng } from '../src/rng.js';
import { trainEpochs, trainIterations, type Trainee } from '../src/train/loop.js';
import { toBatch } from '../src/train/batches.js';

function trainees(seed: number, spec: Partial<ConstructorParameters<typeof Mlp>[0]> = {}): Trainee[] {
  return OPTIMIZER_NAMES.map((name) => ({
    name,
    net: new Mlp({ sizes: [784, 32, 32, 10], activation: 'relu', init: 'he', ...spec }, Rng.stream(seed, `init:${name}`)),
    optimizer: makeOptimizer(name, name === 'adam' ? 0.001 : 0.01),
  }));
}

function disposeAll(ts: Trainee[]): void {
  for (const t of ts) {
    t.net.dispose();
    t.optimizer.dispose();
  }
}

const data = syntheticSplit(512, 1);

describe('training core', () => {
  it('keeps tf.memory().numTensors flat over 1000 training steps (BN, dropout, weight decay, every optimizer)', () => {
    const ts = trainees(0, { batchNorm: true, dropout: 0.2, weightDecay: 0.01, sizes: [784, 16, 16, 10] });
    const rng = new Rng(0, 'batches');
    // warm-up: optimizer state is created on the first update
    trainIterations({ trainees: ts, train: data, batchSize: 16, iterations: 2, rng });
    const before = tf.memory().numTensors;
    const steps = Math.ceil(1000 / ts.length);
    trainIterations({ trainees: ts, train: data, batchSize: 16, iterations: steps, rng });
    expect(tf.memory().numTensors).toBe(before);
    disposeAll(ts);
  });

  it('learns: the loss falls well below ln 10 on a learnable task', () => {
    const ts = trainees(0).filter((t) => t.name === 'adam');
    const run = trainIterations({ trainees: ts, train: data, batchSize: 32, iterations: 150, rng: new Rng(0, 'b') });
    const loss = run.loss.adam!;
    expect(loss[0]!).toBeGreaterThan(1.5);
    expect(loss[149]!).toBeLessThan(0.3);
    disposeAll(ts);
  });

  it('gives identical numbers for the same seed on the same backend', () => {
    const once = () => {
      const ts = trainees(5, { dropout: 0.1, batchNorm: true });
      const run = trainIterations({ trainees: ts, train: data, batchSize: 16, iterations: 20, rng: new Rng(5, 'batches') });
      disposeAll(ts);
      return run.loss;
    };
    const a = once();
    expect(once()).toEqual(a);
    const ts = trainees(6, { dropout: 0.1, batchNorm: true });
    const other = trainIterations({ trainees: ts, train: data, batchSize: 16, iterations: 20, rng: new Rng(6, 'batches') });
    disposeAll(ts);
    expect(other.loss).not.toEqual(a);
  });

  it('records a divergence (NaN loss) and keeps training the other networks', () => {
    const ts = trainees(0).filter((t) => t.name === 'sgd' || t.name === 'adam');
    ts[0]!.optimizer.dispose();
    ts[0]!.optimizer = makeOptimizer('sgd', 1e6);
    const latest: Record<string, number>[] = [];
    const run = trainIterations({ trainees: ts, train: data, batchSize: 16, iterations: 30, rng: new Rng(0, 'b'), onIteration: (_i, l) => latest.push(l) });
    expect(run.divergedAt.sgd).not.toBeNull();
    // What a progress display streams: each iteration's losses as recorded, a diverged net left out.
    expect(latest.map((l) => l.adam)).toEqual(run.loss.adam);
    expect(latest.map((l) => l.sgd ?? null)).toEqual(run.loss.sgd);
    expect(run.divergedAt.adam).toBeNull();
    const at = run.divergedAt.sgd!.iteration;
    expect(run.loss.sgd!.slice(at)).toEqual(new Array(30 - at).fill(null));
    expect(run.loss.adam!.every((x) => x !== null && Number.isFinite(x))).toBe(true);
    disposeAll(ts);
  });

  it('epoch loop: E epochs give E evaluations, the first after one update', () => {
    const ts = trainees(0).filter((t) => t.name === 'sgd');
    const evalSet = toBatch(data);
    const run = trainEpochs({ trainees: ts, train: data, batchSize: 128, epochs: 3, rng: new Rng(0, 'b'), evalSets: { train: evalSet } });
    expect(run.iterationsPerEpoch).toBe(4);
    expect(run.accuracy.sgd!.train).toHaveLength(3);
    for (const a of run.accuracy.sgd!.train!) expect(a).toBeGreaterThanOrEqual(0);
    tf.dispose([evalSet.x, evalSet.y]);
    disposeAll(ts);
  });

  it('weight decay adds 0.5*lambda*sum(W^2) to the loss', () => {
    const plain = new Mlp({ sizes: [784, 8, 10], activation: 'relu', init: 'he' }, new Rng(1));
    const decayed = new Mlp({ sizes: [784, 8, 10], activation: 'relu', init: 'he', weightDecay: 0.1 }, new Rng(1));
    const b = toBatch({ ...data, count: 8, images: data.images.subarray(0, 8 * 784), labels: data.labels.subarray(0, 8) });
    const sumSq = plain.weights.reduce((acc, w) => acc + (w.dataSync() as Float32Array).reduce((a, x) => a + x * x, 0), 0);
    expect(decayed.lossValue(b.x, b.y) - plain.lossValue(b.x, b.y)).toBeCloseTo(0.05 * sumSq, 4);
    tf.dispose([b.x, b.y]);
    plain.dispose();
    decayed.dispose();
  });
});
