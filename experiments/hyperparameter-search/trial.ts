/**
 * S7's unit of work, one trial: a 7-layer net trained with one (lr, decay) on the search's
 * 400 training images, its validation and training accuracy recorded every epoch; and how
 * trials are scored, ranked and summed up per stage.
 *
 * A trial's draws come from streams named by (seed, stage, trial index): its initial weights
 * and its minibatches (its hyperparameters too, see study.ts). So trials are independent of
 * one another and of the order and process they run in.
 */
import { gatherRows, type MnistSplit } from '../../src/data/mnist.js';
import type { Mlp } from '../../src/nn/mlp.js';
import { mnistNet } from '../../src/nn/mnist-net.js';
import { makeOptimizer } from '../../src/optim/optimizers.js';
import { Rng } from '../../src/rng.js';
import { median, roundTo, spearman } from '../../src/stats.js';
import { UserError } from '../../src/errors.js';
import type { UnitContext } from '../../src/study.js';
import { disposeBatch, toBatch, type Batch } from '../../src/train/batches.js';
import { trainEpochs, wholeIterationsPerEpoch } from '../../src/train/loop.js';
import type { HyperParams, HyperparameterSearchConfig, Range } from './study.js';

export interface TrialRecord {
  stage: number;
  trial: number;
  lr: number;
  decay: number;
  /** Accuracy per epoch (evaluation mode) on the validation and training images. */
  val: number[];
  train: number[];
  /** Set when the loss turned NaN/Inf: the epoch and iteration it happened in. */
  diverged: { epoch: number | null; iteration: number } | null;
  /** Wall time of the trial (a timing: not part of the result's series). */
  ms: number;
}

/** The input of one trial unit. */
export interface TrialInput {
  stage: number;
  trial: number;
  hp: HyperParams;
}

export interface SearchData {
  train: MnistSplit;
  val: MnistSplit;
}

/** What a trial needs of a config: the data and how to train (S11 trains S7's trials with its own config). */
export type TrialSetup = Pick<HyperparameterSearchConfig, 'subsetSize' | 'validationShare' | 'hidden' | 'batchSize' | 'epochs'>;

/** The first `subsetSize` training images, shuffled once by the seed, split validation-first. */
export function splitData(train: MnistSplit, config: TrialSetup, seed: number): SearchData {
  if (train.count < config.subsetSize) throw new UserError(`S7 needs ${config.subsetSize} training images, MNIST has ${train.count}`);
  const perm = Rng.stream(seed, 'shuffle').permutation(config.subsetSize);
  const nVal = Math.round(config.validationShare * config.subsetSize);
  return { val: gatherRows(train, perm.subarray(0, nVal)), train: gatherRows(train, perm.subarray(nVal)) };
}

/** The search's data held as tensors for evaluation, shared by every trial of a run. */
export interface EvalData {
  train: MnistSplit;
  val: Batch;
  trainEval: Batch;
}

export function evalData(train: MnistSplit, config: TrialSetup, seed: number): EvalData {
  const split = splitData(train, config, seed);
  return { train: split.train, val: toBatch(split.val), trainEval: toBatch(split.train) };
}

export function disposeEvalData(data: EvalData): void {
  disposeBatch(data.val);
  disposeBatch(data.trainEval);
}

/** Trains one trial's network; the caller disposes the returned net. */
export function trainTrial(config: TrialSetup, data: EvalData, seed: number, t: TrialInput): { record: TrialRecord; net: Mlp } {
  const t0 = performance.now();
  const { stage, trial, hp } = t;
  const net = mnistNet(config.hidden, { activation: 'relu', init: 'he', weightDecay: hp.decay }, Rng.stream(seed, `init:${stage}:${trial}`));
  const optimizer = makeOptimizer('sgd', hp.lr);
  const run = trainEpochs({
    trainees: [{ name: 'net', net, optimizer }],
    train: data.train,
    batchSize: config.batchSize,
    epochs: config.epochs,
    // Whole iterations per epoch, ceil(400 / batch): S11's 4-D trials use batch sizes that do
    // not divide the 400 training images. S7's batch of 100 gives 4, as the lecture's loop does.
    iterationsPerEpoch: wholeIterationsPerEpoch(data.train.count, config.batchSize),
    rng: Rng.stream(seed, `batches:${stage}:${trial}`),
    evalSets: { val: data.val, train: data.trainEval },
  });
  optimizer.dispose();
  const acc = run.accuracy.net!;
  const d = run.divergedAt.net ?? null;
  const record: TrialRecord = {
    stage,
    trial,
    lr: hp.lr,
    decay: hp.decay,
    val: acc.val!,
    train: acc.train!,
    diverged: d ? { epoch: d.epoch, iteration: d.iteration } : null,
    ms: Math.round(performance.now() - t0),
  };
  return { record, net };
}

/** The trial unit as the unit runner calls it, in this process or a worker. */
export function trialUnit(config: HyperparameterSearchConfig, input: TrialInput, ctx: UnitContext): TrialRecord {
  const data = ctx.cached('s7-data', () => evalData(ctx.mnist().train, config, ctx.seed), disposeEvalData);
  const { record, net } = trainTrial(config, data, ctx.seed, input);
  net.dispose();
  return record;
}

type Scored = Pick<TrialRecord, 'stage' | 'trial' | 'val' | 'diverged'>;

/** A trial's score: its final validation accuracy; a diverged trial cannot be picked. */
export function score(t: Scored): number {
  return t.diverged ? -Infinity : (t.val[t.val.length - 1] ?? -Infinity);
}

/** Trials best first by final validation accuracy; ties keep the run order (stage, trial). */
export function rankTrials<T extends Scored>(trials: T[]): T[] {
  return [...trials].sort((a, b) => score(b) - score(a) || a.stage - b.stage || a.trial - b.trial);
}

/** Number of a stage's trials that count as its best. */
export function topCount(trials: number, n: HyperparameterSearchConfig['narrowing']): number {
  return Math.min(trials, Math.max(n.minTop, Math.round(n.topShare * trials)));
}

export interface StageSummary {
  stage: number;
  lrRange: Range;
  decayRange: Range;
  trials: number;
  diverged: number;
  bestVal: number | null;
  best: { trial: number; lr: number; decay: number } | null;
  medianVal: number | null;
  /** Trials whose final validation accuracy is above 0.5 (the lecture's run: 18 of 100). */
  above05: number;
  /** Spearman's rho of log10(lr) and of log10(decay) with the final validation accuracy. */
  rhoLr: number | null;
  rhoDecay: number | null;
  /** The best trials' lr span (what the next stage narrows to, before widening). */
  topLr: Range | null;
  topDecay: Range | null;
  topCount: number;
}

export function summarizeStage(config: HyperparameterSearchConfig, stage: number, lr: Range, decay: Range, trials: TrialRecord[]): StageSummary {
  const ok = trials.filter((t) => !t.diverged);
  const finals = ok.map(score);
  const ranked = rankTrials(trials);
  const k = topCount(trials.length, config.narrowing);
  const top = ranked.slice(0, k).filter((t) => !t.diverged);
  const b = ranked[0] && !ranked[0].diverged ? ranked[0] : null;
  const span = (xs: number[]): Range | null => (xs.length ? [Math.min(...xs), Math.max(...xs)] : null);
  const med = median(finals);
  return {
    stage,
    lrRange: lr,
    decayRange: decay,
    trials: trials.length,
    diverged: trials.length - ok.length,
    bestVal: b ? score(b) : null,
    best: b ? { trial: b.trial, lr: b.lr, decay: b.decay } : null,
    medianVal: med === null ? null : roundTo(med, 4),
    above05: finals.filter((v) => v > 0.5).length,
    rhoLr: spearman(ok.map((t) => Math.log10(t.lr)), finals),
    rhoDecay: spearman(ok.map((t) => Math.log10(t.decay)), finals),
    topLr: span(top.map((t) => t.lr)),
    topDecay: span(top.map((t) => t.decay)),
    topCount: k,
  };
}
