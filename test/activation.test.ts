/**
 * Leaky ReLU (slope 0.01) and ELU (alpha 1): forward and hand-written backward (layers.ts)
 * against values computed by hand, and the backward against tfjs's own gradient of the same
 * forward op, bit for bit. (Whole networks with them are checked against the tape in
 * test/backward.test.ts.)
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ACTIVATIONS, activate, ELU_ALPHA, LEAKY_RELU_SLOPE } from '../src/nn/activation.js';
import { eluBackward, leakyReluBackward } from '../src/nn/layers.js';
import { Rng } from '../src/rng.js';

const x = tf.tensor2d([[-2, -0.5, 0, 0.5, 3]]);
const dout = tf.tensor2d([[1, 2, 3, 4, 5]]);

function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

function expectClose(actual: number[], expected: number[]): void {
  expect(actual.length).toBe(expected.length);
  // float32: about 7 significant digits
  actual.forEach((a, i) => expect(a).toBeCloseTo(expected[i]!, 6));
}

const bits = (t: tf.Tensor) => Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer));

describe('Leaky ReLU and ELU', () => {
  it('are among the activations with the lecture\'s constants', () => {
    expect(ACTIVATIONS).toContain('leaky-relu');
    expect(ACTIVATIONS).toContain('elu');
    expect(LEAKY_RELU_SLOPE).toBe(0.01);
    expect(ELU_ALPHA).toBe(1);
  });

  it('Leaky ReLU forward: max(x, 0.01 x)', () => {
    const y = activate('leaky-relu', x);
    expectClose(values(y), [-0.02, -0.005, 0, 0.5, 3]);
    y.dispose();
  });

  it('Leaky ReLU backward: dout where x > 0, 0.01 dout elsewhere (x = 0 included)', () => {
    const d = leakyReluBackward(dout, x, LEAKY_RELU_SLOPE);
    expectClose(values(d), [0.01, 0.02, 0.03, 4, 5]);
    d.dispose();
  });

  it('ELU forward: x where x > 0, exp(x) - 1 elsewhere', () => {
    const y = activate('elu', x);
    // exp(-2) - 1 = -0.8646647167..., exp(-0.5) - 1 = -0.3934693402...
    expectClose(values(y), [-0.8646647167, -0.3934693402, 0, 0.5, 3]);
    y.dispose();
  });

  it('ELU backward from the output: dout where y > 0, dout (y + 1) = dout exp(x) elsewhere', () => {
    const y = activate('elu', x) as tf.Tensor2D;
    const d = eluBackward(dout, y);
    // 1 exp(-2) = 0.1353352832..., 2 exp(-0.5) = 1.2130613194..., 3 exp(0) = 3
    expectClose(values(d), [0.1353352832, 1.2130613194, 3, 4, 5]);
    tf.dispose([y, d]);
  });

  for (const name of ['leaky-relu', 'elu'] as const) {
    it(`${name} backward has the bits of tfjs's own gradient of the forward op`, () => {
      const rng = new Rng(5, name);
      const z = tf.tensor2d(rng.normalArray(64 * 30, 2), [64, 30]);
      const g = tf.tensor2d(rng.normalArray(64 * 30), [64, 30]);
      // d/dz sum(act(z) * g) is act'(z) * g: the tape's gradient of the activation, fed g.
      const tape = tf.grad((zz: tf.Tensor) => tf.sum(tf.mul(activate(name, zz), g)))(z);
      const y = activate(name, z) as tf.Tensor2D;
      const ours = name === 'elu' ? eluBackward(g, y) : leakyReluBackward(g, z, LEAKY_RELU_SLOPE);
      expect(bits(ours)).toEqual(bits(tape));
      // and it is not trivially so: negative inputs are present and their gradient is neither 0 nor g
      const neg = values(z).map((v, i) => (v < 0 ? i : -1)).filter((i) => i >= 0);
      expect(neg.length).toBeGreaterThan(100);
      const o = values(ours);
      const gv = values(g);
      expect(neg.every((i) => o[i] !== 0 && Math.abs(o[i]!) < Math.abs(gv[i]!))).toBe(true);
      tf.dispose([z, g, tape, y, ours]);
    });
  }
});
