import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { walk } from '../experiments/optimizer-paths/study.js';
import { makeOptimizer } from '../src/optim/optimizers.js';

// Steps from (-7, 2) on f = x^2/20 + y^2, gradient (x/10, 2y) = (-0.7, 4) at the start,
// computed by hand from the rules in docs/STUDIES.md.
describe('update rules against hand-computed steps', () => {
  const close = (got: number[], want: number[]) => got.forEach((g, i) => expect(g).toBeCloseTo(want[i]!, 4));
  const point = (p: { x: number[]; y: number[] }, i: number) => [p.x[i]!, p.y[i]!];

  it('SGD lr 0.95: W -= lr*g lands at (-6.335, -1.8)', () => {
    close(point(walk('sgd', 0.95, [-7, 2], 1), 1), [-6.335, -1.8]);
  });

  it('Momentum lr 0.1: v = 0.9v - lr*g; W += v', () => {
    const p = walk('momentum', 0.1, [-7, 2], 2);
    close(point(p, 1), [-6.93, 1.6]); // v = (0.07, -0.4)
    close(point(p, 2), [-6.7977, 0.92]); // v = 0.9*(0.07,-0.4) - 0.1*(-0.693, 3.2)
  });

  it('Nesterov lr 0.1: W += mu^2 v - (1+mu) lr g, then v = mu v - lr g', () => {
    const p = walk('nesterov', 0.1, [-7, 2], 2);
    close(point(p, 1), [-6.867, 1.24]);
    // step 2: v = (0.07, -0.4), g = (-0.6867, 2.48)
    close(point(p, 2), [-6.867 + 0.81 * 0.07 + 0.19 * 0.6867, 1.24 - 0.81 * 0.4 - 0.19 * 2.48]);
  });

  it('AdaGrad lr 1.5: h += g^2; W -= lr g / (sqrt(h) + 1e-7)', () => {
    const p = walk('adagrad', 1.5, [-7, 2], 2);
    close(point(p, 1), [-5.5, 0.5]);
    close(point(p, 2), [-5.5 + (1.5 * 0.55) / Math.sqrt(0.49 + 0.3025), 0.5 - 1.5 / Math.sqrt(17)]);
  });

  it('RMSprop lr 0.05: h = 0.99h + 0.01 g^2 makes the first step lr*10 per coordinate', () => {
    const p = walk('rmsprop', 0.05, [-7, 2], 2);
    close(point(p, 1), [-6.5, 1.5]);
    // step 2: g = (-0.65, 3), h = 0.99*0.01*g1^2 + 0.01*g^2
    const hx = 0.99 * 0.01 * 0.49 + 0.01 * 0.65 ** 2;
    const hy = 0.99 * 0.01 * 16 + 0.01 * 9;
    close(point(p, 2), [-6.5 + (0.05 * 0.65) / Math.sqrt(hx), 1.5 - (0.05 * 3) / Math.sqrt(hy)]);
  });

  it('Adam lr 0.3: bias-corrected first step is lr per coordinate, second step by hand', () => {
    const p = walk('adam', 0.3, [-7, 2], 2);
    close(point(p, 1), [-6.7, 1.7]);
    // step 2: g = (-0.67, 3.4)
    const lr2 = (0.3 * Math.sqrt(1 - 0.999 ** 2)) / (1 - 0.9 ** 2);
    const step = (g1: number, g2: number) => {
      const m = 0.1 * g1 + 0.1 * (g2 - 0.1 * g1);
      const v = 0.001 * g1 * g1 + 0.001 * (g2 * g2 - 0.001 * g1 * g1);
      return (lr2 * m) / (Math.sqrt(v) + 1e-7);
    };
    close(point(p, 2), [-6.7 - step(-0.7, -0.67), 1.7 - step(4, 3.4)]);
  });

  it('keeps state per parameter and leaks no tensors', () => {
    const before = tf.memory().numTensors;
    const opt = makeOptimizer('adam', 0.01);
    const a = tf.tidy(() => tf.variable(tf.ones([3])));
    const b = tf.tidy(() => tf.variable(tf.ones([2, 2])));
    for (let i = 0; i < 20; i++) {
      const ga = tf.onesLike(a);
      const gb = tf.onesLike(b);
      opt.update([a, b], [ga, gb]);
      tf.dispose([ga, gb]);
    }
    // the same gradient every step: Adam moves each coordinate by lr per step
    expect(a.dataSync()[0]).toBeCloseTo(1 - 20 * 0.01, 3);
    expect(b.dataSync()[3]).toBeCloseTo(1 - 20 * 0.01, 3);
    opt.dispose();
    tf.dispose([a, b]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
