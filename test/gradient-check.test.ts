/**
 * S8's machinery: the relative error and the two difference formulas on hand-computed values,
 * the float64 reference's batch norm and kink detection on a net small enough to work out by
 * hand, the reference against the suite's float32 loss, the float32 evaluator putting weights
 * back and freeing its tensors, and the study at a tiny size.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { resolveMnistDir } from '../src/data/mnist.js';
import { BN_EPS } from '../src/nn/mlp.js';
import { mnistNet } from '../src/nn/mnist-net.js';
import { Rng } from '../src/rng.js';
import { mnistFrom } from '../src/exec/runner.js';
import { toBatch } from '../src/train/batches.js';
import { firstRows } from '../src/data/mnist.js';
import { derivatives, float32Evaluator, float64Evaluator, pickCoordinates, plainFloat64Evaluator, quantile, relativeError, type Evaluator } from '../experiments/gradient-check/check.js';
import { patternsDiffer, referenceGradients, referenceLoss, type RefSpec } from '../experiments/gradient-check/reference.js';
import { FLOAT64_ANALYTIC, gradientCheck, type GradientCheckConfig } from '../experiments/gradient-check/study.js';
import { runInTest } from './helpers/context.js';

const f64 = (...xs: number[]) => Float64Array.from(xs);

describe('relative error and difference formulas', () => {
  it('computes the notes\' relative error', () => {
    expect(relativeError(1, 1.1)).toBeCloseTo(0.1 / 1.1, 15);
    expect(relativeError(-2, 2)).toBe(2); // opposite signs: the notes' formula exceeds 1
    expect(relativeError(0, 0)).toBe(0);
    expect(relativeError(0, 1e-12)).toBe(1);
    expect(relativeError(3, 3)).toBe(0);
  });

  it('gives forward 3 + 3h + h^2 and centered 3 + h^2 for x^3 at x = 1', () => {
    let x = 1;
    const cube: Evaluator = (_c, delta) => ({ loss: (x + delta) ** 3, on: null });
    const d = derivatives(cube, { tensor: 0, index: 0 }, [0.1, 0.01]);
    expect(d.forward[0]).toBeCloseTo(3.31, 12);
    expect(d.centered[0]).toBeCloseTo(3.01, 12);
    expect(d.forward[1]).toBeCloseTo(3.0301, 10);
    expect(d.centered[1]).toBeCloseTo(3.0001, 10);
    expect(d.crossed).toEqual([null, null]);
    x = 2; // the evaluator is asked afresh every time
    expect(derivatives(cube, { tensor: 0, index: 0 }, [0.1]).centered[0]).toBeCloseTo(12.01, 12);
  });

  it('picks distinct coordinates per tensor, all of a small one, skipping the excluded', () => {
    const coords = pickCoordinates([50, 3], 5, new Rng(1, 't'), (t, i) => t === 0 && i % 2 === 1);
    const first = coords.filter((c) => c.tensor === 0).map((c) => c.index);
    expect(first).toHaveLength(5);
    expect(new Set(first).size).toBe(5);
    expect(first.every((i) => i % 2 === 0)).toBe(true);
    expect(coords.filter((c) => c.tensor === 1).map((c) => c.index)).toEqual([0, 1, 2]);
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4, 5], 0.9)).toBeCloseTo(4.6, 12);
  });
});

describe('the float64 reference', () => {
  // 1 input -> 1 hidden unit -> 2 classes; x = [[1], [3]], labels [0, 0].
  const spec: RefSpec = { sizes: [1, 1, 2], activation: 'relu', batchNorm: true, weightDecay: 0 };
  const batch = { x: f64(1, 3), labels: Uint8Array.from([0, 0]), rows: 2 };

  it('normalises with the batch mean and the biased batch variance plus BN_EPS (hand-computed)', () => {
    // a = [1, 3]: mean 2, biased variance 1; xhat = -+1/sqrt(1 + eps); ReLU -> [0, s].
    const params = [f64(1), f64(0), f64(1), f64(0), f64(1, -1), f64(0, 0)];
    const s = 1 / Math.sqrt(1 + BN_EPS);
    // logits: row 0 [0, 0] -> ln 2; row 1 [s, -s] -> log(1 + e^(-2s)).
    const want = (Math.log(2) + Math.log(1 + Math.exp(-2 * s))) / 2;
    const r = referenceLoss(spec, params, batch);
    expect(r.loss).toBeCloseTo(want, 14);
    expect(Array.from(r.on!)).toEqual([0, 1]);
    // gamma 2, beta 0.5: y = 2 xhat + 0.5 -> [0.5 - 2s (off), 0.5 + 2s].
    const r2 = referenceLoss(spec, [f64(1), f64(0), f64(2), f64(0.5), f64(1, -1), f64(0, 0)], batch);
    const z = 0.5 + 2 * s;
    expect(r2.loss).toBeCloseTo((Math.log(2) + Math.log(1 + Math.exp(-2 * z))) / 2, 14);
  });

  it('adds 0.5 lambda sum(W^2) over the weights only, and applies a dropout mask without rescaling', () => {
    const plain: RefSpec = { sizes: [1, 1, 2], activation: 'tanh', batchNorm: false, weightDecay: 0 };
    const params = [f64(0.5), f64(7), f64(1, -1), f64(3, 3)];
    const base = referenceLoss(plain, params, batch).loss;
    expect(referenceLoss({ ...plain, weightDecay: 0.2 }, params, batch).loss).toBeCloseTo(base + 0.1 * (0.25 + 2), 14);
    // A mask dropping the unit of row 0 only: row 0's logits become the biases (equal: ln 2).
    const masked = referenceLoss(plain, params, batch, [f64(0, 1)]).loss;
    const t = Math.tanh(0.5 * 3 + 7);
    expect(masked).toBeCloseTo((Math.log(2) + Math.log(1 + Math.exp(-2 * t))) / 2, 14);
  });

  it('flags a kink crossing when a step moves a ReLU input across 0, and not for a smaller step', () => {
    const relu: RefSpec = { sizes: [1, 1, 2], activation: 'relu', batchNorm: false, weightDecay: 0 };
    const one = { x: f64(1), labels: Uint8Array.from([1]), rows: 1 };
    const params = [f64(0.05), f64(0), f64(1, -1), f64(0, 0)];
    const d = derivatives(float64Evaluator(relu, params, one), { tensor: 0, index: 0 }, [0.1, 0.01]);
    expect(d.crossed).toEqual([true, false]);
    // Off the kink the loss is log(1 + e^(2w)): derivative 2 sigmoid(2w); at the kink the centered difference is off.
    const exact = 2 / (1 + Math.exp(-0.1));
    expect(relativeError(exact, d.centered[1]!)).toBeLessThan(1e-4);
    expect(relativeError(exact, d.centered[0]!)).toBeGreaterThan(1e-2);
    expect(params[0]![0]).toBe(0.05); // put back
    expect(patternsDiffer(Uint8Array.from([1, 0]), Uint8Array.from([1, 0]))).toBe(false);
    expect(patternsDiffer(null, Uint8Array.from([1]))).toBe(false);
  });
});

describe('the float64 analytic gradient', () => {
  it('equals float64 centered differences on small nets with every layer kind (tanh, ReLU, BN, weight decay, a dropout mask)', () => {
    const rng = new Rng(3, 'g');
    const batch = { x: Float64Array.from(rng.normalArray(5 * 4)), labels: Uint8Array.from([0, 2, 1, 2, 0]), rows: 5 };
    for (const spec of [
      { sizes: [4, 3, 3, 3], activation: 'tanh', batchNorm: false, weightDecay: 0 },
      { sizes: [4, 3, 3, 3], activation: 'relu', batchNorm: false, weightDecay: 0.3 },
      { sizes: [4, 3, 3, 3], activation: 'tanh', batchNorm: true, weightDecay: 0 },
      { sizes: [4, 3, 3, 3], activation: 'relu', batchNorm: true, weightDecay: 0 },
    ] as RefSpec[]) {
      const params: Float64Array[] = [];
      for (let l = 0; l + 1 < spec.sizes.length; l++) {
        params.push(Float64Array.from(rng.normalArray(spec.sizes[l]! * spec.sizes[l + 1]!)), Float64Array.from(rng.normalArray(spec.sizes[l + 1]!)));
        if (spec.batchNorm && l + 2 < spec.sizes.length) params.push(Float64Array.from(rng.normalArray(spec.sizes[l + 1]!), (v) => 1 + 0.3 * v), Float64Array.from(rng.normalArray(spec.sizes[l + 1]!)));
      }
      const masks = spec.activation === 'tanh' && !spec.batchNorm ? [Float64Array.from([1, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 0]), Float64Array.from({ length: 15 }, (_, i) => (i % 4 === 0 ? 0 : 1))] : null;
      const g = referenceGradients(spec, params, batch, masks);
      const f = float64Evaluator(spec, params, batch, () => masks);
      params.forEach((t, ti) => {
        for (let i = 0; i < t.length; i++) {
          const d = derivatives(f, { tensor: ti, index: i }, [1e-5]);
          // Centered differences at h = 1e-5 are good to about 1e-9 here (h^2 times the third derivative, and round-off).
          expect(Math.abs(g[ti]![i]! - d.centered[0]!), `${spec.activation}${spec.batchNorm ? '+bn' : ''} tensor ${ti} index ${i}`).toBeLessThan(1e-8);
        }
      });
    }
  });
});

describe('against the suite', () => {
  const mnist = () => mnistFrom(resolveMnistDir());

  it('the logits-as-zero bug is exact where every logit is 0 and off by (softmax - 1/m) / rows elsewhere', () => {
    const spec: RefSpec = { sizes: [3, 2, 4], activation: 'tanh', batchNorm: false, weightDecay: 0 };
    const batch = { x: f64(0.5, -1, 2, 1, 0.3, -0.7), labels: Uint8Array.from([1, 3]), rows: 2 };
    const rng = new Rng(7, 'bug');
    const params = [Float64Array.from(rng.normalArray(6)), Float64Array.from(rng.normalArray(2)), new Float64Array(8), new Float64Array(4)];
    // Output weights and bias 0: every logit is 0, the bug is no bug.
    const same = referenceGradients(spec, params, batch);
    const bugged = referenceGradients(spec, params, batch, null, 'logits-as-zero');
    same.forEach((g, t) => expect(Array.from(bugged[t]!)).toEqual(Array.from(g)));
    // With a non-zero output bias b, the logits are b for every row: the output bias's gradient
    // is off by exactly sum over rows of (softmax(b) - 1/4) / rows = softmax(b) - 1/4.
    params[3] = f64(0.4, -0.2, 0.1, 0.3);
    const correct = referenceGradients(spec, params, batch);
    const wrong = referenceGradients(spec, params, batch, null, 'logits-as-zero');
    const e = params[3].map(Math.exp);
    const z = e.reduce((a, b) => a + b, 0);
    for (let j = 0; j < 4; j++) expect(correct[3]![j]! - wrong[3]![j]!).toBeCloseTo(e[j]! / z - 0.25, 14);
  });

  it('the plain-net evaluator (from the moved layer on) gives referenceLoss\'s bits', () => {
    for (const activation of ['tanh', 'relu'] as const) {
      const spec: RefSpec = { sizes: [6, 5, 4, 4, 3], activation, batchNorm: false, weightDecay: 0 };
      const rng = new Rng(11, activation);
      const params: Float64Array[] = [];
      for (let l = 0; l + 1 < spec.sizes.length; l++) params.push(Float64Array.from(rng.normalArray(spec.sizes[l]! * spec.sizes[l + 1]!)), Float64Array.from(rng.normalArray(spec.sizes[l + 1]!, 0.1)));
      const batch = { x: Float64Array.from(rng.normalArray(12)).map((v) => (v > 0 ? v : 0)), labels: Uint8Array.from([2, 0]), rows: 2 };
      const fast = plainFloat64Evaluator(spec, params, batch);
      const slow = float64Evaluator(spec, params, batch);
      params.forEach((p, t) => {
        for (const index of [0, p.length - 1]) for (const delta of [0, 1e-3, -1e-7]) expect(fast({ tensor: t, index }, delta).loss).toBe(slow({ tensor: t, index }, delta).loss);
      });
    }
  });

  /** Six training images as a float32 batch and as the float64 reference's input. */
  const sixImages = () => {
    const split = firstRows(mnist().train, 6);
    return { b: toBatch(split), ref: { x: Float64Array.from(split.images), labels: split.labels, rows: 6 } };
  };
  /** A 784-12-8-10 net (Xavier for tanh, He for ReLU) and its parameters in float64. */
  const smallNet = (activation: 'tanh' | 'relu', batchNorm: boolean) => {
    const net = mnistNet([12, 8], { activation, init: activation === 'tanh' ? 'xavier' : 'he', batchNorm }, new Rng(5, 'w'));
    return { net, params: net.params().map((p) => Float64Array.from(p.dataSync())) };
  };

  it('the float64 analytic gradient matches the suite\'s float32 gradient to float32 precision', () => {
    const { b, ref } = sixImages();
    for (const [activation, batchNorm] of [['tanh', false], ['relu', false], ['relu', true]] as const) {
      const { net, params } = smallNet(activation, batchNorm);
      const { grads } = net.gradients(b.x, b.y);
      const g32 = grads.map((t) => Float64Array.from(t.dataSync()));
      tf.dispose(grads);
      const g64 = referenceGradients({ sizes: [784, 12, 8, 10], activation, batchNorm, weightDecay: 0 }, params, ref);
      const errors = g64.flatMap((t, i) => Array.from(t, (v, k) => relativeError(v, g32[i]![k]!))).filter((e, _i, all) => all.length > 0 && Number.isFinite(e));
      const nonzero = g64.flatMap((t, i) => Array.from(t, (v, k) => [v, g32[i]![k]!] as const)).filter(([v]) => Math.abs(v) > 1e-6);
      const med = nonzero.map(([v, w]) => relativeError(v, w)).sort((x, y) => x - y)[Math.floor(nonzero.length / 2)]!;
      expect(med, `${activation}${batchNorm ? '+bn' : ''}`).toBeLessThan(1e-5);
      expect(errors.length).toBeGreaterThan(0);
      net.dispose();
    }
    tf.dispose([b.x, b.y]);
  });

  it('reproduces the float32 training loss of tanh, ReLU and ReLU+BN nets; the float32 evaluator puts weights back and frees its tensors', () => {
    const { b, ref } = sixImages();
    for (const [activation, batchNorm] of [['tanh', false], ['relu', false], ['relu', true]] as const) {
      const { net, params } = smallNet(activation, batchNorm);
      const loss32 = tf.tidy(() => net.loss(b.x, b.y, 'train').dataSync()[0]!);
      const loss64 = referenceLoss({ sizes: [784, 12, 8, 10], activation, batchNorm, weightDecay: 0 }, params, ref).loss;
      expect(Math.abs(loss64 - loss32) / loss32).toBeLessThan(1e-6);
      const f = float32Evaluator(net, b.x, b.y);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 20; i++) f({ tensor: i % params.length, index: 0 }, 1e-3);
      expect(f({ tensor: 0, index: 0 }, 0).loss).toBe(loss32);
      expect(tf.memory().numTensors).toBe(before);
      net.params().forEach((p, i) => expect(Array.from(p.dataSync())).toEqual(Array.from(params[i]!, Math.fround)));
      net.dispose();
    }
    tf.dispose([b.x, b.y]);
  });

  it('runs every variant at a tiny size: the reference agrees, every claim is checked, no tensor leaks', async () => {
    const tiny: GradientCheckConfig = { ...gradientCheck.profiles.quick, coordinatesPerTensor: 3, hs: [1e-2, 1e-3, 1e-4, 1e-6], depths: [2, 3], depthCoordinatesPerTensor: 3, burnIn: { ...gradientCheck.profiles.quick.burnIn, updates: 20 } };
    mnist();
    const before = tf.memory().numTensors;
    const r = await runInTest(gradientCheck, tiny, mnist);
    expect(tf.memory().numTensors).toBe(before);
    const claims = gradientCheck.claims(r, tiny);
    expect(claims.map((c) => c.id)).toEqual([
      'reference-agrees',
      'suite-gradient-matches-float64',
      'centered-beats-forward',
      'difference-orders',
      'float64-happy',
      'float32-u-shape',
      'relu-errors-at-kinks',
      'relu-errors-vanish',
      'dropout-fixed-mask',
      'penalty-hides-bug',
      'bug-passes-at-init',
      'bug-exposed-after-burn-in',
      'burn-in-control-passes',
      'error-grows-with-depth',
    ]);
    // Burn-in: the same coordinates at both points, the bug grows with the logits, the correct gradient passes.
    const bi = r.series.burnIn!;
    expect(bi.after.updates).toBe(20);
    expect(bi.after.logitStd).toBeGreaterThan(bi.init.logitStd);
    expect(bi.after.bugSize).toBeGreaterThan(bi.init.bugSize);
    expect(claims.find((c) => c.id === 'burn-in-control-passes')!.verdict).toBe('holds');
    // Depth: one record per depth, a net of that many affine layers.
    expect(r.series.depths!.map((d) => [d.depth, d.hidden.length])).toEqual([[2, 1], [3, 2]]);
    expect(r.summary.depths!.map((d) => d.depth)).toEqual([2, 3]);
    expect(claims[0]!.verdict).toBe('holds');
    expect(claims[1]!.verdict).toBe('holds');
    // A result recorded before the float64 analytic arm: its claims cannot be judged, and say so.
    const old = structuredClone(r);
    for (const v of Object.values(old.series.variants)) v!.arms = v!.arms.filter((x) => x.name !== FLOAT64_ANALYTIC);
    for (const v of Object.values(old.summary.best)) delete v![FLOAT64_ANALYTIC];
    const undecided = gradientCheck.claims(old, tiny).filter((c) => c.verdict === 'inconclusive');
    expect(undecided.map((c) => c.id)).toEqual(['centered-beats-forward', 'difference-orders', 'float64-happy']);
    expect(undecided[0]!.reason).toContain('run the study again');
    const relu = r.series.variants.relu!;
    expect(relu.coordinates!.length).toBe(relu.tensors.reduce((n, t) => n + t.checked, 0));
    expect(relu.tensors.map((t) => t.checked)).toEqual([3, 3, 3, 3, 3, 3]);
    expect(r.series.variants['relu-bn']!.tensors.map((t) => t.name)).toEqual(['W1', 'b1', 'gamma1', 'beta1', 'W2', 'b2', 'gamma2', 'beta2', 'W3', 'b3']);
    // The data-only check of the halved gradient sees exactly the halving on the weights.
    const decay = r.series.variants['weight-decay']!.arms.find((a) => a.name === 'float64, data only, broken gradient')!;
    expect(Math.max(...decay.centered.p90)).toBeCloseTo(0.5, 3);
    // Same seed, same numbers.
    expect((await runInTest(gradientCheck, tiny, mnist)).series).toEqual(r.series);
  });
});
