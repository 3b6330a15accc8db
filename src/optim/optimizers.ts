/**
 * The update rules exactly as the lecture writes them (docs/STUDIES.md, "Update rules"). These are
 * the lesson, so they are written out rather than taken from tf.train: tfjs's Adam, for one,
 * places epsilon and the bias correction differently.
 *
 * Each optimizer keeps its state (velocity, squared-gradient sums) per parameter, in the
 * order of the parameter list it is given, and updates the parameters in place.
 *
 * `lr` is the rate the next update uses. It starts as the rate the optimizer was made with and
 * a learning-rate schedule (schedules.ts, applied by the training loops) may set it before each
 * step; left alone it stays that number, so a constant schedule computes exactly what a fixed
 * rate does.
 */
import * as tf from '@tensorflow/tfjs';

export const OPTIMIZER_NAMES = ['sgd', 'momentum', 'nesterov', 'adagrad', 'rmsprop', 'adam'] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

const EPS = 1e-7;

export interface Optimizer {
  readonly name: OptimizerName;
  /** The rate of the next update (a schedule sets it before each step). */
  lr: number;
  /** One step: updates every `params[i]` in place from `grads[i]`. */
  update(params: tf.Variable[], grads: tf.Tensor[]): void;
  /** Frees the optimizer's state tensors. */
  dispose(): void;
}

/** Per-parameter state tensors, created as zeros of the parameter's shape on first use. */
class SlotStore {
  private slots: tf.Variable[] = [];
  get(i: number, like: tf.Tensor): tf.Variable {
    let slot = this.slots[i];
    if (slot === undefined) {
      // tidy frees the zeros tensor the variable was made from (tf.variable keeps its own copy).
      slot = tf.tidy(() => tf.variable(tf.zerosLike(like), false));
      this.slots[i] = slot;
    }
    return slot;
  }
  dispose(): void {
    for (const s of this.slots) s.dispose();
    this.slots = [];
  }
}

function eachParam(params: tf.Variable[], grads: tf.Tensor[], step: (p: tf.Variable, g: tf.Tensor, i: number) => void): void {
  if (params.length !== grads.length) throw new Error(`update: ${params.length} params but ${grads.length} grads`);
  for (let i = 0; i < params.length; i++) tf.tidy(() => step(params[i]!, grads[i]!, i));
}

/** W -= lr * g */
export class Sgd implements Optimizer {
  readonly name = 'sgd' as const;
  constructor(public lr: number) {}
  update(params: tf.Variable[], grads: tf.Tensor[]): void {
    eachParam(params, grads, (p, g) => p.assign(tf.sub(p, tf.mul(g, this.lr))));
  }
  dispose(): void {}
}

/** v = mu*v - lr*g; W += v */
export class Momentum implements Optimizer {
  readonly name = 'momentum' as const;
  private v = new SlotStore();
  constructor(public lr: number, readonly mu = 0.9) {}
  update(params: tf.Variable[], grads: tf.Tensor[]): void {
    eachParam(params, grads, (p, g, i) => {
      const v = this.v.get(i, p);
      v.assign(tf.sub(tf.mul(v, this.mu), tf.mul(g, this.lr)));
      p.assign(tf.add(p, v));
    });
  }
  dispose(): void {
    this.v.dispose();
  }
}

/** W += mu*mu*v - (1+mu)*lr*g; v = mu*v - lr*g (the lecture's Nesterov, with the old v in the first line) */
export class Nesterov implements Optimizer {
  readonly name = 'nesterov' as const;
  private v = new SlotStore();
  constructor(public lr: number, readonly mu = 0.9) {}
  update(params: tf.Variable[], grads: tf.Tensor[]): void {
    const { mu, lr } = this;
    eachParam(params, grads, (p, g, i) => {
      const v = this.v.get(i, p);
      p.assign(tf.add(p, tf.sub(tf.mul(v, mu * mu), tf.mul(g, (1 + mu) * lr))));
      v.assign(tf.sub(tf.mul(v, mu), tf.mul(g, lr)));
    });
  }
  dispose(): void {
    this.v.dispose();
  }
}

/** h += g*g; W -= lr * g / (sqrt(h) + 1e-7) */
export class AdaGrad implements Optimizer {
  readonly name = 'adagrad' as const;
  private h = new SlotStore();
  constructor(public lr: number) {}
  update(params: tf.Variable[], grads: tf.Tensor[]): void {
    eachParam(params, grads, (p, g, i) => {
      const h = this.h.get(i, p);
      h.assign(tf.add(h, tf.square(g)));
      p.assign(tf.sub(p, tf.div(tf.mul(g, this.lr), tf.add(tf.sqrt(h), EPS))));
    });
  }
  dispose(): void {
    this.h.dispose();
  }
}

/** h = rho*h + (1-rho)*g*g; W -= lr * g / (sqrt(h) + 1e-7) */
export class RmsProp implements Optimizer {
  readonly name = 'rmsprop' as const;
  private h = new SlotStore();
  constructor(public lr: number, readonly rho = 0.99) {}
  update(params: tf.Variable[], grads: tf.Tensor[]): void {
    const { rho, lr } = this;
    eachParam(params, grads, (p, g, i) => {
      const h = this.h.get(i, p);
      h.assign(tf.add(tf.mul(h, rho), tf.mul(tf.square(g), 1 - rho)));
      p.assign(tf.sub(p, tf.div(tf.mul(g, lr), tf.add(tf.sqrt(h), EPS))));
    });
  }
  dispose(): void {
    this.h.dispose();
  }
}

/**
 * t += 1; lr_t = lr*sqrt(1-b2^t)/(1-b1^t); m += (1-b1)(g-m); v += (1-b2)(g*g-v);
 * W -= lr_t * m / (sqrt(v) + 1e-7)
 */
export class Adam implements Optimizer {
  readonly name = 'adam' as const;
  private m = new SlotStore();
  private v = new SlotStore();
  private t = 0;
  constructor(public lr: number, readonly beta1 = 0.9, readonly beta2 = 0.999) {}
  update(params: tf.Variable[], grads: tf.Tensor[]): void {
    const { beta1, beta2 } = this;
    this.t += 1;
    const lrT = (this.lr * Math.sqrt(1 - beta2 ** this.t)) / (1 - beta1 ** this.t);
    eachParam(params, grads, (p, g, i) => {
      const m = this.m.get(i, p);
      const v = this.v.get(i, p);
      m.assign(tf.add(m, tf.mul(tf.sub(g, m), 1 - beta1)));
      v.assign(tf.add(v, tf.mul(tf.sub(tf.square(g), v), 1 - beta2)));
      p.assign(tf.sub(p, tf.div(tf.mul(m, lrT), tf.add(tf.sqrt(v), EPS))));
    });
  }
  dispose(): void {
    this.m.dispose();
    this.v.dispose();
  }
}

export function makeOptimizer(name: OptimizerName, lr: number): Optimizer {
  switch (name) {
    case 'sgd':
      return new Sgd(lr);
    case 'momentum':
      return new Momentum(lr);
    case 'nesterov':
      return new Nesterov(lr);
    case 'adagrad':
      return new AdaGrad(lr);
    case 'rmsprop':
      return new RmsProp(lr);
    case 'adam':
      return new Adam(lr);
  }
}
