/**
 * S1 optimizer-paths: each update rule walks f(x, y) = x^2/20 + y^2 from (-7, 2) for 30
 * steps. The function is 20 times steeper in y than in x, which is what makes SGD zig-zag.
 *
 * Beside the six walks, second-order steps and a same-rate comparison (newton.ts):
 * - Newton's method on the same f from the same start: one step lands on the minimum;
 * - Newton and gradient descent on the saddle x^2/20 - y^2 from a start just off the x axis:
 *   Newton jumps to the saddle point (the quadratic model's stationary point), gradient descent
 *   slides off it, downhill along y;
 * - SGD and Momentum at one rate, so that the x-progress compares the rules, not the rates
 *   (at the lecture's own rates, SGD's 0.95 against Momentum's 0.1, Momentum is behind);
 * - the size of the Hessian of the 5-layer MNIST net, computed: why deep learning does not
 *   take Newton steps.
 */
import { verdictOf } from '../../src/claims.js';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { count, positive, ratePerOptimizer } from '../../src/config.js';
import { makeOptimizer, type OptimizerName } from '../../src/optim/optimizers.js';
import { defineStudy, type ClaimCheck, type KeyNumber } from '../../src/study.js';
import { pathFigures } from './figure.js';
import { BOWL, SADDLE, gradientAt, gradientStep, hessianSize, newtonStep, valueAt, walk2d } from './newton.js';

export const PathsConfigSchema = z.strictObject({
  start: z.tuple([z.number().finite(), z.number().finite()]),
  steps: count(1, 10_000),
  /** Learning rate per optimizer: the lecture's four, plus Nesterov and RMSprop (ours). */
  lr: ratePerOptimizer,
  /** Newton steps on f from `start`. */
  newtonSteps: count(1, 100),
  /** Newton and gradient descent (rate lr) on the saddle x^2/20 - y^2 from `start`. */
  saddle: z.strictObject({ start: z.tuple([z.number().finite(), z.number().finite()]), steps: count(1, 10_000), lr: positive }),
  /** SGD and Momentum at this one rate, `steps` steps from `start`: the x-progress claim. */
  sameRate: positive,
  /** The net whose Hessian size is computed: layer widths, input first. */
  hessianNet: z.array(count(1, 100_000)).min(2).max(50),
});
export type PathsConfig = z.infer<typeof PathsConfigSchema>;

export const f = (x: number, y: number): number => (x * x) / 20 + y * y;
/** The gradient of f, written out: (x/10, 2y). */
const gradF = (p: tf.Tensor1D): tf.Tensor1D => tf.mul(p, tf.tensor1d([1 / 10, 2])) as tf.Tensor1D;

const lecture: PathsConfig = {
  start: [-7, 2],
  steps: 30,
  // SGD 0.95, Momentum 0.1, AdaGrad 1.5, Adam 0.3 are the lecture's. Nesterov takes Momentum's
  // rate; RMSprop 0.05 is ours: its first step is lr*10 per coordinate (h starts at 0, rho 0.99),
  // so 0.05 makes a first step of about 0.5 and keeps the path inside the lecture's frame.
  lr: { sgd: 0.95, momentum: 0.1, nesterov: 0.1, adagrad: 1.5, rmsprop: 0.05, adam: 0.3 },
  // One Newton step reaches the minimum of a quadratic; a second shows it stays there.
  newtonSteps: 2,
  // Just off the x axis (y = 0.01), so gradient descent's drift away from the saddle starts
  // small and grows by (1 + 2 lr) per step; 30 steps at 0.1, the rate of the same-rate pair.
  saddle: { start: [-7, 0.01], steps: 30, lr: 0.1 },
  // 0.1: Momentum's lecture rate, so only SGD's rate changes from the lecture's walks.
  sameRate: 0.1,
  // The 5-layer net of the MNIST studies: 784-100-100-100-100-10.
  hessianNet: [784, 100, 100, 100, 100, 10],
};

/** Every point of one optimizer's walk, start included (steps + 1 points). */
export function walk(name: OptimizerName, lr: number, start: [number, number], steps: number): { x: number[]; y: number[] } {
  const opt = makeOptimizer(name, lr);
  const p = tf.tidy(() => tf.variable(tf.tensor1d(start)));
  const x = [start[0]];
  const y = [start[1]];
  for (let i = 0; i < steps; i++) {
    const g = tf.tidy(() => gradF(p));
    opt.update([p], [g]);
    g.dispose();
    const [px, py] = p.dataSync();
    x.push(px!);
    y.push(py!);
  }
  p.dispose();
  opt.dispose();
  return { x, y };
}

export type Paths = Record<string, { lr: number; x: number[]; y: number[] }>;

export interface Path2d {
  x: number[];
  y: number[];
}

export interface PathsSeries {
  paths: Paths;
  minimum: [number, number];
  /** Newton's method on f from the start (float64). */
  newton?: Path2d;
  /** On x^2/20 - y^2: Newton's and gradient descent's walks (float64), and each point's f. */
  saddle?: { lr: number; newton: Path2d & { f: number[] }; gd: Path2d & { f: number[] } };
  /** SGD and Momentum at one rate on f (the same update code as the six walks). */
  sameRate?: { lr: number; sgd: Path2d; momentum: Path2d };
  /** The Hessian of the net `sizes`: parameters, parameters^2 entries, bytes in float32. */
  hessian?: { sizes: number[]; parameters: number; entries: number; float32Bytes: number };
}

export type PathsSummary = Record<string, PathStats>;

function diffs(v: number[]): number[] {
  return v.slice(1).map((b, i) => b - v[i]!);
}

export interface PathStats {
  steps: number;
  /** Share of steps on which y changes sign. */
  ySignChangeShare: number;
  maxX: number;
  totalYTravel: number;
  yStepsNonIncreasing: boolean;
  firstYStep: number;
  lastYStep: number;
  final: [number, number];
  finalDistance: number;
  finalF: number;
}

/** Shares and sizes the claims rest on, per optimizer. */
export function pathStats(path: { x: number[]; y: number[] }): PathStats {
  const n = path.x.length - 1;
  const dy = diffs(path.y);
  let ySignChanges = 0;
  for (let i = 1; i <= n; i++) if (Math.sign(path.y[i]!) !== Math.sign(path.y[i - 1]!) && path.y[i] !== 0) ySignChanges++;
  const absDy = dy.map(Math.abs);
  const yStepsNonIncreasing = absDy.every((d, i) => i === 0 || d <= absDy[i - 1]! * (1 + 1e-6));
  const lastX = path.x[n]!;
  const lastY = path.y[n]!;
  return {
    steps: n,
    ySignChangeShare: ySignChanges / n,
    maxX: Math.max(...path.x),
    totalYTravel: absDy.reduce((a, b) => a + b, 0),
    yStepsNonIncreasing,
    firstYStep: absDy[0]!,
    lastYStep: absDy[n - 1]!,
    final: [lastX, lastY],
    finalDistance: Math.hypot(lastX, lastY),
    finalF: f(lastX, lastY),
  };
}

export const optimizerPaths = defineStudy<PathsConfig, PathsSeries, PathsSummary>({
  name: 'optimizer-paths',
  id: 'S1',
  title: 'Optimizer paths on x^2/20 + y^2',
  description: 'SGD, Momentum, Nesterov, AdaGrad, RMSprop, Adam: 30 steps on x^2/20 + y^2 from (-7, 2) (no data)',
  needsMnist: false,
  configSchema: PathsConfigSchema,
  profiles: { lecture, quick: lecture }, // no data and 180 steps in all: the quick profile is the lecture's
  run(config) {
    const paths: Paths = {};
    const summary: PathsSummary = {};
    for (const [name, lr] of Object.entries(config.lr) as [OptimizerName, number][]) {
      paths[name] = { lr, ...walk(name, lr, config.start, config.steps) };
      summary[name] = pathStats(paths[name]!);
    }
    const saddleWalk = (step: (x: number, y: number) => [number, number]) => {
      const w = walk2d(config.saddle.start, config.saddle.steps, step);
      return { ...w, f: w.x.map((x, i) => valueAt(SADDLE, x, w.y[i]!)) };
    };
    const series: PathsSeries = {
      paths,
      minimum: [0, 0],
      newton: walk2d(config.start, config.newtonSteps, (x, y) => newtonStep(BOWL, x, y)),
      saddle: {
        lr: config.saddle.lr,
        newton: saddleWalk((x, y) => newtonStep(SADDLE, x, y)),
        gd: saddleWalk((x, y) => gradientStep(SADDLE, x, y, config.saddle.lr)),
      },
      sameRate: { lr: config.sameRate, sgd: walk('sgd', config.sameRate, config.start, config.steps), momentum: walk('momentum', config.sameRate, config.start, config.steps) },
      hessian: { sizes: config.hessianNet, ...hessianSize(config.hessianNet) },
    };
    return { series, summary };
  },
  // CI's guard (src/regression.ts): where each walk ends. No training noise here, so the
  // tolerance only absorbs float32 rounding differences between kernels.
  keyNumbers(run): Record<string, KeyNumber> {
    return Object.fromEntries(Object.entries(run.summary).map(([name, st]) => [`${name}.finalDistance`, { value: st.finalDistance, tolerance: 1e-3 }]));
  },
  figures: pathFigures,
  curves: (run) => {
    const { newton, saddle, sameRate } = run.series;
    return [
      ...Object.entries(run.series.paths).map(([name, p]) => ({ panel: name, x: 'x', y: 'y', lines: [{ name: 'path', x: p.x, y: p.y }] })),
      ...(newton ? [{ panel: 'newton', x: 'x', y: 'y', lines: [{ name: 'path', x: newton.x, y: newton.y }] }] : []),
      ...(saddle ? [{ panel: 'saddle', x: 'x', y: 'y', lines: [{ name: 'newton', x: saddle.newton.x, y: saddle.newton.y }, { name: 'gradient descent', x: saddle.gd.x, y: saddle.gd.y }] }] : []),
      ...(sameRate ? [{ panel: `same rate ${sameRate.lr}`, x: 'x', y: 'y', lines: [{ name: 'sgd', x: sameRate.sgd.x, y: sameRate.sgd.y }, { name: 'momentum', x: sameRate.momentum.x, y: sameRate.momentum.y }] }] : []),
    ];
  },
  claims(run, config): ClaimCheck[] {
    // Each claim is checked when the run has the update rules it speaks of (null: left out).
    const { sgd, momentum, adagrad, adam } = run.summary;
    const { paths } = run.series;
    const names = Object.keys(run.summary);
    const startDistance = Math.hypot(...config.start);
    // The first SGD step written out in float64: start - lr * (x/10, 2y). At the lecture's
    // start (-7, 2) and lr 0.95 it is (-6.335, -1.8), the lecture's checkable number.
    const [x0, y0] = config.start;
    const lr = paths.sgd?.lr ?? 0;
    const expected = [x0 - lr * (x0 / 10), y0 - lr * 2 * y0];
    const first = paths.sgd ? [paths.sgd.x[1]!, paths.sgd.y[1]!] : [];
    const error = Math.hypot(first[0]! - expected[0]!, first[1]! - expected[1]!);
    const claims: (ClaimCheck | null)[] = [
      sgd && {
        id: 'sgd-first-step',
        text: `SGD's first step (lr ${lr}) from (${x0}, ${y0}) lands at (${expected.map((v) => Number(v.toPrecision(6))).join(', ')}) (within 1e-4)`,
        verdict: verdictOf(error < 1e-4),
        numbers: { firstStep: first, error },
      },
      sgd && { id: 'sgd-zigzag', text: 'SGD zig-zags along y: y changes sign on more than half of its steps', verdict: verdictOf(sgd.ySignChangeShare > 0.5), numbers: { ySignChangeShare: sgd.ySignChangeShare } },
      momentum && { id: 'momentum-overshoots-x', text: 'Momentum rolls along x like a ball: it overshoots the minimum in x (max x > 0)', verdict: verdictOf(momentum.maxX > 0), numbers: { maxX: momentum.maxX } },
      // "Compared with SGD, Momentum approaches faster along x": after the same number of steps,
      // at each rule's own (the lecture's) rate, Momentum's |x| is the smaller.
      paths.sgd && paths.momentum && (() => {
        const sx = Math.abs(paths.sgd.x[paths.sgd.x.length - 1]!);
        const mx = Math.abs(paths.momentum.x[paths.momentum.x.length - 1]!);
        return {
          id: 'momentum-faster-along-x',
          text: `Momentum approaches the minimum faster along x than SGD: after ${paths.momentum.x.length - 1} steps at their own rates (Momentum ${paths.momentum.lr}, SGD ${paths.sgd.lr}) its |x| is the smaller`,
          verdict: verdictOf(mx < sx),
          numbers: { momentumAbsX: mx, sgdAbsX: sx, momentumAbsXAtStep10: Math.abs(paths.momentum.x[10] ?? NaN), sgdAbsXAtStep10: Math.abs(paths.sgd.x[10] ?? NaN) },
        };
      })(),
      adagrad && {
        id: 'adagrad-y-steps-shrink',
        text: "AdaGrad's y steps shrink: |dy| never grows from one step to the next, and the last is under 1/10 of the first",
        verdict: verdictOf(adagrad.yStepsNonIncreasing && adagrad.lastYStep < adagrad.firstYStep / 10),
        numbers: { nonIncreasing: adagrad.yStepsNonIncreasing, firstYStep: adagrad.firstYStep, lastYStep: adagrad.lastYStep },
      },
      // A comparison: both walks must have moved toward the minimum at all.
      adam && momentum && {
        id: 'adam-less-sway',
        text: "Adam moves like Momentum with less sway: its total travel in y is smaller than Momentum's (both end closer to the minimum than they started)",
        verdict: verdictOf(adam.totalYTravel < momentum.totalYTravel && adam.finalDistance < startDistance && momentum.finalDistance < startDistance),
        numbers: { adamYTravel: adam.totalYTravel, momentumYTravel: momentum.totalYTravel },
      },
      {
        id: 'all-approach-minimum',
        text: `Every optimizer ends closer to the minimum (0, 0) than its start (distance ${startDistance.toFixed(2)})`,
        verdict: verdictOf(names.every((n) => run.summary[n]!.finalDistance < startDistance)),
        numbers: Object.fromEntries(names.map((n) => [`${n}Distance`, run.summary[n]!.finalDistance])),
      },
      ...secondOrderClaims(run.series, config),
    ];
    return claims.filter((c): c is ClaimCheck => Boolean(c));
  },
});

/** The step at which an exact landing is checked: float64 leaves nothing above 1e-12 here. */
export const EXACT = 1e-12;
/** How far from the saddle point f is probed along y to show it is not a minimum. */
export const SADDLE_PROBE = 1e-3;

/** The claims on the additions (absent from results made before them). */
function secondOrderClaims(series: PathsSeries, config: PathsConfig): ClaimCheck[] {
  const out: ClaimCheck[] = [];
  const { newton, saddle, sameRate, hessian } = series;
  if (newton) {
    const [x1, y1] = [newton.x[1]!, newton.y[1]!];
    out.push({
      id: 'newton-one-step',
      text: `on x^2/20 + y^2, one Newton step from (${config.start.join(', ')}) lands on the minimum (|x|, |y| < ${EXACT}); the Hessian it needs has parameters^2 entries (the 5-layer MNIST net's, computed, in the numbers)`,
      verdict: verdictOf(Math.abs(x1) < EXACT && Math.abs(y1) < EXACT),
      numbers: { afterOneStep: [x1, y1], ...(hessian ? { hessianParameters: hessian.parameters, hessianEntries: hessian.entries, hessianFloat32GB: hessian.float32Bytes / 1e9 } : {}) },
    });
  }
  if (saddle) {
    const n = saddle.newton.x.length - 1;
    const [sx, sy] = [saddle.newton.x[n]!, saddle.newton.y[n]!];
    const grad = Math.hypot(...gradientAt(SADDLE, sx, sy));
    const fAt = valueAt(SADDLE, sx, sy);
    const fNearby = valueAt(SADDLE, sx, sy + SADDLE_PROBE);
    const gdF = saddle.gd.f;
    const rises = gdF.slice(1).filter((v, i) => !(v < gdF[i]!)).length;
    const gdEnd = gdF.at(-1)!;
    out.push({
      id: 'newton-saddle',
      text: `on the saddle x^2/20 - y^2 from (${config.saddle.start.join(', ')}), Newton goes to the saddle point (gradient norm < ${EXACT}; not a minimum: f is lower ${SADDLE_PROBE} away along y) while gradient descent (lr ${saddle.lr}) lowers f at every step and ends below the saddle point's f`,
      verdict: verdictOf(grad < EXACT && fNearby < fAt && rises === 0 && gdEnd < fAt),
      numbers: { newtonEnd: [sx, sy], newtonGradientNorm: grad, fAtNewtonEnd: fAt, fNearby, gdStepsWhereFDidNotFall: rises, gdFinalF: gdEnd, gdEnd: [saddle.gd.x.at(-1)!, saddle.gd.y.at(-1)!] },
    });
  }
  if (sameRate) {
    const steps = sameRate.sgd.x.length - 1;
    const sgdX = Math.abs(sameRate.sgd.x.at(-1)!);
    const momentumX = Math.abs(sameRate.momentum.x.at(-1)!);
    out.push({
      id: 'momentum-faster-same-rate',
      text: `at the same rate (${sameRate.lr}), Momentum approaches faster along x: its |x| after ${steps} steps is below half of SGD's`,
      verdict: verdictOf(momentumX < sgdX / 2),
      numbers: { momentumAbsX: momentumX, sgdAbsX: sgdX, ratio: momentumX / sgdX },
    });
  }
  return out;
}
