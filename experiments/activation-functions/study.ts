/**
 * S13 activation-functions: the lecture's tour of activations on S2's setting. The 5-layer net
 * is trained on MNIST with plain SGD (lr 0.01, batch 128, 2000 iterations), once per
 * activation, every net on the same minibatch each iteration: sigmoid and tanh with Xavier
 * init, ReLU, Leaky ReLU (slope 0.01) and ELU (alpha 1) with He init.
 *
 * The lesson: sigmoid saturates and kills gradients (its first layer gets a sliver of the
 * gradient its last layer gets), its outputs are not zero-centred (they average 0.5, so for one
 * example every weight gradient of a neuron has the same sign), and it learns slowest; tanh is
 * zero-centred; ReLU and its variants keep the gradient alive through the layers.
 *
 * All nets draw their weights from one stream ("init"): nets with the same init scheme start
 * from identical weights, and Xavier and He nets differ only in scale (by sqrt 2). Before the
 * first update each net is probed (probe.ts) on the same training images; then all train.
 * The training step's wall time is recorded per activation (a timing, not a claim: see below).
 */
import { z } from 'zod';
import { count, iterationSetting, netsByActivation, positive, tailWithinIterations } from '../../src/config.js';
import { firstRows, gatherRows } from '../../src/data/mnist.js';
import { allOf, comparing, lossDifference, verdictOf } from '../../src/claims.js';
import { ACTIVATION_LABEL, type Activation } from '../../src/nn/activation.js';
import { initLabel } from '../../src/nn/init.js';
import { hiddenOf, mnistNet } from '../../src/nn/mnist-net.js';
import { makeOptimizer } from '../../src/optim/optimizers.js';
import { lossCurves, type LossSeries } from '../../src/plot/loss-curves.js';
import { finalLossAndTestAccuracy } from '../../src/regression.js';
import { Rng } from '../../src/rng.js';
import { roundSig } from '../../src/stats.js';
import { defineStudy, type ClaimCheck, type CurvePanel } from '../../src/study.js';
import { disposeBatch, toBatch } from '../../src/train/batches.js';
import { meanLoss, type Trainee } from '../../src/train/loop.js';
import { trainOnSameBatches } from '../../src/train/same-batches.js';
import { activationFigures, gradientPanel } from './figure.js';
import { layerGradientNorms, meanActivations, oneSignShares } from './probe.js';

export const ActivationFunctionsConfigSchema = z
  .strictObject({
    ...iterationSetting,
    lr: positive,
    /** One net per entry, named by its activation. */
    nets: netsByActivation,
    /** Training images the nets are probed on before the first update (the first of them is the one-sign example). */
    probeSize: count(1, 60_000),
  })
  .refine(...tailWithinIterations)
  .refine((c) => c.probeSize <= c.trainSize, { message: 'probeSize must not exceed trainSize', path: ['probeSize'] });
export type ActivationFunctionsConfig = z.infer<typeof ActivationFunctionsConfigSchema>;

// ---- Claim thresholds, fixed before the first run (quick or lecture). ----
/**
 * Vanishing gradient: sigmoid's ||dL/dW_1|| is under this share of its output layer's. The
 * claim's "a tenth". Backward through each sigmoid layer the gradient is multiplied by
 * sigmoid' <= 0.25 (about 0.2 where the units sit near 0.5) and by Xavier weights that keep its
 * scale otherwise, so four sigmoid layers shrink it to about 0.2^4 = 0.002 of the output
 * layer's: a tenth is far above that.
 */
export const SIGMOID_FIRST_OVER_LAST_BELOW = 0.1;
/**
 * ReLU/He keeps the layers' ||dL/dW_l|| within this factor (largest over smallest). He init
 * is built so that the backward signal keeps its variance from layer to layer; what still
 * differs is each layer's input: 784 pixels (an MNIST digit has ||x|| about 9) against 100
 * hidden units (||h|| about 3 under He), so layer 1 may be about three times the others. A
 * factor of 10 (one order of magnitude, the same scale as the sigmoid claim) leaves room for
 * that and for the averaging over the batch.
 */
export const RELU_SPREAD_BELOW = 10;
/**
 * Sigmoid's activations average near 0.5 and tanh's near 0: every hidden layer's mean (over
 * the probe images and its 100 units) within this margin. A unit's own mean is pushed off
 * centre by its random weights (a sigmoid or tanh of an offset with std about 0.2-0.5, so
 * per-unit means scatter by about 0.1-0.15); averaged over 100 units the layer's mean scatters
 * by about 0.015. 0.1 is six or more of those, and far from the other activation's centre (0.5 away).
 */
export const MEAN_MARGIN = 0.1;
/**
 * One-sign share for layers fed by the activation (layers 2 to 5): sigmoid's outputs are all
 * positive, so every neuron's incoming gradients share a sign: exactly 100%, by the argument
 * above, unless a gradient underflows to zero. With tanh inputs of both signs a column shares
 * a sign only if all 100 inputs happen to share one (about 2^-99 for a centred layer); the
 * claim's "far lower" is taken as under 10%, a tenth of sigmoid's.
 */
export const TANH_ONE_SIGN_BELOW = 0.1;

const lecture: ActivationFunctionsConfig = {
  trainSize: 60000,
  hidden: hiddenOf(4),
  batchSize: 128,
  iterations: 2000,
  lr: 0.01,
  nets: [
    { activation: 'sigmoid', init: 'xavier' },
    { activation: 'tanh', init: 'xavier' },
    { activation: 'relu', init: 'he' },
    { activation: 'leaky-relu', init: 'he' },
    { activation: 'elu', init: 'he' },
  ],
  tail: 100,
  probeSize: 1000,
};

/** 10,000 images and 150 iterations: the five nets in about 10 s of CPU (S2's quick SGD, ReLU/He, is at 0.56 after 300). */
const quick: ActivationFunctionsConfig = { ...lecture, trainSize: 10000, iterations: 150, tail: 50 };

/** "ReLU (He)": the legend label of a net. */
export function netLabel(activation: Activation, init: string): string {
  return `${ACTIVATION_LABEL[activation]} (${init === 'xavier' ? 'Xavier' : init === 'he' ? 'He' : init})`;
}

export interface ActivationRow {
  init: string;
  finalLoss: number | null;
  testAccuracy: number;
  diverged: boolean;
  /** At initialization, on the probe images: ||dL/dW_l|| per layer, input side first. */
  gradNorm: number[];
  /** gradNorm of layer 1 over that of the output layer. */
  firstOverLast: number;
  /** Largest over smallest gradNorm. */
  maxOverMin: number;
  /** At initialization: mean activation of each hidden layer over the probe images. */
  meanActivation: number[];
  /** At initialization, for one example: per layer, the share of neurons whose incoming weight gradients all share a sign (layer 1 is fed by pixels, >= 0). */
  oneSignShare: (number | null)[];
  /** Neurons per layer with an all-zero gradient for that example (left out of the share). */
  zeroGradientNeurons: number[];
}

export type ActivationFunctionsSummary = Record<string, ActivationRow>;

export interface ActivationFunctionsSeries extends LossSeries {
  /** Per net: ||dL/dW_l|| per layer at initialization (4 significant digits). */
  gradNorm: Record<string, number[]>;
  /** Per net: its legend label. */
  labels: Record<string, string>;
}

/** Every layer fed by a hidden activation (all but the first): where the one-sign argument applies. */
const fedByActivation = <T>(xs: T[]): T[] => xs.slice(1);

export const activationFunctions = defineStudy<ActivationFunctionsConfig, ActivationFunctionsSeries, ActivationFunctionsSummary>({
  name: 'activation-functions',
  id: 'S13',
  title: 'Activation functions on MNIST',
  description: '5-layer net, SGD 0.01, batch 128, 2000 iterations on the same batches: sigmoid, tanh (Xavier), ReLU, Leaky ReLU, ELU (He); gradients and activations at init, loss, ms per step',
  needsMnist: true,
  configSchema: ActivationFunctionsConfigSchema,
  profiles: { lecture, quick },
  run(config, ctx) {
    const mnist = ctx.mnist();
    const train = firstRows(mnist.train, config.trainSize);
    const trainees: Trainee[] = config.nets.map((n) => ({
      name: n.activation,
      net: mnistNet(config.hidden, { activation: n.activation, init: n.init }, Rng.stream(ctx.seed, 'init')),
      optimizer: makeOptimizer('sgd', config.lr),
    }));

    // At initialization, every net on the same probe images; the first is the one example.
    const probeRows = Rng.stream(ctx.seed, 'probe').choice(train.count, config.probeSize);
    const probe = toBatch(gatherRows(train, probeRows));
    const example = toBatch(gatherRows(train, [probeRows[0]!]));
    const atInit = Object.fromEntries(
      trainees.map((t) => {
        const shares = oneSignShares(t.net, example);
        return [t.name, { gradNorm: layerGradientNorms(t.net, probe), meanActivation: meanActivations(t.net, probe.x), shares }];
      }),
    );
    disposeBatch(probe);
    disposeBatch(example);

    const run = trainOnSameBatches(trainees, { train, test: mnist.test, batchSize: config.batchSize, iterations: config.iterations }, ctx);
    const summary: ActivationFunctionsSummary = {};
    const loss: Record<string, (number | null)[]> = {};
    const labels: Record<string, string> = {};
    const timings: Record<string, number> = { msPerStep: run.msPerStep };
    for (const n of config.nets) {
      const name = n.activation;
      const init = initLabel(n.init);
      const { gradNorm, meanActivation, shares } = atInit[name]!;
      summary[name] = {
        init,
        finalLoss: meanLoss(run.loss[name]!.slice(-config.tail)),
        testAccuracy: run.testAccuracy[name]!,
        diverged: run.divergedAt[name] !== null,
        gradNorm,
        firstOverLast: gradNorm[0]! / gradNorm[gradNorm.length - 1]!,
        maxOverMin: Math.max(...gradNorm) / Math.min(...gradNorm),
        meanActivation,
        oneSignShare: shares.map((s) => s.share),
        zeroGradientNeurons: shares.map((s) => s.zeroNeurons),
      };
      loss[name] = run.loss[name]!.map((x) => (x === null ? null : roundSig(x, 5)));
      labels[name] = netLabel(name, init);
      timings[`msPerStep.${name}`] = run.msPerStepOf[name]!;
    }
    // The step's time is reported, never checked: it depends on the machine and its load.
    ctx.log(`ms per training step (forward, backward, update; wall time, this run): ${config.nets.map((n) => `${n.activation} ${timings[`msPerStep.${n.activation}`]!.toFixed(2)}`).join(', ')}`);
    return {
      series: { loss, divergedAt: run.divergedAt, labels, gradNorm: Object.fromEntries(Object.entries(summary).map(([k, r]) => [k, r.gradNorm.map((g) => roundSig(g, 4))])) },
      summary,
      timings,
    };
  },
  claims(run, config): ClaimCheck[] {
    // Each claim is checked when the run has the nets it speaks of (a "what if" may drop some).
    const s = run.summary;
    const { sigmoid, tanh, relu } = s;
    const names = config.nets.map((n) => n.activation);
    const claims: ClaimCheck[] = [];
    if (sigmoid && names.length > 1) {
      const final = Object.fromEntries(names.map((n) => [n, s[n]!.finalLoss]));
      const others = names.filter((n) => n !== 'sigmoid');
      const each = allOf(Object.fromEntries(others.map((n) => [n, lossDifference('higher', run.series.loss.sigmoid, run.series.loss[n], config.tail)])));
      // The claim predicts sigmoid learns slowest (or not at all): only the others must have learned.
      claims.push(
        comparing(
          {
            id: 'sigmoid-highest-loss',
            text: `sigmoid ends with the highest loss (mean of the last ${config.tail} iterations) of all ${names.length} activations, each difference real (paired test over the shared batches)`,
            verdict: each.verdict,
            ...(each.reason ? { reason: each.reason } : {}),
            numbers: { finalLoss: final, tests: each.tests },
          },
          Object.fromEntries(others.map((n) => [n, { loss: final[n] ?? null }])),
        ),
      );
    }
    if (sigmoid) {
      claims.push({
        id: 'sigmoid-vanishing-gradient',
        text: `at init, sigmoid's first-layer gradient norm ||dL/dW_1|| is under ${SIGMOID_FIRST_OVER_LAST_BELOW} of its output layer's`,
        verdict: verdictOf(sigmoid.firstOverLast < SIGMOID_FIRST_OVER_LAST_BELOW),
        numbers: { firstOverLast: sigmoid.firstOverLast, gradNorm: sigmoid.gradNorm },
      });
    }
    if (relu) {
      claims.push({
        id: 'relu-he-gradient-spread',
        text: `at init, ReLU/He keeps every layer's gradient norm within a factor of ${RELU_SPREAD_BELOW} (largest over smallest)`,
        verdict: verdictOf(relu.maxOverMin < RELU_SPREAD_BELOW),
        numbers: { maxOverMin: relu.maxOverMin, gradNorm: relu.gradNorm },
      });
    }
    if (sigmoid) {
      claims.push({
        id: 'sigmoid-mean-half',
        text: `at init, every hidden layer's sigmoid activations average within ${MEAN_MARGIN} of 0.5 (not zero-centred)`,
        verdict: verdictOf(sigmoid.meanActivation.every((m) => Math.abs(m - 0.5) < MEAN_MARGIN)),
        numbers: { meanActivation: sigmoid.meanActivation },
      });
    }
    if (tanh) {
      claims.push({
        id: 'tanh-mean-zero',
        text: `at init, every hidden layer's tanh activations average within ${MEAN_MARGIN} of 0 (zero-centred)`,
        verdict: verdictOf(tanh.meanActivation.every((m) => Math.abs(m) < MEAN_MARGIN)),
        numbers: { meanActivation: tanh.meanActivation },
      });
    }
    if (sigmoid && tanh) {
      const sig = fedByActivation(sigmoid.oneSignShare);
      const tan = fedByActivation(tanh.oneSignShare);
      claims.push({
        id: 'one-sign-share',
        text: `for one example at init, in every layer fed by the activation, all of a neuron's weight gradients share a sign for 100% of neurons with sigmoid inputs and for under ${TANH_ONE_SIGN_BELOW * 100}% with tanh inputs`,
        verdict: verdictOf(sig.every((x) => x === 1) && tan.every((x) => x !== null && x < TANH_ONE_SIGN_BELOW)),
        numbers: { sigmoid: sig, tanh: tan },
      });
    }
    return claims;
  },
  // CI's guard (src/regression.ts): each activation's final loss and test accuracy.
  keyNumbers: (run) => finalLossAndTestAccuracy(run.summary),
  figures: (result) => activationFigures(result),
  curves(run): CurvePanel[] {
    return [...lossCurves(run.series, run.series.labels, 2.5), gradientPanel(run.series)];
  },
});
