/**
 * S11 search-strategies: how to place a search's trials. The notes' lessons, measured:
 *
 * (a) Random beats grid when one hyperparameter matters much more than the other: a 4x4 grid
 *     tries only 4 learning rates, 16 random trials try 16. Both get the same budget on S7's
 *     net, data and ranges, repeated over several seeds.
 * (b) Sample a rate on a log scale (uniform on 1e-4..1 puts 90% of the draws in 0.1..1) and an
 *     averaging rate beta through log10(1 - beta) (beta near 1 is sensitive), counted from
 *     10,000 draws of each (src/search/sampling.ts, the sampler S7 uses too).
 * (c) Be careful when the best value sits on the border of the range: S7's border rule, run
 *     again on S7's committed lecture result, and what its extended stage found.
 *
 * (d) Bayesian search: a tree-structured Parzen estimator (src/search/tpe.ts, Hyperopt's
 *     algorithm) against random search on the same box, each read at budgets of 16 and 48
 *     trials, over the same seeds.
 * (e) More dimensions: a 4-D search (lr, decay, the hidden layers' width, the batch size),
 *     where a 2x2x2x2 grid meets 16 random trials.
 *
 * Every trial is S7's trial (experiments/hyperparameter-search/trial.ts) and a unit of work,
 * journaled and spread over worker processes like S7's (the 4-D ones with their own width and
 * batch size). TPE's trials depend on the trials before them: they run in rounds, one trial
 * of every seed's search per round, so the seeds still spread over the workers.
 */
import { z } from 'zod';
import { count, hiddenLayers, positive, range, share } from '../../src/config.js';
import { byDifference, comparing, verdictOf } from '../../src/claims.js';
import { judgeDifference } from '../../src/difference.js';
import { UserError } from '../../src/errors.js';
import { readResult } from '../../src/results/store.js';
import { Rng } from '../../src/rng.js';
import { draw, gridValues, positionOf, valueAt, type Axis, type Range } from '../../src/search/sampling.js';
import { TPE_CONSTANTS, checkConstants, suggest, type Observation } from '../../src/search/tpe.js';
import { mean, roundTo } from '../../src/stats.js';
import { defineStudy, typedResult, unit, type ClaimCheck, type KeyNumber, type SeedOutput, type StudyContext, type TaskOf, type UnitContext } from '../../src/study.js';
import { drawHyperparameters, hyperparameterSearch, nextStage, type BorderEvent, type HyperParams, type StagePlan } from '../hyperparameter-search/study.js';
import { disposeEvalData, evalData, score, trainTrial, type TrialRecord } from '../hyperparameter-search/trial.js';
import { strategyFigures } from './figure.js';

export const SearchStrategiesConfigSchema = z.strictObject({
  /** S7's data and net: the first N training images, a share of them for validation. */
  subsetSize: count(2, 60_000),
  validationShare: share.gt(0),
  hidden: hiddenLayers,
  batchSize: count(1, 60_000),
  /** Epochs per trial. */
  epochs: count(1),
  /** Values per axis of the grid: the budget of each strategy is gridPerAxis^2 trials. */
  gridPerAxis: count(1, 20),
  /** Searches per strategy, each with its own seed (data split, weights, batches, draws). */
  repetitions: count(1, 100),
  /** The box both strategies search: S7's stage-1 ranges, log10 scale. */
  lrRange: range,
  decayRange: range,
  /** Draws per sampler in part (b). */
  draws: count(100, 1_000_000),
  /** S7's lecture result, read for part (c). */
  s7Result: z.string().min(1),
  /** Part (d): random search and TPE each run to the largest budget; the best so far is read at every budget (trials). */
  budgets: z.array(count(1, 1000)).min(1).max(10).refine((b) => b.every((x, i) => i === 0 || x > b[i - 1]!), 'must be increasing'),
  /** The estimator's constants (src/search/tpe.ts). */
  tpe: z.strictObject({ n0: count(1, 1000), gamma: share.gt(0), candidates: count(1, 10_000), priorWeight: positive }),
  /** Part (e): the 4-D box is lrRange x decayRange x widthRange x batchRange, the last two on log2 scales (rounded to integers). */
  fourD: z.strictObject({
    /** Grid values per axis: the budget of both strategies is perAxis^4 trials. */
    perAxis: count(1, 4),
    /** Units in each of the net's hidden layers (the net keeps its depth). */
    widthRange: range,
    batchRange: range,
    epochs: count(1),
  }),
});
export type SearchStrategiesConfig = z.infer<typeof SearchStrategiesConfigSchema>;

const s7 = hyperparameterSearch.profiles.lecture;

const lecture: SearchStrategiesConfig = {
  // S7's data, net and trials exactly (500 images, 100 validation; 7-layer net, SGD, batch
  // 100, 50 epochs): shorter trials were not needed. At 20 epochs S7's run has even its
  // lr 3e-3 trials near chance (0.2), so most of both strategies' trials would not learn.
  subsetSize: s7.subsetSize,
  validationShare: s7.validationShare,
  hidden: s7.hidden,
  batchSize: s7.batchSize,
  epochs: s7.epochs,
  // The lecture's example: 16 trials each, a 4x4 grid against 16 random draws.
  gridPerAxis: 4,
  // At least 5 seeds, as the claim asks: 5 searches per strategy, 160 trials in all.
  repetitions: 5,
  lrRange: s7.lrRange,
  decayRange: s7.decayRange,
  draws: 10_000,
  s7Result: 'results/hyperparameter-search.json',
  // (d) The budgets to compare at: the 16 of part (a), and three times that. The same 5 seeds.
  budgets: [16, 48],
  tpe: TPE_CONSTANTS,
  // (e) Width 25..400 around S7's 100, batch 16..256 around S7's 100 (both log2); a 2^4 grid,
  // 16 trials, the same budget as part (a). Trials as long as S7's (50 epochs): with a smaller
  // batch a trial takes more steps, which is part of what the batch size does.
  fourD: { perAxis: 2, widthRange: [25, 400], batchRange: [16, 256], epochs: s7.epochs },
};

// Quick (CI): one search per strategy with a 2x2 grid against 4 random trials, 8 trials of the
// full 50 epochs (shorter ones learn nothing). With 2 lr values the grid's better one is 1e-3,
// about 0.2 validation accuracy in S7's run: the comparing claim may fail for want of a
// learned grid net, which the baseline then records.
// Parts (d) and (e) add four trials: TPE after n0 = 4 (the random trials it shares) at budget 5
// (one random and one TPE trial), and a 4-D "grid" of one point against one random draw, of
// small nets (width 25..50, batch 100..200) for 10 epochs: a 4-D trial of width 400 in batches
// of 16 takes a minute. They check that the parts run, not their claims (one seed: no interval).
const quick: SearchStrategiesConfig = {
  ...lecture,
  gridPerAxis: 2,
  repetitions: 1,
  budgets: [5],
  tpe: { ...TPE_CONSTANTS, n0: 4 },
  fourD: { perAxis: 1, widthRange: [25, 50], batchRange: [100, 200], epochs: 10 },
};

// ---------------------------------------------------------------------------------------
// (a) Grid and random search: the lesson

export type Strategy = 'grid' | 'random';
export const STRATEGIES: Strategy[] = ['grid', 'random'];

const axes = (c: SearchStrategiesConfig): { lr: Axis; decay: Axis } => ({ lr: { scale: 'log', range: c.lrRange }, decay: { scale: 'log', range: c.decayRange } });

/**
 * The seed of repetition r: run seed s gives seeds s*R .. s*R + R-1, so the runs of different
 * seeds share none (with seed 0: seeds 0..R-1, and repetition 0 searches S7's seed-0 data).
 */
export const repetitionSeed = (seed: number, rep: number, repetitions: number): number => seed * repetitions + rep;

/**
 * The grid: gridPerAxis values per axis at the centres of equal cells of the log range (so the
 * grid covers the box a random draw covers, cell for cell), every pair, in an order shuffled
 * by the repetition's seed: the order of a nested loop would decide the best-so-far curve.
 */
export function gridTrials(c: SearchStrategiesConfig, repSeed: number): HyperParams[] {
  const { lr, decay } = axes(c);
  const pairs = gridValues(lr, c.gridPerAxis).flatMap((l) => gridValues(decay, c.gridPerAxis).map((d) => ({ lr: l, decay: d })));
  const order = Rng.stream(repSeed, 's11:grid-order').permutation(pairs.length);
  return Array.from(order, (i) => pairs[i]!);
}

/**
 * Random search: S7's own draws (decay, then lr, each uniform in log10) from the repetition's
 * seed, so the random trials of repetition r are S7's first stage-1 trials at seed r.
 */
export function randomTrials(c: SearchStrategiesConfig, repSeed: number, n = c.gridPerAxis ** 2): HyperParams[] {
  return Array.from({ length: n }, (_, i) => drawHyperparameters(repSeed, 1, i, c.lrRange, c.decayRange));
}

/** One trial of part (a). Trial i of both strategies starts from the same weights and batches (S7's streams for trial i). */
export interface StrategyInput {
  strategy: Strategy | 'tpe';
  rep: number;
  trial: number;
  hp: HyperParams;
}

/** A trial as the result keeps it. */
export interface StrategyTrial {
  strategy: Strategy;
  rep: number;
  /** Position in the strategy's run order. */
  trial: number;
  lr: number;
  decay: number;
  /** Final validation and train accuracy; null when the trial diverged. */
  val: number | null;
  train: number | null;
}

function strategyUnit(c: SearchStrategiesConfig, input: StrategyInput, ctx: UnitContext): TrialRecord {
  const repSeed = repetitionSeed(ctx.seed, input.rep, c.repetitions);
  const data = ctx.cached(`s11-data:${repSeed}`, () => evalData(ctx.mnist().train, c, repSeed), disposeEvalData);
  const { record, net } = trainTrial(c, data, repSeed, { stage: 1, trial: input.trial, hp: input.hp });
  net.dispose();
  return record;
}

/** Distinct values, told apart at 0.01 of a decade (2.3% of the value). */
export function distinctLogValues(xs: number[]): number {
  return new Set(xs.map((x) => Math.round(Math.log10(x) * 100))).size;
}

/** The best final validation accuracy after each trial, in run order (null until one did not diverge). */
export function bestSoFar(vals: (number | null)[]): (number | null)[] {
  let top: number | null = null;
  return vals.map((v) => (top = v === null ? top : top === null ? v : Math.max(top, v)));
}

export interface StrategySummary {
  /** Per repetition: the best final validation accuracy of its trials. */
  bestVal: (number | null)[];
  meanBestVal: number | null;
  /** Per repetition: distinct lr and decay values tried (0.01-decade resolution). */
  distinctLr: number[];
  distinctDecay: number[];
  /** Per repetition: the lr of its best trial. */
  bestLr: (number | null)[];
  diverged: number;
}

function summarizeStrategy(trials: StrategyTrial[], repetitions: number): StrategySummary {
  const reps = Array.from({ length: repetitions }, (_, r) => trials.filter((t) => t.rep === r));
  const bests = reps.map((ts) => ts.reduce<StrategyTrial | null>((b, t) => (t.val !== null && (b === null || t.val > b.val!) ? t : b), null));
  const bestVal = bests.map((b) => b?.val ?? null);
  const ok = bestVal.filter((v): v is number => v !== null);
  return {
    bestVal,
    meanBestVal: ok.length === repetitions ? roundTo(mean(ok), 4) : null,
    distinctLr: reps.map((ts) => distinctLogValues(ts.map((t) => t.lr))),
    distinctDecay: reps.map((ts) => distinctLogValues(ts.map((t) => t.decay))),
    bestLr: bests.map((b) => b?.lr ?? null),
    diverged: trials.filter((t) => t.val === null).length,
  };
}

// ---------------------------------------------------------------------------------------
// (d) Random search against a tree-structured Parzen estimator

export type BayesStrategy = 'random' | 'tpe';
export const BAYES_STRATEGIES: BayesStrategy[] = ['random', 'tpe'];

/** A trial of part (d): random's trials are part (a)'s, continued to the largest budget. */
export type BayesTrial = Omit<StrategyTrial, 'strategy'> & { strategy: BayesStrategy };

/** A trial's score for the estimator and for the best so far: its final validation accuracy, -Infinity when it diverged. */
const scoreOfTrial = (t: { val: number | null }): number => t.val ?? -Infinity;

/**
 * TPE's trial `trial` of a search: its first n0 trials are random search's (the same draws,
 * weights and batches: the two searches start alike and part only where the model takes
 * over); later ones are the estimator's suggestion from the trials before, on the log10 axes of
 * the box, from a stream of (repetition seed, trial). Trial i of both starts from the same
 * weights and batches (S7's streams for trial i).
 */
export function tpeHyperparameters(c: SearchStrategiesConfig, repSeed: number, trial: number, before: { lr: number; decay: number; val: number | null }[]): HyperParams {
  if (trial < c.tpe.n0) return randomTrials(c, repSeed, trial + 1)[trial]!;
  const { lr, decay } = axes(c);
  const obs: Observation[] = before.map((t) => ({ position: [positionOf(lr, t.lr), positionOf(decay, t.decay)], score: scoreOfTrial(t) }));
  const [u, v] = suggest(obs, 2, Rng.stream(repSeed, `s11:tpe:${trial}`), c.tpe);
  return { lr: valueAt(lr, u!), decay: valueAt(decay, v!) };
}

/** Per budget: each strategy's best final validation accuracy within its first `budget` trials, per repetition. */
export interface BudgetSummary {
  budget: number;
  random: (number | null)[];
  tpe: (number | null)[];
  randomMean: number | null;
  tpeMean: number | null;
  /** Repetitions where TPE's best is above / equal to / below random's. */
  tpeAhead: { above: number; equal: number; below: number };
}

function bestWithin(trials: BayesTrial[] | StrategyTrial[], budget: number): number | null {
  const vals = (trials as StrategyTrial[]).filter((t) => t.trial < budget).map((t) => t.val);
  return bestSoFar(vals).at(-1) ?? null;
}

const meanOrNull = (xs: (number | null)[]): number | null => (xs.length > 0 && xs.every((v) => v !== null) ? roundTo(mean(xs as number[]), 4) : null);

const aheadOf = (a: (number | null)[], b: (number | null)[]) => {
  const pairs = a.map((x, r) => [x ?? -1, b[r] ?? -1] as const);
  return { above: pairs.filter(([x, y]) => x > y).length, equal: pairs.filter(([x, y]) => x === y).length, below: pairs.filter(([x, y]) => x < y).length };
};

function summarizeBudgets(trials: BayesTrial[], c: SearchStrategiesConfig): BudgetSummary[] {
  return c.budgets.map((budget) => {
    const per = (k: BayesStrategy) => Array.from({ length: c.repetitions }, (_, r) => bestWithin(trials.filter((t) => t.strategy === k && t.rep === r), budget));
    const random = per('random');
    const tpe = per('tpe');
    return { budget, random, tpe, randomMean: meanOrNull(random), tpeMean: meanOrNull(tpe), tpeAhead: aheadOf(tpe, random) };
  });
}

// ---------------------------------------------------------------------------------------
// (e) Four hyperparameters: grid against random

export interface FourDParams extends HyperParams {
  width: number;
  batchSize: number;
}

const fourAxes = (c: SearchStrategiesConfig): { lr: Axis; decay: Axis; width: Axis; batchSize: Axis } => ({
  ...axes(c),
  // Evenly spaced in log10 is evenly spaced in log2: the same positions.
  width: { scale: 'log', range: c.fourD.widthRange },
  batchSize: { scale: 'log', range: c.fourD.batchRange },
});

/** Width and batch size are counts: the value at the position, rounded (at least 1). */
const asCount = (x: number): number => Math.max(1, Math.round(x));

/** The 4-D grid: perAxis cell centres per axis, every combination, in an order shuffled by the repetition's seed. */
export function fourDGrid(c: SearchStrategiesConfig, repSeed: number): FourDParams[] {
  const a = fourAxes(c);
  const n = c.fourD.perAxis;
  const out: FourDParams[] = [];
  for (const lr of gridValues(a.lr, n)) for (const decay of gridValues(a.decay, n)) for (const w of gridValues(a.width, n)) for (const b of gridValues(a.batchSize, n)) out.push({ lr, decay, width: asCount(w), batchSize: asCount(b) });
  const order = Rng.stream(repSeed, 's11:4d:grid-order').permutation(out.length);
  return Array.from(order, (i) => out[i]!);
}

/** 4-D random search: perAxis^4 trials, each drawn from its own stream (lr, decay, width, batch size in that order). */
export function fourDRandom(c: SearchStrategiesConfig, repSeed: number): FourDParams[] {
  const a = fourAxes(c);
  return Array.from({ length: c.fourD.perAxis ** 4 }, (_, i) => {
    const rng = Rng.stream(repSeed, `s11:4d:${i}`);
    const lr = draw(rng, a.lr);
    const decay = draw(rng, a.decay);
    const width = asCount(draw(rng, a.width));
    const batchSize = asCount(draw(rng, a.batchSize));
    return { lr, decay, width, batchSize };
  });
}

export interface FourDInput {
  strategy: Strategy;
  rep: number;
  trial: number;
  hp: FourDParams;
}

/** A 4-D trial as the result keeps it. */
export type FourDTrial = StrategyTrial & { width: number; batchSize: number };

/**
 * The streams of S7's trial named "stage 4" (for four dimensions): the 4-D trials' weights and
 * batches come from (repetition seed, 4, trial), apart from parts (a) and (d)'s stage-1 ones.
 */
export const FOUR_D_STAGE = 4;

function fourDUnit(c: SearchStrategiesConfig, input: FourDInput, ctx: UnitContext): TrialRecord {
  const repSeed = repetitionSeed(ctx.seed, input.rep, c.repetitions);
  const data = ctx.cached(`s11-data:${repSeed}`, () => evalData(ctx.mnist().train, c, repSeed), disposeEvalData);
  const setup = { ...c, hidden: c.hidden.map(() => input.hp.width), batchSize: input.hp.batchSize, epochs: c.fourD.epochs };
  const { record, net } = trainTrial(setup, data, repSeed, { stage: FOUR_D_STAGE, trial: input.trial, hp: { lr: input.hp.lr, decay: input.hp.decay } });
  net.dispose();
  return record;
}

export interface FourDSummary {
  grid: StrategySummary & { distinctWidth: number[]; distinctBatch: number[] };
  random: StrategySummary & { distinctWidth: number[]; distinctBatch: number[] };
  /** Repetitions where random's best is above / equal to / below grid's. */
  randomAhead: { above: number; equal: number; below: number };
}

// ---------------------------------------------------------------------------------------
// (b) The sampling scales: the notes' arithmetic, counted

/** The notes' examples: a rate on 1e-4..1 (its top decade 0.1..1); beta on 0.9..0.999 (windows 10..1000 steps; beta >= 0.99: 100 steps and more). */
export const RATE: Range = [1e-4, 1];
export const RATE_TOP_DECADE = 0.1;
export const BETA: Range = [0.9, 0.999];
export const BETA_LONG = 0.99;

export interface Share {
  /** The share of the draws in the region. */
  observed: number;
  /** The share the scale puts there (its length on the scale over the range's). */
  expected: number;
  /** Allowed |observed - expected|: 4 binomial standard errors of `draws` draws. */
  tolerance: number;
}

/** The share of the axis's range (on its scale) from `from` to the top. */
const topShare = (axis: Axis, from: number): number => 1 - positionOf(axis, from);

function countShare(axis: Axis, from: number, rng: Rng, draws: number, expected: number): Share {
  let n = 0;
  for (let i = 0; i < draws; i++) if (draw(rng, axis) >= from) n++;
  return { observed: n / draws, expected, tolerance: 4 * Math.sqrt((expected * (1 - expected)) / draws) };
}

/** Counts of draws per bin of a transformed value (the figure's histograms). */
export interface Histogram {
  /** Bin edges: bins[i]..bins[i+1]. */
  edges: number[];
  counts: Record<string, number[]>;
}

function histogram(edges: number[], samples: Record<string, number[]>): Histogram {
  const counts: Record<string, number[]> = {};
  for (const [name, xs] of Object.entries(samples)) {
    const c = new Array<number>(edges.length - 1).fill(0);
    for (const x of xs) {
      const i = edges.findIndex((e, j) => j < edges.length - 1 && x >= e && x < edges[j + 1]!);
      if (i >= 0) c[i]!++;
    }
    counts[name] = c;
  }
  return { edges, counts };
}

const steps = (lo: number, hi: number, width: number): number[] => Array.from({ length: Math.round((hi - lo) / width) + 1 }, (_, i) => roundTo(lo + i * width, 6));

export interface SamplingSummary {
  draws: number;
  /** Share of rate draws in 0.1..1 when drawn uniform, and when drawn on the log scale. */
  rateUniform: Share;
  rateLog: Share;
  /** Share of beta draws at 0.99 and above (windows of 100+ steps), uniform and through log10(1 - beta). */
  betaUniform: Share;
  betaLog: Share;
  /** The notes' arithmetic on the window 1/(1-beta). */
  windows: { 'window(0.999)': number; 'window(0.9995)': number; 'window(0.9)': number; 'window(0.9005)': number };
}

/** Part (b): draws from the shared sampler, each sampler with its own stream. */
export function samplingScales(seed: number, draws: number): { summary: SamplingSummary; rate: Histogram; beta: Histogram } {
  const rate = { uniform: { scale: 'uniform', range: RATE } as Axis, log: { scale: 'log', range: RATE } as Axis };
  const beta = { uniform: { scale: 'uniform', range: BETA } as Axis, log: { scale: 'averaging', range: BETA } as Axis };
  const stream = (name: string) => Rng.stream(seed, `s11:draws:${name}`);
  const window = (b: number) => roundTo(1 / (1 - b), 6);
  const summary: SamplingSummary = {
    draws,
    rateUniform: countShare(rate.uniform, RATE_TOP_DECADE, stream('rate-uniform'), draws, topShare(rate.uniform, RATE_TOP_DECADE)),
    rateLog: countShare(rate.log, RATE_TOP_DECADE, stream('rate-log'), draws, topShare(rate.log, RATE_TOP_DECADE)),
    betaUniform: countShare(beta.uniform, BETA_LONG, stream('beta-uniform'), draws, topShare(beta.uniform, BETA_LONG)),
    betaLog: countShare(beta.log, BETA_LONG, stream('beta-log'), draws, topShare(beta.log, BETA_LONG)),
    windows: { 'window(0.999)': window(0.999), 'window(0.9995)': window(0.9995), 'window(0.9)': window(0.9), 'window(0.9005)': window(0.9005) },
  };
  // The same draws again (same streams) for the histograms: log10 of the rate, log10 of the window.
  const again = (axis: Axis, name: string, f: (v: number) => number) => {
    const rng = stream(name);
    return Array.from({ length: draws }, () => f(draw(rng, axis)));
  };
  return {
    summary,
    rate: histogram(steps(-4, 0, 0.25), { uniform: again(rate.uniform, 'rate-uniform', Math.log10), log: again(rate.log, 'rate-log', Math.log10) }),
    beta: histogram(steps(1, 3, 0.125), {
      uniform: again(beta.uniform, 'beta-uniform', (b) => -Math.log10(1 - b)),
      log: again(beta.log, 'beta-log', (b) => -Math.log10(1 - b)),
    }),
  };
}

// ---------------------------------------------------------------------------------------
// (c) S7's border rule, run again on S7's lecture result

export interface S7Border {
  /** The result file read, and the commit it was made at. */
  path: string;
  gitCommit: string | null;
  /** Where S7's rule fires on S7's stage-1 trials, run here (nextStage, S7's own code and config). */
  borders: BorderEvent[];
  /** The stage-2 lr range that rule gives, and the one S7's run sampled: they must agree. */
  ruleLrRange: Range;
  s7LrRange: Range | null;
  agrees: boolean;
  stage1BestVal: number | null;
  stage2BestVal: number | null;
  stage2BestLr: number | null;
  /** Stage-2 trials above the stage-1 range's top (1e-2): how many, and the best of them. */
  beyondBorder: number;
  beyondBestVal: number | null;
}

function s7Border(path: string): S7Border {
  let read;
  try {
    read = readResult(path);
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    throw new UserError(`${err.message}; S11 reads S7's lecture result there (make it with npm run experiment -- hyperparameter-search, or point --set s7Result=<file> at one)`);
  }
  const result = typedResult(hyperparameterSearch, read);
  if (result.study !== hyperparameterSearch.name || result.profile !== 'lecture') throw new UserError(`${path}: S11 needs S7's lecture result (npm run experiment -- hyperparameter-search), got ${result.study} (${result.profile})`);
  const cfg = { ...hyperparameterSearch.profiles.lecture, ...result.config };
  const run = result.runs[0]!;
  const stage1 = run.series.trials.filter((t) => t.stage === 1);
  const plan: StagePlan = { lr: cfg.lrRange, decay: cfg.decayRange, bounds: { lr: cfg.lrRange, decay: cfg.decayRange } };
  const next = nextStage(cfg, 1, stage1, plan);
  const s7Stage2 = run.series.stages.find((s) => s.stage === 2) ?? null;
  const stage2 = run.series.trials.filter((t) => t.stage === 2);
  const beyond = stage2.filter((t) => t.lr > cfg.lrRange[1]);
  const best = (ts: typeof stage2) => ts.reduce<(typeof stage2)[number] | null>((b, t) => (Number.isFinite(score(t)) && (b === null || score(t) > score(b)) ? t : b), null);
  const b1 = best(stage1);
  const b2 = best(stage2);
  const bb = best(beyond);
  return {
    path,
    gitCommit: result.environment.gitCommit,
    borders: next.borders,
    ruleLrRange: next.plan.lr,
    s7LrRange: s7Stage2?.lrRange ?? null,
    agrees: s7Stage2 !== null && s7Stage2.lrRange[0] === next.plan.lr[0] && s7Stage2.lrRange[1] === next.plan.lr[1],
    stage1BestVal: b1 ? score(b1) : null,
    stage2BestVal: b2 ? score(b2) : null,
    stage2BestLr: b2?.lr ?? null,
    beyondBorder: beyond.length,
    beyondBestVal: bb ? score(bb) : null,
  };
}

// ---------------------------------------------------------------------------------------
// What a run records

export interface StrategiesSeries {
  /** Every trial of part (a): by strategy, repetition and run order. */
  trials: StrategyTrial[];
  /** The grid's values per axis. */
  grid: { lr: number[]; decay: number[] };
  histograms: { rate: Histogram; beta: Histogram };
  /** Part (d): random search and TPE, every trial to the largest budget (random's first ones are part (a)'s). */
  bayes: BayesTrial[];
  /** Part (e): the 4-D trials. */
  fourD: FourDTrial[];
}

export interface StrategiesSummary {
  grid: StrategySummary;
  random: StrategySummary;
  /** Repetitions where random's best is above / equal to / below grid's. */
  randomAhead: { above: number; equal: number; below: number };
  sampling: SamplingSummary;
  s7: S7Border;
  /** Part (d), per budget. */
  budgets: BudgetSummary[];
  fourD: FourDSummary;
}

const fmt = (x: number): string => x.toExponential(2);

const units = { trial: unit(strategyUnit), trial4d: unit(fourDUnit) };

export const searchStrategies = defineStudy<SearchStrategiesConfig, StrategiesSeries, StrategiesSummary, typeof units>({
  name: 'search-strategies',
  id: 'S11',
  title: 'Search strategies: grid vs random, sampling scales, the border of the range, TPE, four dimensions',
  description: "S7's net and data: a 4x4 grid vs 16 random trials (lr, decay) over 5 seeds; log-scale and log10(1-beta) sampling from 10,000 draws; S7's border rule; TPE vs random at 16 and 48 trials; a 2^4 grid vs 16 random in 4-D",
  needsMnist: true,
  // Part (c) runs S7's border rule on S7's lecture result.
  reads: [{ study: 'hyperparameter-search', profile: 'lecture', path: (config) => config.s7Result }],
  configSchema: SearchStrategiesConfigSchema,
  profiles: { lecture, quick },
  units,
  run: strategies,
  claims: strategyClaims,
  // CI's guard: each strategy's mean best validation accuracy (+-0.05, as every accuracy), and
  // the four shares of part (b) (+-0.01: same seed, same draws; only a changed sampler moves them).
  keyNumbers(run): Record<string, KeyNumber> {
    const s = run.summary;
    const out: Record<string, KeyNumber> = {};
    for (const k of STRATEGIES) {
      const v = s[k].meanBestVal;
      if (v !== null) out[`${k}.meanBestValAccuracy`] = { value: v, tolerance: 0.05 };
    }
    for (const k of ['rateUniform', 'rateLog', 'betaUniform', 'betaLog'] as const) out[`sampling.${k}.share`] = { value: s.sampling[k].observed, tolerance: 0.01 };
    // Parts (d) and (e): mean best validation accuracies (+-0.05, as every accuracy).
    for (const b of s.budgets ?? []) {
      if (b.randomMean !== null) out[`budget${b.budget}.random.meanBestValAccuracy`] = { value: b.randomMean, tolerance: 0.05 };
      if (b.tpeMean !== null) out[`budget${b.budget}.tpe.meanBestValAccuracy`] = { value: b.tpeMean, tolerance: 0.05 };
    }
    for (const k of STRATEGIES) {
      const v = s.fourD?.[k].meanBestVal;
      if (v !== null && v !== undefined) out[`fourD.${k}.meanBestValAccuracy`] = { value: v, tolerance: 0.05 };
    }
    return out;
  },
  figures: strategyFigures,
  curves(run) {
    const { trials } = run.series;
    const reps = Math.max(...trials.map((t) => t.rep)) + 1;
    const lines = STRATEGIES.flatMap((k) =>
      Array.from({ length: reps }, (_, r) => ({ name: `${k} (repetition ${r})`, y: bestSoFar(trials.filter((t) => t.strategy === k && t.rep === r).map((t) => t.val)) })),
    );
    const bayes = run.series.bayes ?? [];
    const bayesLines = BAYES_STRATEGIES.flatMap((k) =>
      Array.from({ length: reps }, (_, r) => ({ name: `${k} (repetition ${r})`, y: bestSoFar(bayes.filter((t) => t.strategy === k && t.rep === r).map((t) => t.val)) })),
    );
    const four = run.series.fourD ?? [];
    const fourLines = STRATEGIES.flatMap((k) =>
      Array.from({ length: reps }, (_, r) => ({ name: `4-D ${k} (repetition ${r})`, y: bestSoFar(four.filter((t) => t.strategy === k && t.rep === r).map((t) => t.val)) })),
    );
    return [
      { panel: 'best so far', x: 'trial (run order)', y: 'best final validation accuracy', lines },
      { panel: 'best so far, random vs TPE', x: 'trial (run order)', y: 'best final validation accuracy', lines: bayesLines },
      { panel: 'best so far, 4-D', x: 'trial (run order)', y: 'best final validation accuracy', lines: fourLines },
    ];
  },
});

async function strategies(config: SearchStrategiesConfig, ctx: StudyContext<typeof units>): Promise<SeedOutput<StrategiesSeries, StrategiesSummary>> {
  // (c) first: a missing or foreign S7 result stops the run before any training.
  const s7 = s7Border(config.s7Result);
  checkConstants(config.tpe);
  const n = config.gridPerAxis ** 2;
  const maxBudget = config.budgets[config.budgets.length - 1]!;
  const tasks: TaskOf<typeof units>[] = [];
  for (let rep = 0; rep < config.repetitions; rep++) {
    const repSeed = repetitionSeed(ctx.seed, rep, config.repetitions);
    for (const [strategy, hps] of [['grid', gridTrials(config, repSeed)], ['random', randomTrials(config, repSeed)]] as const) {
      hps.forEach((hp, trial) => tasks.push({ unit: 'trial', key: `${strategy}:${rep}:${trial}`, input: { strategy, rep, trial, hp } satisfies StrategyInput }));
    }
  }
  // (d) random search continued past part (a)'s trials to the largest budget: the same unit and keys.
  const partA = tasks.length;
  for (let rep = 0; rep < config.repetitions; rep++) {
    const repSeed = repetitionSeed(ctx.seed, rep, config.repetitions);
    randomTrials(config, repSeed, maxBudget).forEach((hp, trial) => {
      if (trial >= n) tasks.push({ unit: 'trial', key: `random:${rep}:${trial}`, input: { strategy: 'random', rep, trial, hp } satisfies StrategyInput });
    });
  }
  // (e) the 4-D trials.
  const fourDFrom = tasks.length;
  for (let rep = 0; rep < config.repetitions; rep++) {
    const repSeed = repetitionSeed(ctx.seed, rep, config.repetitions);
    for (const [strategy, hps] of [['grid', fourDGrid(config, repSeed)], ['random', fourDRandom(config, repSeed)]] as const) {
      hps.forEach((hp, trial) => tasks.push({ unit: 'trial4d', key: `4d:${strategy}:${rep}:${trial}`, input: { strategy, rep, trial, hp } satisfies FourDInput }));
    }
  }
  const tpeRounds = Math.max(0, maxBudget - config.tpe.n0);
  const progress = ctx.progress('trials', tasks.length + tpeRounds * config.repetitions);
  let ran = 0;
  let ranMs = 0;
  let ran4 = 0;
  let ran4Ms = 0;
  const onDone = (rec: TrialRecord, task: TaskOf<typeof units>, fromJournal: boolean) => {
    if (!fromJournal) {
      if (task.unit === 'trial4d') {
        ran4++;
        ran4Ms += rec.ms;
      } else {
        ran++;
        ranMs += rec.ms;
      }
    }
    progress.tick();
  };
  const asTrial = (rec: TrialRecord, input: { strategy: Strategy | 'tpe'; rep: number; trial: number }) => {
    const v = score(rec);
    return { strategy: input.strategy, rep: input.rep, trial: input.trial, lr: rec.lr, decay: rec.decay, val: Number.isFinite(v) ? v : null, train: rec.diverged ? null : rec.train[rec.train.length - 1]! };
  };
  let records: TrialRecord[];
  const tpeTrials: BayesTrial[] = [];
  try {
    records = await ctx.units.run(tasks, onDone);
    // (d) TPE in rounds: trial t of every repetition's search, from that search's trials before t.
    const randomOf = (rep: number) =>
      records.flatMap((rec, i) => {
        const input = tasks[i]!.input as StrategyInput;
        return tasks[i]!.unit === 'trial' && input.strategy === 'random' && input.rep === rep ? [asTrial(rec, input) as BayesTrial] : [];
      });
    const searches: BayesTrial[][] = Array.from({ length: config.repetitions }, (_, rep) => randomOf(rep).filter((t) => t.trial < Math.min(config.tpe.n0, maxBudget)).sort((a, b) => a.trial - b.trial).map((t) => ({ ...t, strategy: 'tpe' as const })));
    for (let t = config.tpe.n0; t < maxBudget; t++) {
      const round: TaskOf<typeof units>[] = searches.map((before, rep) => {
        const hp = tpeHyperparameters(config, repetitionSeed(ctx.seed, rep, config.repetitions), t, before);
        return { unit: 'trial', key: `tpe:${rep}:${t}`, input: { strategy: 'tpe', rep, trial: t, hp } satisfies StrategyInput };
      });
      const recs = await ctx.units.run(round, onDone);
      recs.forEach((rec, rep) => searches[rep]!.push(asTrial(rec, round[rep]!.input as StrategyInput) as BayesTrial));
    }
    tpeTrials.push(...searches.flat());
  } finally {
    progress.done();
  }
  const trials: StrategyTrial[] = records.slice(0, partA).map((rec, i) => asTrial(rec, tasks[i]!.input as StrategyInput) as StrategyTrial);
  const grid = summarizeStrategy(trials.filter((t) => t.strategy === 'grid'), config.repetitions);
  const random = summarizeStrategy(trials.filter((t) => t.strategy === 'random'), config.repetitions);
  const pairs = grid.bestVal.map((g, r) => [g ?? -1, random.bestVal[r] ?? -1] as const);
  const randomAhead = { above: pairs.filter(([g, r]) => r > g).length, equal: pairs.filter(([g, r]) => r === g).length, below: pairs.filter(([g, r]) => r < g).length };
  // (d): random's trials of part (a) and beyond, to the largest budget, in (rep, trial) order.
  const randomAll = records
    .slice(0, fourDFrom)
    .flatMap((rec, i) => {
      const input = tasks[i]!.input as StrategyInput;
      return input.strategy === 'random' && input.trial < maxBudget ? [asTrial(rec, input) as BayesTrial] : [];
    })
    .sort((a, b) => a.rep - b.rep || a.trial - b.trial);
  const bayes: BayesTrial[] = [...randomAll, ...tpeTrials];
  const budgets = summarizeBudgets(bayes, config);
  // (e)
  const fourD: FourDTrial[] = records.slice(fourDFrom).map((rec, i) => {
    const input = tasks[fourDFrom + i]!.input as FourDInput;
    return { ...(asTrial(rec, input) as StrategyTrial), width: input.hp.width, batchSize: input.hp.batchSize };
  });
  const four = (k: Strategy) => {
    const ts = fourD.filter((t) => t.strategy === k);
    const reps = Array.from({ length: config.repetitions }, (_, r) => ts.filter((t) => t.rep === r));
    return { ...summarizeStrategy(ts, config.repetitions), distinctWidth: reps.map((x) => new Set(x.map((t) => t.width)).size), distinctBatch: reps.map((x) => new Set(x.map((t) => t.batchSize)).size) };
  };
  const fourSummary: FourDSummary = { grid: four('grid'), random: four('random'), randomAhead: { above: 0, equal: 0, below: 0 } };
  fourSummary.randomAhead = aheadOf(fourSummary.random.bestVal, fourSummary.grid.bestVal);
  for (const k of STRATEGIES) {
    const s = k === 'grid' ? grid : random;
    ctx.log(`${k}: best val per seed ${s.bestVal.join(', ')} (mean ${s.meanBestVal}), distinct lr ${s.distinctLr.join(', ')}`);
  }
  const sampling = samplingScales(ctx.seed, config.draws);
  const sh = sampling.summary;
  ctx.log(`draws in 0.1..1 of 1e-4..1: uniform ${sh.rateUniform.observed}, log ${sh.rateLog.observed}; beta >= 0.99 of 0.9..0.999: uniform ${sh.betaUniform.observed}, log10(1-beta) ${sh.betaLog.observed}`);
  for (const b of s7.borders) ctx.log(`S7 (${s7.path}): stage ${b.afterStage}'s best ${b.hyperparameter} ${fmt(b.best)} is on the ${b.side} border of ${fmt(b.stageRange[0])}..${fmt(b.stageRange[1])}; stage 2 ${b.hyperparameter} ${fmt(b.nextRange[0])}..${fmt(b.nextRange[1])}`);
  ctx.log(`S7: stage-1 best ${s7.stage1BestVal}, stage-2 best ${s7.stage2BestVal}; ${s7.beyondBorder} stage-2 trials beyond the border, best of them ${s7.beyondBestVal}`);
  for (const b of budgets) ctx.log(`budget ${b.budget}: random best per seed ${b.random.join(', ')} (mean ${b.randomMean}); TPE ${b.tpe.join(', ')} (mean ${b.tpeMean})`);
  for (const k of STRATEGIES) ctx.log(`4-D ${k}: best val per seed ${fourSummary[k].bestVal.join(', ')} (mean ${fourSummary[k].meanBestVal})`);
  const timings: Record<string, number> = {};
  if (ran > 0) timings.msPerTrial = ranMs / ran;
  if (ran4 > 0) timings.msPerTrial4d = ran4Ms / ran4;
  return {
    series: { trials, grid: { lr: gridValues(axes(config).lr, config.gridPerAxis), decay: gridValues(axes(config).decay, config.gridPerAxis) }, histograms: { rate: sampling.rate, beta: sampling.beta }, bayes, fourD },
    summary: { grid, random, randomAhead, sampling: sh, s7, budgets, fourD: fourSummary },
    timings,
  };
}

// ---------------------------------------------------------------------------------------
// The claims, thresholds fixed before the first lecture run

/**
 * "Many more": random must try at least twice as many distinct learning rates as the grid.
 * The notes' 3x3 example has 3 against 9; with 16 trials it is 4 against up to 16, and 2x
 * leaves room for draws that fall within 0.01 decade of one another.
 */
export const MANY_MORE = 2;

function strategyClaims(run: SeedOutput<StrategiesSeries, StrategiesSummary>, config: SearchStrategiesConfig): ClaimCheck[] {
  const s = run.summary;
  const n = config.gridPerAxis ** 2;
  const meanLr = (x: StrategySummary) => mean(x.distinctLr);
  const learned = { 'grid (mean best)': { accuracy: s.grid.meanBestVal }, 'random (mean best)': { accuracy: s.random.meanBestVal } };
  const shareHolds = (x: Share) => Math.abs(x.observed - x.expected) <= x.tolerance;
  const sh = s.sampling;
  const b = s.s7;
  const lrBorder = b.borders.find((e) => e.afterStage === 1 && e.hyperparameter === 'lr') ?? null;
  // The notes: random search "beats" grid search. Each seed pairs one grid search with one
  // random search: the suite's rule over the seeds (src/difference.ts) decides.
  const paired = s.random.bestVal.length === s.grid.bestVal.length && s.random.bestVal.length > 0 && [...s.random.bestVal, ...s.grid.bestVal].every((v) => v !== null);
  const beats = paired
    ? byDifference(judgeDifference('higher', { kind: 'paired', unit: 'seed', a: s.random.bestVal as number[], b: s.grid.bestVal as number[] }))
    : { verdict: 'inconclusive' as const, reason: 'a repetition has no best validation accuracy', test: 'none' };
  return [
    comparing(
      {
        id: 'random-beats-grid',
        text: `with the same budget (${n} trials: a ${config.gridPerAxis}x${config.gridPerAxis} grid vs ${n} random) random search's best final validation accuracy beats grid search's, a real difference over ${config.repetitions} seed(s) (paired)`,
        verdict: beats.verdict,
        ...(beats.reason ? { reason: beats.reason } : {}),
        numbers: {
          test: beats.test, randomMean: s.random.meanBestVal, gridMean: s.grid.meanBestVal, randomBest: s.random.bestVal, gridBest: s.grid.bestVal, randomAhead: s.randomAhead, randomBestLr: s.random.bestLr, gridBestLr: s.grid.bestLr },
      },
      learned,
    ),
    {
      id: 'random-tries-more-lr',
      text: `random search tries at least ${MANY_MORE}x as many distinct learning rates (0.01-decade resolution) as the grid, on average over the seeds (the grid: ${config.gridPerAxis})`,
      verdict: verdictOf(meanLr(s.random) >= MANY_MORE * meanLr(s.grid)),
      numbers: { randomDistinctLr: s.random.distinctLr, gridDistinctLr: s.grid.distinctLr, randomDistinctDecay: s.random.distinctDecay, gridDistinctDecay: s.grid.distinctDecay },
    },
    {
      // Tolerance: 4 binomial standard errors of the draws (e.g. +-0.012 at 0.9, +-0.02 at 0.5 for
      // 10,000 draws): a correct sampler misses by chance with probability 6e-5; a wrong scale
      // (0.9 vs 0.25) misses by dozens of standard errors.
      id: 'log-scale-shares',
      text: `of ${sh.draws} draws on 1e-4..1, uniform puts ${pct(sh.rateUniform.expected)} in 0.1..1 and the log scale ${pct(sh.rateLog.expected)} (each within 4 standard errors)`,
      verdict: verdictOf(shareHolds(sh.rateUniform) && shareHolds(sh.rateLog)),
      numbers: { uniform: sh.rateUniform, log: sh.rateLog },
    },
    {
      id: 'averaging-scale-shares',
      text: `of ${sh.draws} draws of beta on 0.9..0.999, uniform puts ${pct(sh.betaUniform.expected)} at 0.99 and above (windows 1/(1-beta) of 100..1000 steps) and log10(1-beta) ${pct(sh.betaLog.expected)} (each within 4 standard errors)`,
      verdict: verdictOf(shareHolds(sh.betaUniform) && shareHolds(sh.betaLog)),
      numbers: { uniform: sh.betaUniform, log: sh.betaLog, ...sh.windows },
    },
    comparing(
      {
        // Read from S7's committed lecture result and its rule run again here; the rule's range
        // must be the one S7 sampled (else S7's run predates the rule and the claim fails).
        id: 's7-border-rule',
        text: `S7's border rule fires on S7's lecture run (stage 1's best lr within a tenth of the log range of 1e-2), S7's stage 2 searched the extended range, and its best is at least as good as stage 1's`,
        verdict: verdictOf(lrBorder !== null && lrBorder.side === 'high' && b.agrees && b.stage2BestVal !== null && b.stage1BestVal !== null && b.stage2BestVal >= b.stage1BestVal),
        numbers: { fired: lrBorder, agreesWithS7: b.agrees, ruleLrRange: b.ruleLrRange, s7LrRange: b.s7LrRange, stage1Best: b.stage1BestVal, stage2Best: b.stage2BestVal, stage2BestLr: b.stage2BestLr, beyondBorder: b.beyondBorder, beyondBest: b.beyondBestVal, source: b.path },
      },
      { 'S7 stage 1 best': { accuracy: b.stage1BestVal }, 'S7 stage 2 best': { accuracy: b.stage2BestVal } },
    ),
    // Parts (d) and (e): a result made before them has neither (re-judged, it keeps its five claims).
    ...(s.budgets ?? []).map((x) => tpeClaim(x, config)),
    ...(s.fourD ? [fourDClaim(s.fourD, config)] : []),
  ];
}

/** Paired evidence over the repetitions, or null when one has no best (every trial diverged). */
function seedPairs(a: (number | null)[], b: (number | null)[]): { kind: 'paired'; unit: 'seed'; a: number[]; b: number[] } | null {
  if (a.length === 0 || a.length !== b.length || [...a, ...b].some((v) => v === null)) return null;
  return { kind: 'paired', unit: 'seed', a: a as number[], b: b as number[] };
}

/**
 * The notes: Bayesian optimization "is still said not to beat a carefully run random search".
 * The claim is that, not that TPE is worse: it holds unless TPE's best is higher than random's
 * by a real difference over the seeds (the suite's rule, paired by seed: both searches share
 * their first n0 trials and each trial's weights and batches), and FAILS if it is.
 */
function tpeClaim(x: BudgetSummary, config: SearchStrategiesConfig): ClaimCheck {
  const ev = seedPairs(x.tpe, x.random);
  const j = ev ? byDifference(judgeDifference('notHigher', ev)) : { verdict: 'inconclusive' as const, reason: 'a repetition has no best validation accuracy', test: 'none' };
  const c = config.tpe;
  return comparing(
    {
      id: `tpe-not-beyond-random-${x.budget}`,
      text: `with the same budget (${x.budget} trials) a tree-structured Parzen estimator (n0 ${c.n0}, gamma ${c.gamma}, ${c.candidates} candidates, prior weight ${c.priorWeight}) does not beat random search's best final validation accuracy by a real difference over ${config.repetitions} seed(s) (paired)`,
      verdict: j.verdict,
      ...(j.reason ? { reason: j.reason } : {}),
      numbers: { test: j.test, tpeMean: x.tpeMean, randomMean: x.randomMean, tpeBest: x.tpe, randomBest: x.random, tpeAhead: x.tpeAhead },
    },
    { 'TPE (mean best)': { accuracy: x.tpeMean }, 'random (mean best)': { accuracy: x.randomMean } },
  );
}

/** The notes: random search beats grid search as the number of hyperparameters grows. In 4-D, at equal budget. */
function fourDClaim(f: FourDSummary, config: SearchStrategiesConfig): ClaimCheck {
  const p = config.fourD.perAxis;
  const n = p ** 4;
  const ev = seedPairs(f.random.bestVal, f.grid.bestVal);
  const j = ev ? byDifference(judgeDifference('higher', ev)) : { verdict: 'inconclusive' as const, reason: 'a repetition has no best validation accuracy', test: 'none' };
  return comparing(
    {
      id: 'random-beats-grid-4d',
      text: `in 4-D (lr, decay, hidden width ${config.fourD.widthRange.join('..')} and batch size ${config.fourD.batchRange.join('..')} on log scales), with the same budget (${n} trials: a ${p}x${p}x${p}x${p} grid vs ${n} random) random search's best final validation accuracy beats grid search's, a real difference over ${config.repetitions} seed(s) (paired)`,
      verdict: j.verdict,
      ...(j.reason ? { reason: j.reason } : {}),
      numbers: {
        test: j.test,
        randomMean: f.random.meanBestVal,
        gridMean: f.grid.meanBestVal,
        randomBest: f.random.bestVal,
        gridBest: f.grid.bestVal,
        randomAhead: f.randomAhead,
        randomBestLr: f.random.bestLr,
        gridBestLr: f.grid.bestLr,
        randomDistinctLr: f.random.distinctLr,
        gridDistinctLr: f.grid.distinctLr,
        diverged: { random: f.random.diverged, grid: f.grid.diverged },
      },
    },
    { '4-D grid (mean best)': { accuracy: f.grid.meanBestVal }, '4-D random (mean best)': { accuracy: f.random.meanBestVal } },
  );
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
