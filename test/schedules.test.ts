/**
 * The training core's schedule, checkpoint, parameter-average and ensemble pieces, against
 * values computed by hand; a constant schedule against a fixed rate, bit for bit; and no
 * tensor leaked over 1000 steps with all of them at work.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { syntheticSplit } from './helpers/synthetic.js';
import { Mlp } from '../src/nn/mlp.js';
import { OPTIMIZER_NAMES, makeOptimizer, type OptimizerName } from '../src/optim/optimizers.js';
import { describeSchedule, lrScheduleSchema, rateAt, scheduleFn, type LrSchedule } from '../src/optim/schedules.js';
import { Rng } from '../src/rng.js';
import { ParamAverage, disposeCheckpoint, loadCheckpoint, takeCheckpoint } from '../src/train/averaging.js';
import { toBatch } from '../src/train/batches.js';
import { averagedPrediction, decodeFloats, encodeFloats, ensembleAccuracy, probabilities } from '../src/train/ensemble.js';
import { trainEpochs, trainIterations, type Trainee } from '../src/train/loop.js';

const data = syntheticSplit(256, 3);
const bits = (t: tf.Tensor) => Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer));
const smallNet = (seed: number, spec: Partial<ConstructorParameters<typeof Mlp>[0]> = {}) =>
  new Mlp({ sizes: [784, 16, 12, 10], activation: 'relu', init: 'he', ...spec }, Rng.stream(seed, 'init'));

describe('learning-rate schedules', () => {
  it('give the notes\' formulas at hand-computed times', () => {
    const step: LrSchedule = { kind: 'step', unit: 'iteration', every: 2, factor: 0.5 };
    expect([0, 1, 2, 3, 4, 5].map((t) => rateAt(step, 0.1, t))).toEqual([0.1, 0.1, 0.05, 0.05, 0.025, 0.025]);
    expect(rateAt({ kind: 'exponential', unit: 'iteration', k: 0.5 }, 0.1, 2)).toBeCloseTo(0.1 / Math.E, 15); // 0.0367879
    expect(rateAt({ kind: 'inverse-time', unit: 'iteration', k: 0.5 }, 0.1, 2)).toBeCloseTo(0.05, 15); // 0.1 / (1 + 1)
    expect(rateAt({ kind: 'exponential', unit: 'iteration', k: 0 }, 0.1, 1000)).toBe(0.1);
    expect(rateAt({ kind: 'constant' }, 0.1, 12345)).toBe(0.1);
  });

  it('count epochs as whole epochs done before the iteration', () => {
    const f = scheduleFn({ kind: 'step', unit: 'epoch', every: 2, factor: 0.1 }, 1, 10);
    // iterations 0..19 are epochs 0-1 (rate 1), 20..39 epochs 2-3 (0.1), 40.. (0.01)
    expect([0, 19, 20, 39, 40].map(f)).toEqual([1, 1, 0.1, 0.1, 1 * 0.1 ** 2]);
    const e = scheduleFn({ kind: 'inverse-time', unit: 'epoch', k: 1 }, 0.3, 4);
    expect([0, 3, 4, 8].map(e)).toEqual([0.3, 0.3, 0.3 / 2, 0.3 / 3]);
  });

  it('are config data: the schema takes each kind and refuses a bad one', () => {
    expect(lrScheduleSchema.safeParse({ kind: 'step', unit: 'epoch', every: 10, factor: 0.5 }).success).toBe(true);
    expect(lrScheduleSchema.safeParse({ kind: 'exponential', unit: 'iteration', k: 1e-3 }).success).toBe(true);
    expect(lrScheduleSchema.safeParse({ kind: 'exponential', unit: 'iteration', k: -1 }).success).toBe(false);
    expect(lrScheduleSchema.safeParse({ kind: 'step', unit: 'epoch', every: 0, factor: 0.5 }).success).toBe(false);
    expect(lrScheduleSchema.safeParse({ kind: 'cosine' }).success).toBe(false);
    expect(describeSchedule({ kind: 'step', unit: 'epoch', every: 10, factor: 0.5 })).toBe('step: x0.5 every 10 epochs');
  });

  // Two steps on one scalar parameter w = 1 with gradients 1 then 2, the rate 0.1 for the first
  // step and 0.05 for the second (set as a schedule sets it), each rule's lines worked by hand.
  const HAND: Record<OptimizerName, number> = {
    sgd: 1 - 0.1 * 1 - 0.05 * 2, // 0.8
    momentum: 1 + -0.1 + (0.9 * -0.1 - 0.05 * 2), // v1 = -0.1, v2 = -0.19: 0.71
    nesterov: 1 + (0 - 1.9 * 0.1 * 1) + (0.81 * -0.1 - 1.9 * 0.05 * 2), // 0.81 - 0.081 - 0.19 = 0.539
    adagrad: 1 - (0.1 * 1) / 1 - (0.05 * 2) / Math.sqrt(5), // h = 1, then 5
    rmsprop: 1 - 0.1 / Math.sqrt(0.01) - (0.05 * 2) / Math.sqrt(0.99 * 0.01 + 0.01 * 4), // h = 0.01, then 0.0499
    adam: (() => {
      // t = 1: lr_t = 0.1*sqrt(0.001)/0.1, m = 0.1, v = 0.001 -> step 0.1 (bias-corrected, lr per coordinate)
      const w1 = 1 - 0.1;
      const lr2 = (0.05 * Math.sqrt(1 - 0.999 ** 2)) / (1 - 0.9 ** 2);
      const m = 0.1 + 0.1 * (2 - 0.1);
      const v = 0.001 + 0.001 * (4 - 0.001);
      return w1 - (lr2 * m) / Math.sqrt(v);
    })(),
  };

  it.each(OPTIMIZER_NAMES)('apply to %s: a rate changed between steps is the rate the next step uses', (name) => {
    const opt = makeOptimizer(name, 0.1);
    const w = tf.variable(tf.scalar(1));
    for (const [g, lr] of [[1, 0.1], [2, 0.05]] as const) {
      opt.lr = lr;
      const grad = tf.scalar(g);
      opt.update([w], [grad]);
      grad.dispose();
    }
    expect(w.dataSync()[0]).toBeCloseTo(HAND[name], 5);
    opt.dispose();
    w.dispose();
  });

  it('a constant schedule gives bit-identical weights to a fixed rate, for every update rule', () => {
    const make = (scheduled: boolean): Trainee[] =>
      OPTIMIZER_NAMES.map((name) => {
        const lr = name === 'adam' || name === 'rmsprop' ? 0.003 : 0.05;
        return { name, net: smallNet(1, { batchNorm: name === 'momentum' }), optimizer: makeOptimizer(name, lr), ...(scheduled ? { lrAt: scheduleFn({ kind: 'constant' }, lr, 4) } : {}) };
      });
    const fixed = make(false);
    const sched = make(true);
    const a = trainIterations({ trainees: fixed, train: data, batchSize: 16, iterations: 40, rng: new Rng(2, 'b') });
    const b = trainIterations({ trainees: sched, train: data, batchSize: 16, iterations: 40, rng: new Rng(2, 'b') });
    expect(b.loss).toEqual(a.loss);
    fixed.forEach((t, i) => t.net.params().forEach((p, j) => expect(bits(sched[i]!.net.params()[j]!)).toEqual(bits(p))));
    for (const t of [...fixed, ...sched]) {
      t.net.dispose();
      t.optimizer.dispose();
    }
  });

  it('the loops record the rate of every update', () => {
    const net = smallNet(4);
    const lrAt = scheduleFn({ kind: 'step', unit: 'epoch', every: 1, factor: 0.5 }, 0.08, 5);
    const t: Trainee = { name: 'n', net, optimizer: makeOptimizer('sgd', 0.08), lrAt };
    const evalSet = toBatch(data);
    // 3 epochs of 5 iterations: evaluations after iterations 0, 5, 10 (the lecture's loop), 11 updates.
    const run = trainEpochs({ trainees: [t], train: data, batchSize: 16, epochs: 3, rng: new Rng(1, 'b'), evalSets: { train: evalSet }, iterationsPerEpoch: 5 });
    expect(run.lr.n).toEqual([0.08, 0.08, 0.08, 0.08, 0.08, 0.04, 0.04, 0.04, 0.04, 0.04, 0.02]);
    expect(run.loss.n).toHaveLength(11);
    expect(run.accuracy.n!.train).toHaveLength(3);
    expect(() => trainEpochs({ trainees: [t], train: data, batchSize: 16, epochs: 1, rng: new Rng(1, 'b'), evalSets: {}, iterationsPerEpoch: 2.5 })).toThrow(/whole number/);
    const it2 = trainIterations({ trainees: [{ ...t, lrAt: scheduleFn({ kind: 'inverse-time', unit: 'iteration', k: 1 }, 0.08, 5) }], train: data, batchSize: 16, iterations: 3, rng: new Rng(1, 'b') });
    expect(it2.lr.n).toEqual([0.08, 0.04, 0.08 / 3]);
    tf.dispose([evalSet.x, evalSet.y]);
    net.dispose();
    t.optimizer.dispose();
  });
});

describe('checkpoints and the parameter average', () => {
  /** A 2-1 net whose weights are set by hand. */
  function tiny(w: number[], b: number): Mlp {
    const net = new Mlp({ sizes: [2, 1], activation: 'relu', init: 'he' }, new Rng(0, 'x'));
    tf.tidy(() => {
      net.weights[0]!.assign(tf.tensor2d(w, [2, 1]));
      net.biases[0]!.assign(tf.tensor1d([b]));
    });
    return net;
  }
  const values = (net: Mlp) => net.params().map((p) => Array.from(p.dataSync()));

  it('a checkpoint keeps its values while the net trains on, and loads into another net', () => {
    const net = smallNet(5, { batchNorm: true });
    const before = values(net);
    const ckpt = takeCheckpoint(net);
    const t: Trainee = { name: 'n', net, optimizer: makeOptimizer('momentum', 0.05) };
    trainIterations({ trainees: [t], train: data, batchSize: 16, iterations: 20, rng: new Rng(0, 'b') });
    expect(values(net)).not.toEqual(before);
    expect(ckpt.params.map((p) => Array.from(p.dataSync()))).toEqual(before);
    const other = smallNet(99, { batchNorm: true });
    loadCheckpoint(other, ckpt);
    expect(values(other)).toEqual(before);
    // the loaded net can train without touching the checkpoint
    trainIterations({ trainees: [{ name: 'o', net: other, optimizer: makeOptimizer('sgd', 0.05) }], train: data, batchSize: 16, iterations: 3, rng: new Rng(0, 'b') });
    expect(ckpt.params.map((p) => Array.from(p.dataSync()))).toEqual(before);
    const bn = takeCheckpoint(net);
    loadCheckpoint(other, bn);
    expect(Array.from(other.bn[0]!.runningVar.dataSync())).toEqual(Array.from(net.bn[0]!.runningVar.dataSync()));
    expect(() => loadCheckpoint(smallNet(1), bn)).toThrow(/does not fit/);
    for (const c of [ckpt, bn]) disposeCheckpoint(c);
    for (const n of [net, other]) n.dispose();
    t.optimizer.dispose();
  });

  it('the average is decay*avg + (1-decay)*param, from the parameters it was made with', () => {
    const net = tiny([1, 2], 0);
    const avg = new ParamAverage(net, 0.9);
    tf.tidy(() => {
      net.weights[0]!.assign(tf.tensor2d([3, 4], [2, 1]));
      net.biases[0]!.assign(tf.tensor1d([10]));
    });
    avg.update(net); // W: 0.9*1 + 0.1*3 = 1.2, 0.9*2 + 0.1*4 = 2.2; b: 0 + 0.1*10 = 1
    avg.update(net); // W: 0.9*1.2 + 0.3 = 1.38, 0.9*2.2 + 0.4 = 2.38; b: 0.9 + 1 = 1.9
    const c = avg.checkpoint(net);
    const [w, b] = c.params.map((p) => Array.from(p.dataSync()));
    expect(w![0]).toBeCloseTo(1.38, 6);
    expect(w![1]).toBeCloseTo(2.38, 6);
    expect(b![0]).toBeCloseTo(1.9, 6);
    expect(avg.steps).toBe(2);
    expect(() => new ParamAverage(net, 1)).toThrow(/decay/);
    disposeCheckpoint(c);
    avg.dispose();
    net.dispose();
  });

  it('keeps tf.memory().numTensors flat over 1000 steps with a schedule, an average and a checkpoint every epoch', () => {
    const trainees: Trainee[] = (['sgd', 'adam'] as const).map((name) => ({
      name,
      net: smallNet(7, { sizes: [784, 8, 8, 10], batchNorm: name === 'adam' }),
      optimizer: makeOptimizer(name, 0.01),
      lrAt: scheduleFn({ kind: 'exponential', unit: 'iteration', k: 1e-3 }, 0.01, 10),
    }));
    const evalSet = toBatch(data);
    const go = (epochs: number) => {
      const avgs = trainees.map((t) => new ParamAverage(t.net, 0.99));
      const ckpts: ReturnType<typeof takeCheckpoint>[] = [];
      trainEpochs({
        trainees,
        train: data,
        batchSize: 8,
        epochs,
        rng: new Rng(0, 'b'),
        evalSets: { train: evalSet },
        iterationsPerEpoch: 10,
        onIteration: () => trainees.forEach((t, i) => avgs[i]!.update(t.net)),
        onEpoch: () => ckpts.push(takeCheckpoint(trainees[0]!.net), avgs[1]!.checkpoint(trainees[1]!.net)),
      });
      ckpts.forEach(disposeCheckpoint);
      avgs.forEach((a) => a.dispose());
    };
    go(2); // warm-up: optimizer state is made on the first update
    const before = tf.memory().numTensors;
    go(51); // 501 iterations x 2 nets
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([evalSet.x, evalSet.y]);
    for (const t of trainees) {
      t.net.dispose();
      t.optimizer.dispose();
    }
  });
});

describe('averaged-probability ensembles', () => {
  it('predict the argmax of the members\' mean probability (hand-computed)', () => {
    // row 0: A says class 0, B says class 2, their mean [0.275, 0.45, 0.275] says class 1.
    // row 1: A [0.2, 0.7, 0.1], B [0.5, 0.1, 0.4]: mean [0.35, 0.4, 0.25] -> class 1.
    const a = Float32Array.from([0.5, 0.45, 0.05, 0.2, 0.7, 0.1]);
    const b = Float32Array.from([0.05, 0.45, 0.5, 0.5, 0.1, 0.4]);
    expect(Array.from(averagedPrediction([a], 3))).toEqual([0, 1]);
    expect(Array.from(averagedPrediction([b], 3))).toEqual([2, 0]);
    expect(Array.from(averagedPrediction([a, b], 3))).toEqual([1, 1]);
    expect(ensembleAccuracy([a, b], Uint8Array.from([1, 0]), 3)).toBe(0.5);
    expect(ensembleAccuracy([a], Uint8Array.from([0, 1]), 3)).toBe(1);
    expect(() => averagedPrediction([], 3)).toThrow(/at least one/);
    expect(() => averagedPrediction([a, Float32Array.from([1, 0, 0])], 3)).toThrow(/one shape/);
  });

  it('a one-member ensemble is the member itself; probabilities survive base64 exactly', () => {
    const net = smallNet(3);
    const set = toBatch(data);
    const p = probabilities(net, set.x);
    expect(p.length).toBe(data.count * 10);
    const rowSum = p.slice(0, 10).reduce((s, v) => s + v, 0);
    expect(rowSum).toBeCloseTo(1, 5);
    expect(Array.from(averagedPrediction([p], 10))).toEqual(Array.from(net.predict(set.x)));
    expect(decodeFloats(encodeFloats(p))).toEqual(p);
    tf.dispose([set.x, set.y]);
    net.dispose();
  });
});
