/**
 * S14 data-preprocessing: the lecture's advice on inputs, in S2's setting. The 5-layer net is
 * trained on MNIST with plain SGD (lr 0.01, batch 128, 2000 iterations) on raw pixels in
 * [0, 1], on zero-centred pixels (the mean training image subtracted) and on standardized
 * pixels (also divided by each pixel's standard deviation), with ReLU/He and with
 * sigmoid/Xavier.
 *
 * The statistics come from the training images only (src/data/preprocess.ts) and the test
 * images are transformed with them: the test set is only ever evaluated, never looked at to
 * shape the inputs (test/data-preprocessing.test.ts changes the test images and checks that
 * nothing of the training changes).
 *
 * Every net sees the same minibatches (the same image indices in every preprocessing), and
 * nets of one activation start from identical weights whatever their preprocessing (one
 * "init" stream for all; Xavier and He differ only by sqrt 2).
 */
import { z } from 'zod';
import { iterationSetting, netsByActivation, positive, tailWithinIterations } from '../../src/config.js';
import { firstRows } from '../../src/data/mnist.js';
import { PREPROCESSINGS, fitPreprocessing, maxAbs, type Preprocessing } from '../../src/data/preprocess.js';
import { comparing, lossDifference } from '../../src/claims.js';
import { ACTIVATION_LABEL, type Activation } from '../../src/nn/activation.js';
import { hiddenOf, mnistNet } from '../../src/nn/mnist-net.js';
import { makeOptimizer } from '../../src/optim/optimizers.js';
import { lossCurves, type LossSeries } from '../../src/plot/loss-curves.js';
import { finalLossAndTestAccuracy } from '../../src/regression.js';
import { Rng } from '../../src/rng.js';
import { roundSig } from '../../src/stats.js';
import { defineStudy, type ClaimCheck, type CurvePanel, type StudyContext } from '../../src/study.js';
import { meanLoss, type Divergence } from '../../src/train/loop.js';
import { trainOnSameBatches } from '../../src/train/same-batches.js';
import type { Mnist } from '../../src/data/mnist.js';
import { preprocessingFigures } from './figure.js';

export const DataPreprocessingConfigSchema = z
  .strictObject({
    ...iterationSetting,
    lr: positive,
    preprocessings: z.array(z.enum(PREPROCESSINGS)).min(1),
    /** One net per entry and preprocessing, named by its activation. */
    nets: netsByActivation,
  })
  .refine(...tailWithinIterations)
  .refine((c) => new Set(c.preprocessings).size === c.preprocessings.length, { message: 'each preprocessing at most once', path: ['preprocessings'] });
export type DataPreprocessingConfig = z.infer<typeof DataPreprocessingConfigSchema>;

// ---- Claim thresholds, fixed before the first run (quick or lecture). ----
/**
 * "Zero-centred data ends with a lower training loss than raw data", per activation: the mean
 * loss of the last `tail` iterations strictly lower, with no margin. The claim asks for "lower"
 * and nothing more; the comparison is paired (both nets see the same batches, start from the
 * same weights), so batch-to-batch noise does not enter it, and a margin would be a number
 * chosen without a reason. A compared net that did not learn makes the claim FAIL (src/claims.ts).
 */

const lecture: DataPreprocessingConfig = {
  trainSize: 60000,
  hidden: hiddenOf(4),
  batchSize: 128,
  iterations: 2000,
  lr: 0.01,
  preprocessings: ['raw', 'zero-centred', 'standardized'],
  nets: [
    { activation: 'relu', init: 'he' },
    { activation: 'sigmoid', init: 'xavier' },
  ],
  tail: 100,
};

/** 10,000 images (the statistics come from them) and 120 iterations: six nets in about 10 s of CPU. */
const quick: DataPreprocessingConfig = { ...lecture, trainSize: 10000, iterations: 120, tail: 50 };

export const PREPROCESSING_LABEL: Record<Preprocessing, string> = { raw: 'raw [0, 1]', 'zero-centred': 'zero-centred', standardized: 'standardized' };

/** A net's key in the series and summary: "relu/zero-centred". */
export const netKey = (activation: Activation, p: Preprocessing): string => `${activation}/${p}`;

export interface NetRow {
  activation: Activation;
  preprocessing: Preprocessing;
  finalLoss: number | null;
  testAccuracy: number;
  diverged: boolean;
}

export interface InputRow {
  /** Pixels whose training std is 0, divided by 1 instead (standardized only). */
  guardedPixels: number;
  /** Largest |value| of the transformed training and test images. */
  maxAbsTrain: number;
  maxAbsTest: number;
}

export interface DataPreprocessingSummary {
  nets: Record<string, NetRow>;
  inputs: Partial<Record<Preprocessing, InputRow>>;
}

export interface DataPreprocessingSeries extends LossSeries {
  /** Per net key: its activation and preprocessing (the figure's panel and curve). */
  nets: Record<string, { activation: Activation; preprocessing: Preprocessing }>;
}

/** One preprocessing: fitted on the training images, every net trained on the transformed images. */
export function trainPreprocessing(config: DataPreprocessingConfig, p: Preprocessing, mnist: Mnist, ctx: StudyContext) {
  const train = firstRows(mnist.train, config.trainSize);
  const pre = fitPreprocessing(p, train);
  const data = { train: pre.apply(train), test: pre.apply(mnist.test) };
  const input: InputRow = { guardedPixels: pre.guardedPixels, maxAbsTrain: maxAbs(data.train), maxAbsTest: maxAbs(data.test) };
  const trainees = config.nets.map((n) => ({
    name: n.activation,
    net: mnistNet(config.hidden, { activation: n.activation, init: n.init }, Rng.stream(ctx.seed, 'init')),
    optimizer: makeOptimizer('sgd', config.lr),
  }));
  const run = trainOnSameBatches(trainees, { ...data, batchSize: config.batchSize, iterations: config.iterations }, ctx);
  return { input, stats: pre.stats, run };
}

export const dataPreprocessing = defineStudy<DataPreprocessingConfig, DataPreprocessingSeries, DataPreprocessingSummary>({
  name: 'data-preprocessing',
  id: 'S14',
  title: 'Data preprocessing on MNIST',
  description: '5-layer net, SGD 0.01, batch 128, 2000 iterations on the same batches: raw, zero-centred, standardized pixels (training statistics), ReLU/He and sigmoid/Xavier',
  needsMnist: true,
  configSchema: DataPreprocessingConfigSchema,
  profiles: { lecture, quick },
  run(config, ctx) {
    const mnist = ctx.mnist();
    const loss: Record<string, (number | null)[]> = {};
    const divergedAt: Record<string, Divergence | null> = {};
    const nets: DataPreprocessingSeries['nets'] = {};
    const summary: DataPreprocessingSummary = { nets: {}, inputs: {} };
    const timings: Record<string, number> = {};
    for (const p of config.preprocessings) {
      const { input, run } = trainPreprocessing(config, p, mnist, ctx);
      summary.inputs[p] = input;
      timings[`msPerStep.${p}`] = run.msPerStep;
      for (const n of config.nets) {
        const key = netKey(n.activation, p);
        const curve = run.loss[n.activation]!;
        loss[key] = curve.map((x) => (x === null ? null : roundSig(x, 5)));
        divergedAt[key] = run.divergedAt[n.activation] ?? null;
        nets[key] = { activation: n.activation, preprocessing: p };
        summary.nets[key] = {
          activation: n.activation,
          preprocessing: p,
          finalLoss: meanLoss(curve.slice(-config.tail)),
          testAccuracy: run.testAccuracy[n.activation]!,
          diverged: run.divergedAt[n.activation] !== null,
        };
      }
      ctx.log(`${p}: ${config.nets.map((n) => `${n.activation} final loss ${summary.nets[netKey(n.activation, p)]!.finalLoss?.toFixed(4) ?? 'none (diverged)'}`).join(', ')}; inputs up to |${input.maxAbsTrain.toFixed(3)}| (train), |${input.maxAbsTest.toFixed(3)}| (test)`);
    }
    return { series: { loss, divergedAt, nets }, summary, timings };
  },
  claims(run, config): ClaimCheck[] {
    const claims: ClaimCheck[] = [];
    if (!config.preprocessings.includes('raw') || !config.preprocessings.includes('zero-centred')) return claims;
    for (const n of config.nets) {
      const raw = run.summary.nets[netKey(n.activation, 'raw')]!;
      const centred = run.summary.nets[netKey(n.activation, 'zero-centred')]!;
      const d = lossDifference('lower', run.series.loss[netKey(n.activation, 'zero-centred')], run.series.loss[netKey(n.activation, 'raw')], config.tail);
      claims.push(
        comparing(
          {
            id: `zero-centred-below-raw-${n.activation}`,
            text: `${ACTIVATION_LABEL[n.activation]}: zero-centred inputs end with a lower training loss than raw pixels (mean of the last ${config.tail} iterations; paired test over the shared batches)`,
            verdict: d.verdict,
            ...(d.reason ? { reason: d.reason } : {}),
            numbers: { zeroCentred: centred.finalLoss, raw: raw.finalLoss, test: d.test },
          },
          { 'zero-centred': { loss: centred.finalLoss }, raw: { loss: raw.finalLoss } },
        ),
      );
    }
    return claims;
  },
  // CI's guard (src/regression.ts): each net's final loss and test accuracy.
  keyNumbers: (run) => finalLossAndTestAccuracy(run.summary.nets),
  figures: (result) => preprocessingFigures(result),
  curves(run): CurvePanel[] {
    const activations = [...new Set(Object.values(run.series.nets).map((n) => n.activation))];
    return activations.map((a) => {
      const keys = Object.keys(run.series.nets).filter((k) => run.series.nets[k]!.activation === a);
      const series = { loss: Object.fromEntries(keys.map((k) => [k, run.series.loss[k]!])), divergedAt: {} };
      const labels = Object.fromEntries(keys.map((k) => [k, PREPROCESSING_LABEL[run.series.nets[k]!.preprocessing]]));
      return { ...lossCurves(series, labels)[0]!, panel: `${ACTIVATION_LABEL[a]}: training loss` };
    });
  },
});
