/**
 * S19 dropout-ensemble: dropout at test time, and dropout as an ensemble inside one net.
 *
 * (a) Two nets trained once each with dropout: S6's dropout net (7 layers, 300 images, ratio
 * 0.2; the same streams as S6's dropout variant, so the same net bit for bit) and the 5-layer
 * ReLU/He net on 10,000 images with ratio 0.5. Each is evaluated on the test images
 * (src/nn/mc-dropout.ts) as
 *   - the scaled full net (every unit, outputs times 1 - r: the suite's own evaluation),
 *   - the unscaled full net (every unit, nothing multiplied),
 *   - Monte-Carlo dropout: the softmax averaged over the first K of one sequence of random
 *     masks (training's masks: kept with probability 1 - r, not rescaled), K = 1 .. 100.
 * (b) A larger net (7 layers of 300 units) on 300 images, SGD 0.01, 301 epochs: plain, weight
 * decay 0.1, dropout 0.2 and both, from the same initial weights on the same batches; train and
 * test accuracy every epoch.
 *
 * Choices the notes leave open, made before the lecture-scale run:
 * - the 5-layer net: SGD 0.1, batch 100, 30 epochs of 10,000 images (about 3,000 updates; the
 *   rate and batch of the ensembles study on the same images, three times its epochs because
 *   dropout 0.5, not inverted, on four layers learns slowly: the quick profile's 300 updates
 *   reach only about 0.36);
 * - the masks: one stream per net, "mc-masks:<net>"; K's averages are nested (the first K of
 *   100 passes), so the curve over K is one sequence of running averages;
 * - the larger net: batch 100 (S6's), the four variants share initial weights and batches
 *   ("init:larger", "batches:larger"), so they differ only by decay and dropout.
 */
import { z } from 'zod';
import { count, hiddenLayers, positive, share, testImages, trainImages } from '../../src/config.js';
import { allOf, comparing } from '../../src/claims.js';
import { NUM_CLASSES, firstRows } from '../../src/data/mnist.js';
import { judgeDifference } from '../../src/difference.js';
import { MaskStream, argMaxRows, crossEntropyOf, monteCarloProbabilities, predictWith, probabilitiesWith, scaled, unscaled } from '../../src/nn/mc-dropout.js';
import { disposeTrainees, hiddenOf, mnistNet } from '../../src/nn/mnist-net.js';
import { makeOptimizer } from '../../src/optim/optimizers.js';
import { ACCURACY_TOLERANCE } from '../../src/regression.js';
import { Rng } from '../../src/rng.js';
import { roundSig, roundTo } from '../../src/stats.js';
import { defineStudy, unit, type ClaimCheck, type KeyNumber, type UnitContext } from '../../src/study.js';
import { accuracyOf, disposeBatch, toBatch } from '../../src/train/batches.js';
import { trainEpochs } from '../../src/train/loop.js';
import { dropoutEnsembleFigures } from './figure.js';

/** The two nets of part (a). */
export const MC_NETS = ['s6-dropout', 'five-layer'] as const;
export type McNetName = (typeof MC_NETS)[number];
export const MC_NET_TITLE: Record<McNetName, string> = { 's6-dropout': "S6's dropout net", 'five-layer': '5-layer net' };

/** The variants of part (b). */
export const LARGER_VARIANTS = ['plain', 'weight-decay', 'dropout', 'both'] as const;
export type LargerVariant = (typeof LARGER_VARIANTS)[number];
export const LARGER_TITLE: Record<LargerVariant, string> = { plain: 'plain', 'weight-decay': 'weight decay', dropout: 'dropout', both: 'weight decay + dropout' };

const McNetSchema = z.strictObject({
  /** The first N training images. */
  trainSize: trainImages,
  hidden: hiddenLayers,
  lr: positive,
  batchSize: count(1, 60_000),
  /** Epochs of the lecture's epoch loop (an evaluation point each; here nothing is evaluated on the way). */
  epochs: count(1),
  /** Dropout ratio after every hidden ReLU (must be above 0: the study is about it). */
  dropout: share.refine((r) => r > 0, 'a ratio above 0'),
  /** Streams "init:<streams>" and "batches:<streams>" ("dropout": S6's dropout variant's). */
  streams: z.string().min(1),
});
export type McNetSpec = z.infer<typeof McNetSchema>;

export const DropoutEnsembleConfigSchema = z.strictObject({
  mc: z.strictObject({
    /** The first N test images every evaluation of part (a) uses. */
    testSize: testImages,
    /** Numbers of masks averaged, ascending. */
    ks: z
      .array(count(1, 10_000))
      .min(1)
      .refine((ks) => ks.every((k, i) => i === 0 || k > ks[i - 1]!), 'ascending, each once'),
    nets: z.record(z.enum(MC_NETS), McNetSchema),
  }),
  larger: z.strictObject({
    trainSize: trainImages,
    testSize: testImages,
    hidden: hiddenLayers,
    lr: positive,
    batchSize: count(1, 60_000),
    epochs: count(1),
    /** lambda of 0.5*lambda*sum(W^2) in the weight-decay and both variants. */
    weightDecay: positive,
    /** Dropout ratio of the dropout and both variants. */
    dropout: share.refine((r) => r > 0, 'a ratio above 0'),
  }),
});
export type DropoutEnsembleConfig = z.infer<typeof DropoutEnsembleConfigSchema>;

const lecture: DropoutEnsembleConfig = {
  mc: {
    testSize: 10_000,
    ks: [1, 2, 5, 10, 30, 100],
    nets: {
      's6-dropout': { trainSize: 300, hidden: hiddenOf(6), lr: 0.01, batchSize: 100, epochs: 301, dropout: 0.2, streams: 'dropout' },
      'five-layer': { trainSize: 10_000, hidden: hiddenOf(4), lr: 0.1, batchSize: 100, epochs: 30, dropout: 0.5, streams: 'five-layer' },
    },
  },
  larger: { trainSize: 300, testSize: 10_000, hidden: hiddenOf(6, 300), lr: 0.01, batchSize: 100, epochs: 301, weightDecay: 0.1, dropout: 0.2 },
};

/**
 * CI-sized (about a tenth of the lecture's work): S6's dropout net for 51 epochs at 0.06 (its
 * lr x updates near the lecture's, as S6's quick profile keeps them); the 5-layer net on 1,000
 * images, 30 epochs as at lecture scale; K up to 30 on 500 test images (the claims compare the
 * smallest and the largest K); the larger net 100 units wide for 21 epochs at 0.15, 300 test
 * images.
 */
const quick: DropoutEnsembleConfig = {
  mc: {
    testSize: 500,
    ks: [1, 2, 5, 10, 30],
    nets: {
      's6-dropout': { ...lecture.mc.nets['s6-dropout'], lr: 0.06, epochs: 51 },
      'five-layer': { ...lecture.mc.nets['five-layer'], trainSize: 1000 },
    },
  },
  larger: { ...lecture.larger, testSize: 300, hidden: hiddenOf(6, 100), lr: 0.15, epochs: 21 },
};

/** Accuracies are multiples of 1/n (n <= 10,000): five decimals keep them exact. */
const round5 = (x: number): number => roundTo(x, 5);

/** One way of evaluating a net, against the scaled full net on the same images. */
export interface Evaluation {
  accuracy: number;
  /** Mean test cross-entropy of its probabilities. */
  loss: number;
  /** Images it classifies right and the scaled net wrong, and the reverse (McNemar's counts). */
  onlyThis: number;
  onlyScaled: number;
}

export interface McNetSeries {
  ratio: number;
  /** Hidden layers, each followed by dropout. */
  dropoutLayers: number;
  /** Accuracy of the scaled net on its own training images. */
  trainAccuracy: number;
  scaled: Evaluation;
  unscaled: Evaluation;
  /** Share of test images whose predicted class differs between the scaled and unscaled nets. */
  unscaledChangedShare: number;
  ks: number[];
  mc: Evaluation[];
}

export interface LargerSeries {
  train: number[];
  test: number[];
}

export interface DropoutEnsembleSeries {
  mc: Partial<Record<McNetName, McNetSeries>>;
  larger: Partial<Record<LargerVariant, LargerSeries>>;
}

export interface DropoutEnsembleSummary {
  mc: Partial<Record<McNetName, { scaled: number; unscaled: number; mcFirst: number; mcLast: number; trainAccuracy: number }>>;
  larger: Partial<Record<LargerVariant, { finalTrain: number; finalTest: number; finalGap: number; bestTest: number }>>;
  /** Final test images only dropout gets right and only weight decay does (McNemar's counts). */
  dropoutVsDecay: { dropoutOnly: number; decayOnly: number } | null;
}

function evaluation(pred: Int32Array, probs: Float32Array, labels: Uint8Array, scaledPred: Int32Array): Evaluation {
  let onlyThis = 0;
  let onlyScaled = 0;
  for (let i = 0; i < labels.length; i++) {
    const a = pred[i] === labels[i];
    const b = scaledPred[i] === labels[i];
    if (a && !b) onlyThis++;
    if (b && !a) onlyScaled++;
  }
  return { accuracy: accuracyOf(pred, labels), loss: roundSig(crossEntropyOf(probs, labels, NUM_CLASSES), 6), onlyThis, onlyScaled };
}

/** Part (a): one dropout net trained once, then evaluated every way. */
function mcNet(config: DropoutEnsembleConfig, name: McNetName, ctx: UnitContext): McNetSeries & { trainMs: number; evalMs: number } {
  const spec = config.mc.nets[name];
  const mnist = ctx.mnist();
  const train = firstRows(mnist.train, spec.trainSize);
  const net = mnistNet(spec.hidden, { activation: 'relu', init: 'he', dropout: spec.dropout }, Rng.stream(ctx.seed, `init:${spec.streams}`));
  const optimizer = makeOptimizer('sgd', spec.lr);
  const t0 = performance.now();
  // The epoch loop with nothing evaluated on the way: the same updates (and dropout masks) as
  // the loop that evaluates every epoch, since evaluation draws no random numbers.
  trainEpochs({ trainees: [{ name, net, optimizer }], train, batchSize: spec.batchSize, epochs: spec.epochs, rng: Rng.stream(ctx.seed, `batches:${spec.streams}`), evalSets: {} });
  const t1 = performance.now();
  const test = toBatch(firstRows(mnist.test, config.mc.testSize));
  const trainSet = toBatch(train);
  const labels = test.labels;
  const scaledPred = predictWith(net, test.x, scaled(net));
  const trainAccuracy = accuracyOf(predictWith(net, trainSet.x, scaled(net)), trainSet.labels);
  const unscaledPred = predictWith(net, test.x, unscaled);
  let changed = 0;
  for (let i = 0; i < labels.length; i++) if (scaledPred[i] !== unscaledPred[i]) changed++;
  const masks = new MaskStream(ctx.seed, `mc-masks:${name}`, spec.dropout);
  const averages = monteCarloProbabilities(net, test.x, masks, config.mc.ks);
  const out = {
    ratio: spec.dropout,
    dropoutLayers: spec.hidden.length,
    trainAccuracy,
    scaled: evaluation(scaledPred, probabilitiesWith(net, test.x, scaled(net)), labels, scaledPred),
    unscaled: evaluation(unscaledPred, probabilitiesWith(net, test.x, unscaled), labels, scaledPred),
    unscaledChangedShare: changed / labels.length,
    ks: [...config.mc.ks],
    mc: config.mc.ks.map((k) => {
      const p = averages.get(k)!;
      return evaluation(argMaxRows(p, NUM_CLASSES), p, labels, scaledPred);
    }),
    trainMs: t1 - t0,
    evalMs: performance.now() - t1,
  };
  disposeBatch(test);
  disposeBatch(trainSet);
  disposeTrainees([{ net, optimizer }]);
  return out;
}

/** Part (b): one variant of the larger net, train and test accuracy every epoch, and its final test predictions. */
function largerVariant(config: DropoutEnsembleConfig, variant: LargerVariant, ctx: UnitContext): LargerSeries & { finalPredictions: number[]; msPerStep: number; evalMs: number } {
  const c = config.larger;
  const evalSets = ctx.cached(
    's19-larger-eval',
    () => {
      const mnist = ctx.mnist();
      return { train: toBatch(firstRows(mnist.train, c.trainSize)), test: toBatch(firstRows(mnist.test, c.testSize)) };
    },
    (sets) => {
      disposeBatch(sets.train);
      disposeBatch(sets.test);
    },
  );
  const decay = variant === 'weight-decay' || variant === 'both' ? c.weightDecay : 0;
  const dropout = variant === 'dropout' || variant === 'both' ? c.dropout : 0;
  const net = mnistNet(c.hidden, { activation: 'relu', init: 'he', weightDecay: decay, dropout }, Rng.stream(ctx.seed, 'init:larger'));
  const optimizer = makeOptimizer('sgd', c.lr);
  const r = trainEpochs({ trainees: [{ name: variant, net, optimizer }], train: firstRows(ctx.mnist().train, c.trainSize), batchSize: c.batchSize, epochs: c.epochs, rng: Rng.stream(ctx.seed, 'batches:larger'), evalSets });
  const finalPredictions = Array.from(net.predict(evalSets.test.x));
  disposeTrainees([{ net, optimizer }]);
  return { train: r.accuracy[variant]!.train!, test: r.accuracy[variant]!.test!, finalPredictions, msPerStep: r.msPerStep, evalMs: r.evalMs };
}

const units = { mcNet: unit(mcNet), largerVariant: unit(largerVariant) };

export const dropoutEnsemble = defineStudy<DropoutEnsembleConfig, DropoutEnsembleSeries, DropoutEnsembleSummary, typeof units>({
  name: 'dropout-ensemble',
  id: 'S19',
  title: 'Dropout at test time, and as an ensemble',
  description:
    "S6's dropout net and a 5-layer net with dropout 0.5: test accuracy of the scaled and unscaled full net and of Monte-Carlo averages over K = 1..100 masks; a 7x300 net on 300 images: plain, weight decay, dropout, both",
  needsMnist: true,
  configSchema: DropoutEnsembleConfigSchema,
  profiles: { lecture, quick },
  // Each net of part (a) and each variant of part (b) is a unit: workers and shards spread them.
  units,
  async run(config, ctx) {
    const tasks = [
      ...MC_NETS.map((n) => ({ unit: 'mcNet' as const, key: `mc:${n}`, input: n })),
      ...LARGER_VARIANTS.map((v) => ({ unit: 'largerVariant' as const, key: `larger:${v}`, input: v })),
    ];
    const progress = ctx.progress('nets', tasks.length);
    const records = await ctx.units.run(tasks, () => progress.tick());
    progress.done();
    const series: DropoutEnsembleSeries = { mc: {}, larger: {} };
    const summary: DropoutEnsembleSummary = { mc: {}, larger: {}, dropoutVsDecay: null };
    const timings: Record<string, number> = {};
    const predictions: Partial<Record<LargerVariant, number[]>> = {};
    tasks.forEach((t, k) => {
      if (t.unit === 'mcNet') {
        const { trainMs, evalMs, ...s } = records[k] as ReturnType<typeof mcNet>;
        series.mc[t.input] = s;
        summary.mc[t.input] = { scaled: s.scaled.accuracy, unscaled: s.unscaled.accuracy, mcFirst: s.mc[0]!.accuracy, mcLast: s.mc.at(-1)!.accuracy, trainAccuracy: s.trainAccuracy };
        Object.assign(timings, { [`${t.input}.trainMs`]: trainMs, [`${t.input}.evalMs`]: evalMs });
        ctx.log(
          `${t.input}: scaled ${s.scaled.accuracy.toFixed(4)}, unscaled ${s.unscaled.accuracy.toFixed(4)}, ` +
            s.ks.map((kk, i) => `K=${kk} ${s.mc[i]!.accuracy.toFixed(4)}`).join(', '),
        );
      } else {
        const { finalPredictions, msPerStep, evalMs, ...r } = records[k] as ReturnType<typeof largerVariant>;
        series.larger[t.input] = { train: r.train.map(round5), test: r.test.map(round5) };
        predictions[t.input] = finalPredictions;
        summary.larger[t.input] = { finalTrain: r.train.at(-1)!, finalTest: r.test.at(-1)!, finalGap: r.train.at(-1)! - r.test.at(-1)!, bestTest: Math.max(...r.test) };
        Object.assign(timings, { [`larger.${t.input}.msPerStep`]: msPerStep, [`larger.${t.input}.evalMs`]: evalMs });
        ctx.log(`larger net, ${t.input}: train ${r.train.at(-1)!.toFixed(3)} test ${r.test.at(-1)!.toFixed(4)} after ${config.larger.epochs} epochs`);
      }
    });
    const pd = predictions.dropout;
    const pw = predictions['weight-decay'];
    if (pd && pw) {
      const labels = firstRows(ctx.mnist().test, config.larger.testSize).labels;
      let dropoutOnly = 0;
      let decayOnly = 0;
      for (let i = 0; i < labels.length; i++) {
        const a = pd[i] === labels[i];
        const b = pw[i] === labels[i];
        if (a && !b) dropoutOnly++;
        if (b && !a) decayOnly++;
      }
      summary.dropoutVsDecay = { dropoutOnly, decayOnly };
    }
    return { series, summary, timings };
  },
  claims: (run, config) => dropoutEnsembleClaims(run.series, run.summary, config),
  // CI's guard: every test accuracy of part (a), and part (b)'s final train and test accuracy.
  keyNumbers(run): Record<string, KeyNumber> {
    const out: Record<string, KeyNumber> = {};
    const acc = (value: number): KeyNumber => ({ value, tolerance: ACCURACY_TOLERANCE });
    for (const n of MC_NETS) {
      const s = run.series.mc[n];
      if (!s) continue;
      out[`${n}.scaled`] = acc(s.scaled.accuracy);
      out[`${n}.unscaled`] = acc(s.unscaled.accuracy);
      s.ks.forEach((k, i) => (out[`${n}.mc${k}`] = acc(s.mc[i]!.accuracy)));
    }
    for (const v of LARGER_VARIANTS) {
      const s = run.summary.larger[v];
      if (!s) continue;
      out[`larger.${v}.finalTrainAccuracy`] = acc(s.finalTrain);
      out[`larger.${v}.finalTestAccuracy`] = acc(s.finalTest);
    }
    return out;
  },
  figures: dropoutEnsembleFigures,
  curves: (run) => [
    ...MC_NETS.filter((n) => run.series.mc[n]).map((n) => {
      const s = run.series.mc[n]!;
      return {
        panel: `${MC_NET_TITLE[n]}: test accuracy against K`,
        x: 'masks averaged (K)',
        y: 'test accuracy',
        lines: [
          { name: 'Monte-Carlo average', x: s.ks, y: s.mc.map((e) => e.accuracy) },
          { name: 'scaled full net', x: s.ks, y: s.ks.map(() => s.scaled.accuracy) },
          { name: 'unscaled full net', x: s.ks, y: s.ks.map(() => s.unscaled.accuracy) },
        ],
      };
    }),
    ...LARGER_VARIANTS.filter((v) => run.series.larger[v]).map((v) => ({
      panel: `larger net, ${LARGER_TITLE[v]}`,
      x: 'epoch',
      y: 'accuracy',
      lines: [
        { name: 'train', y: run.series.larger[v]!.train },
        { name: 'test', y: run.series.larger[v]!.test },
      ],
    })),
  ],
});

// ---------------------------------------------------------------------------------------
// Claims, with their tests, fixed before the lecture-scale run. Every accuracy difference is
// between two evaluations of the same test images, judged by the suite's rule (McNemar's exact
// test on the images only one of them gets right, src/difference.ts).
// - unscaled-worse (per net of part (a)): the unscaled full net's test accuracy is below the
//   scaled net's, a real difference. The nets are ReLU nets, and ReLU is positively homogeneous
//   (relu(c z) = c relu(z) for c > 0): without biases, leaving out the scaling would multiply
//   the logits by (1/(1 - r))^L and leave every arg-max as it is. Only the biases, which the
//   unscaled net's larger activations outweigh, can change a prediction. So the claim may well
//   be within the noise: then it is inconclusive, with that reason and the measured figures
//   (accuracies, the share of changed predictions, the test cross-entropies, on which the
//   scaling does act).
// - one-mask-worse (per net): the K = 1 Monte-Carlo net's test accuracy is below the scaled
//   net's, a real difference.
// - mc-approaches-scaled (per net): the largest K's distance to the scaled net's accuracy is
//   smaller than K = 1's (the smallest K's), and the largest K's difference from the scaled net
//   is not a real one; both parts must hold.
// - dropout-at-least-weight-decay (part (b)): dropout's final test accuracy is not below
//   weight decay's by a real difference ("at least": a difference within the noise does not
//   contradict it); both nets must have learned.

/** Why the scaling cannot matter much for a ReLU net's arg-max (the reason beside an inconclusive unscaled-worse). */
export const HOMOGENEITY_NOTE =
  'ReLU is positively homogeneous, so without biases the unscaled logits are the scaled ones times (1/(1-r))^L and the arg-max is unchanged; only the biases make the two nets differ';

export function dropoutEnsembleClaims(series: DropoutEnsembleSeries, summary: DropoutEnsembleSummary, config: DropoutEnsembleConfig): ClaimCheck[] {
  const claims: ClaimCheck[] = [];
  const n = config.mc.testSize;
  for (const name of MC_NETS) {
    const s = series.mc[name];
    if (!s) continue;
    const title = MC_NET_TITLE[name];
    const mustLearn = { scaled: { accuracy: s.scaled.accuracy } };
    const vsScaled = (e: Evaluation) => ({ kind: 'accuracy' as const, n, a: e.accuracy, b: s.scaled.accuracy, aOnly: e.onlyThis, bOnly: e.onlyScaled });
    const u = judgeDifference('lower', vsScaled(s.unscaled));
    claims.push(
      comparing(
        {
          id: `unscaled-worse-${name}`,
          text: `${title} (dropout ${s.ratio}): the full net without the scaling by 1 - r has a lower test accuracy than the scaled full net (a real difference)`,
          verdict: u.verdict,
          ...(u.verdict === 'inconclusive' ? { reason: `${u.reason}; ${HOMOGENEITY_NOTE}` } : {}),
          numbers: {
            scaled: s.scaled.accuracy,
            unscaled: s.unscaled.accuracy,
            changedPredictions: roundSig(s.unscaledChangedShare, 4),
            scaledLoss: s.scaled.loss,
            unscaledLoss: s.unscaled.loss,
            test: u.difference.test,
          },
        },
        mustLearn,
      ),
    );
    const first = s.mc[0]!;
    const last = s.mc.at(-1)!;
    const kFirst = s.ks[0]!;
    const kLast = s.ks.at(-1)!;
    const one = judgeDifference('lower', vsScaled(first));
    claims.push(
      comparing(
        {
          id: `one-mask-worse-${name}`,
          text: `${title}: one random mask (K = ${kFirst}) gives a lower test accuracy than the scaled full net (a real difference)`,
          verdict: one.verdict,
          ...(one.reason ? { reason: one.reason } : {}),
          numbers: { scaled: s.scaled.accuracy, [`mc${kFirst}`]: first.accuracy, test: one.difference.test },
        },
        mustLearn,
      ),
    );
    const closer = Math.abs(last.accuracy - s.scaled.accuracy) < Math.abs(first.accuracy - s.scaled.accuracy);
    const lastDiff = judgeDifference('notLower', vsScaled(last));
    const notReal = !lastDiff.difference.real;
    const parts = allOf({
      closer: { verdict: closer ? 'holds' : 'FAILS', ...(closer ? {} : { reason: `|K=${kLast} - scaled| ${Math.abs(last.accuracy - s.scaled.accuracy).toFixed(4)} is not below |K=${kFirst} - scaled| ${Math.abs(first.accuracy - s.scaled.accuracy).toFixed(4)}` }), test: 'distance to the scaled net' },
      [`K=${kLast} like scaled`]: { verdict: notReal ? 'holds' : 'FAILS', ...(notReal ? {} : { reason: `a real difference (${lastDiff.difference.test})` }), test: lastDiff.difference.test },
    });
    claims.push(
      comparing(
        {
          id: `mc-approaches-scaled-${name}`,
          text: `${title}: the Monte-Carlo average approaches the scaled net as K grows: K = ${kLast} is closer to the scaled net's test accuracy than K = ${kFirst}, and not different from it by a real difference`,
          verdict: parts.verdict,
          ...(parts.reason ? { reason: parts.reason } : {}),
          numbers: { scaled: s.scaled.accuracy, ...Object.fromEntries(s.ks.map((k, i) => [`mc${k}`, s.mc[i]!.accuracy])), tests: parts.tests },
        },
        mustLearn,
      ),
    );
  }
  const d = summary.larger.dropout;
  const w = summary.larger['weight-decay'];
  if (d && w && summary.dropoutVsDecay) {
    const dv = judgeDifference('notLower', { kind: 'accuracy', n: config.larger.testSize, a: d.finalTest, b: w.finalTest, aOnly: summary.dropoutVsDecay.dropoutOnly, bOnly: summary.dropoutVsDecay.decayOnly });
    const p = summary.larger.plain;
    const both = summary.larger.both;
    claims.push(
      comparing(
        {
          id: 'dropout-at-least-weight-decay',
          text: `Larger net (${config.larger.hidden.length + 1} layers of ${config.larger.hidden[0]} units, ${config.larger.trainSize} images): dropout ${config.larger.dropout}'s final test accuracy is at least weight decay ${config.larger.weightDecay}'s (not lower by a real difference)`,
          verdict: dv.verdict,
          ...(dv.reason ? { reason: dv.reason } : {}),
          numbers: {
            dropout: d.finalTest,
            weightDecay: w.finalTest,
            plain: p?.finalTest ?? null,
            both: both?.finalTest ?? null,
            gaps: Object.fromEntries(LARGER_VARIANTS.filter((v) => summary.larger[v]).map((v) => [v, roundSig(summary.larger[v]!.finalGap, 4)])),
            test: dv.difference.test,
          },
        },
        { dropout: { accuracy: d.finalTest }, 'weight decay': { accuracy: w.finalTest } },
      ),
    );
  }
  return claims;
}
