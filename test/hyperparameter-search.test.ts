import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { borderSide, drawHyperparameters, hyperparameterSearch, narrowRange, nextRange, nextStage, type HyperparameterSearchConfig, type StagePlan, type SearchSeries, type SearchSummary } from '../experiments/hyperparameter-search/study.js';
import { rankTrials, splitData, topCount, type TrialRecord } from '../experiments/hyperparameter-search/trial.js';
import type { Mnist, MnistSplit } from '../src/data/mnist.js';
import { Rng } from '../src/rng.js';
import { journalPath } from '../src/exec/runner.js';
import { spearman, spearmanCritical } from '../src/stats.js';
import type { SeedOutput } from '../src/study.js';
import { configFromFlags } from '../src/exec/plan.js';
import { testContext } from './helpers/context.js';

/** MNIST-shaped data; pixel 0 of row i holds i / n so a test can tell which rows were taken. */
function synthetic(n: number, seed: number): MnistSplit {
  const rng = new Rng(seed, 'synthetic');
  const images = new Float32Array(n * 784);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const label = rng.int(10);
    labels[i] = label;
    for (let p = 1; p < 784; p++) images[i * 784 + p] = rng.uniform() * 0.3 + (Math.floor(p / 78.4) === label ? 0.6 : 0);
    images[i * 784] = i / n;
  }
  return { images, labels, count: n };
}

const TRAIN = synthetic(600, 1);
const TEST = synthetic(200, 2);

/** A tiny search: 2 stages of 3 trials, 3 epochs, a small net. */
const tiny: HyperparameterSearchConfig = {
  ...hyperparameterSearch.profiles.quick,
  hidden: [16, 16],
  epochs: 3,
  trials: 3,
  stages: 2,
};

interface Harness {
  outDir: string;
  resume: boolean;
  fresh: boolean;
  seed: number;
  logs: string[];
  /** Every read of mnist.test, with the trial lines the journal held at that moment. */
  testReads: number[];
}

const journalOf = (outDir: string, seed = 0) => journalPath(outDir, 'hyperparameter-search', 'quick', seed);

/** The finished trials a journal holds, in the order they were written. */
function trialLines(path: string): TrialRecord[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l.includes('"kind":"unit"'))
    .map((l) => (JSON.parse(l) as { value: TrialRecord }).value);
}

function harness(outDir: string, o: { resume?: boolean; fresh?: boolean } = {}, seed = 0): Harness {
  return { outDir, resume: o.resume ?? false, fresh: o.fresh ?? false, seed, logs: [], testReads: [] };
}

const tempDir = () => mkdtempSync(join(tmpdir(), 's7-'));

/** One seed's search as the runner runs it; the journal stays on disk for the test to read. */
async function runTiny(h: Harness, config = tiny): Promise<SeedOutput<SearchSeries, SearchSummary>> {
  const path = journalOf(h.outDir, h.seed);
  const mnist = {
    train: TRAIN,
    dir: 'synthetic',
    get test(): MnistSplit {
      h.testReads.push(trialLines(path).length);
      return TEST;
    },
  } as Mnist;
  const t = testContext({ study: hyperparameterSearch, config, mnist: () => mnist, seed: h.seed, outDir: h.outDir, resume: h.resume, fresh: h.fresh });
  try {
    return await hyperparameterSearch.run(config, t.ctx);
  } finally {
    h.logs.push(...t.logs);
    t.close();
  }
}

describe('S7 helpers', () => {
  it('draws each trial from (seed, stage, trial) alone, inside the ranges', () => {
    const lr: [number, number] = [1e-6, 1e-2];
    const decay: [number, number] = [1e-8, 1e-4];
    const a = drawHyperparameters(0, 1, 5, lr, decay);
    // drawing other trials first changes nothing
    drawHyperparameters(0, 1, 4, lr, decay);
    expect(drawHyperparameters(0, 1, 5, lr, decay)).toEqual(a);
    expect(drawHyperparameters(0, 1, 6, lr, decay)).not.toEqual(a);
    expect(drawHyperparameters(0, 2, 5, lr, decay)).not.toEqual(a);
    expect(drawHyperparameters(1, 1, 5, lr, decay)).not.toEqual(a);
    const draws = Array.from({ length: 4000 }, (_, i) => drawHyperparameters(9, 1, i, lr, decay));
    const logLr = draws.map((d) => Math.log10(d.lr));
    const logDecay = draws.map((d) => Math.log10(d.decay));
    expect(Math.min(...logLr)).toBeGreaterThanOrEqual(-6);
    expect(Math.max(...logLr)).toBeLessThan(-2);
    expect(Math.min(...logDecay)).toBeGreaterThanOrEqual(-8);
    expect(Math.max(...logDecay)).toBeLessThan(-4);
    // uniform on the log scale: each decade of lr gets about a quarter
    for (let d = -6; d < -2; d++) expect(Math.abs(logLr.filter((l) => l >= d && l < d + 1).length / 4000 - 0.25)).toBeLessThan(0.03);
  });

  it('narrows to the span of the best values, widened a little, inside the bounds', () => {
    const n = tiny.narrowing;
    const [lo, hi] = narrowRange([1e-4, 1e-3, 3e-3], [1e-6, 1e-2], n);
    // span is 1.477 decades; widened by max(0.1 * span, 0.1) = 0.1477 at each end
    expect(Math.log10(lo)).toBeCloseTo(-4 - 0.1477, 3);
    expect(Math.log10(hi)).toBeCloseTo(Math.log10(3e-3) + 0.1477, 3);
    // clipped at the stage-1 bound, returned exactly
    expect(narrowRange([5e-3, 9.9e-3], [1e-6, 1e-2], n)[1]).toBe(1e-2);
    // a single value still gets a range of 0.2 decades
    const one = narrowRange([1e-3], [1e-6, 1e-2], n);
    expect(Math.log10(one[1]) - Math.log10(one[0])).toBeCloseTo(0.2, 6);
    expect(narrowRange([], [1e-6, 1e-2], n)).toEqual([1e-6, 1e-2]);
    expect(topCount(100, n)).toBe(10);
    expect(topCount(12, n)).toBe(3);
    expect(topCount(2, n)).toBe(2);
  });

  it('finds a best value within a tenth of the log range of an edge (the border rule)', () => {
    const lr: [number, number] = [1e-6, 1e-2];
    // positions on the log scale: 10^-2.4 = 3.98e-3 is 0.9 of the way, the zone's start
    expect(borderSide(7.914e-3, lr, 0.1)).toBe('high');
    expect(borderSide(10 ** -2.39, lr, 0.1)).toBe('high');
    expect(borderSide(10 ** -2.41, lr, 0.1)).toBeNull();
    expect(borderSide(10 ** -5.61, lr, 0.1)).toBe('low');
    expect(borderSide(1e-4, lr, 0.1)).toBeNull();
    // a zone of 0 turns the rule off
    expect(borderSide(9.99e-3, lr, 0)).toBeNull();
  });

  it('reaches past the border it fired on, and is narrowRange alone where it does not fire', () => {
    const cfg = hyperparameterSearch.profiles.lecture;
    // the committed lecture run's stage 1: the top 10 lr span 4.67e-3..7.91e-3, best 7.91e-3
    const top = [7.914e-3, 4.673e-3, 6.0e-3];
    const s = nextRange(top, 7.914e-3, [1e-6, 1e-2], [1e-6, 1e-2], cfg);
    expect(s.border).toBe('high');
    // low end narrowed as before (4.67e-3 less 0.1 decade); high end 1e-2 plus a tenth of 4 decades
    expect(s.range[0]).toBeCloseTo(narrowRange(top, [1e-6, 1e-2], cfg.narrowing)[0], 15);
    expect(Math.log10(s.range[0])).toBeCloseTo(Math.log10(4.673e-3) - 0.1, 6);
    expect(Math.log10(s.range[1])).toBeCloseTo(-1.6, 10);
    expect(Math.log10(s.bounds[1])).toBeCloseTo(-1.6, 10);
    expect(s.bounds[0]).toBe(1e-6);
    // low border: reaches below 1e-6 by 0.4 decades
    const low = nextRange([2e-6, 5e-6], 2e-6, [1e-6, 1e-2], [1e-6, 1e-2], cfg);
    expect(low.border).toBe('low');
    expect(Math.log10(low.range[0])).toBeCloseTo(-6.4, 10);
    // inside: exactly narrowRange's numbers, bounds unchanged
    const inside = nextRange([1e-4, 3e-4], 1e-4, [1e-6, 1e-2], [1e-6, 1e-2], cfg);
    expect(inside).toEqual({ range: narrowRange([1e-4, 3e-4], [1e-6, 1e-2], cfg.narrowing), bounds: [1e-6, 1e-2], border: null });
  });

  it('follows an optimum that lies outside the first range (a made-up objective, no training)', () => {
    // Validation "accuracy" peaks at lr 2e-2, above the lecture's range 1e-6..1e-2; decay does not matter.
    const OPT = Math.log10(2e-2);
    const objective = (lr: number) => 1 - Math.abs(Math.log10(lr) - OPT) / 6;
    const search = (zoneShare: number, stages: number) => {
      const cfg = { ...hyperparameterSearch.profiles.lecture, border: { zoneShare } };
      let plan: StagePlan = { lr: cfg.lrRange, decay: cfg.decayRange, bounds: { lr: cfg.lrRange, decay: cfg.decayRange } };
      const bests: { lr: number; score: number }[] = [];
      const borders = [];
      for (let stage = 1; stage <= stages; stage++) {
        if (stage > 1) {
          const next = nextStage(cfg, stage - 1, trialsOf(stage - 1, plan), plan);
          plan = next.plan;
          borders.push(...next.borders);
        }
        const trials = trialsOf(stage, plan);
        const b = trials.reduce((x, y) => (y.val[0]! > x.val[0]! ? y : x));
        bests.push({ lr: b.lr, score: b.val[0]! });
      }
      return { plan, bests, borders };
      function trialsOf(stage: number, p: StagePlan) {
        return Array.from({ length: cfg.trials }, (_, trial) => {
          const hp = drawHyperparameters(7, stage, trial, p.lr, p.decay);
          return { stage, trial, ...hp, val: [objective(hp.lr)], diverged: null };
        });
      }
    };
    const ruled = search(0.1, 3);
    // stage 1's best lies near 1e-2: the rule fires on lr (only: decay's best is inside), stage 2
    // reaches to 10^-1.6 = 2.5e-2, takes in the optimum and finds a better best next to it.
    expect(ruled.borders.filter((b) => b.afterStage === 1)).toMatchObject([{ hyperparameter: 'lr', side: 'high', stageRange: [1e-6, 1e-2] }]);
    expect(ruled.bests[0]!.lr).toBeLessThan(1e-2);
    expect(ruled.bests[1]!.lr).toBeGreaterThan(1e-2);
    expect(ruled.bests[1]!.score).toBeGreaterThan(ruled.bests[0]!.score);
    expect(Math.abs(Math.log10(ruled.bests[1]!.lr) - OPT)).toBeLessThan(0.05);
    expect(ruled.plan.lr[0]).toBeLessThan(2e-2);
    expect(ruled.plan.lr[1]).toBeGreaterThan(2e-2);
    // without the rule the search stays inside 1e-6..1e-2 for good
    const clipped = search(0, 3);
    expect(clipped.borders).toEqual([]);
    expect(clipped.plan.lr[1]).toBe(1e-2);
    expect(Math.max(...clipped.bests.map((b) => b.lr))).toBeLessThan(1e-2);
  });

  it("computes Spearman's rho with ties", () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    // monotone but not linear: still 1
    expect(spearman([1, 2, 3, 4, 5], [1, 4, 9, 16, 1000])).toBeCloseTo(1, 12);
    // ties share the average rank: ranks of y are 1.5, 1.5, 3, 4
    expect(spearman([1, 2, 3, 4], [0.1, 0.1, 0.5, 0.9])).toBeCloseTo(0.9486833, 6);
    expect(spearman([1, 2, 3], [5, 5, 5])).toBeNull();
    expect(spearmanCritical(100)).toBeCloseTo(0.197, 3);
  });

  it('ranks by final validation accuracy, diverged last, ties in run order', () => {
    const t = (stage: number, trial: number, final: number, diverged = false) =>
      ({ stage, trial, val: [0, final], diverged: diverged ? { epoch: 1, iteration: 4 } : null });
    const ranked = rankTrials([t(1, 0, 0.5), t(1, 1, 0.9, true), t(1, 2, 0.7), t(2, 0, 0.7)]);
    expect(ranked.map((x) => `${x.stage}:${x.trial}`)).toEqual(['1:2', '2:0', '1:0', '1:1']);
  });

  it('splits a seeded shuffle of the first 500 images into 100 validation and 400 training', () => {
    const { train, val } = splitData(TRAIN, hyperparameterSearch.profiles.lecture, 4);
    expect(val.count).toBe(100);
    expect(train.count).toBe(400);
    const rows = (s: MnistSplit) => Array.from({ length: s.count }, (_, i) => Math.round(s.images[i * 784]! * 600));
    const all = [...rows(val), ...rows(train)].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 500 }, (_, i) => i));
    // shuffled, and by the seed
    expect(rows(val).slice(0, 10)).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(rows(splitData(TRAIN, hyperparameterSearch.profiles.lecture, 4).val)).toEqual(rows(val));
    expect(rows(splitData(TRAIN, hyperparameterSearch.profiles.lecture, 5).val)).not.toEqual(rows(val));
  });

  it('takes --trials and --stages', () => {
    const c = configFromFlags<HyperparameterSearchConfig>(hyperparameterSearch, 'lecture', { trials: 7, stages: 3 });
    expect([c.trials, c.stages]).toEqual([7, 3]);
    expect(configFromFlags<HyperparameterSearchConfig>(hyperparameterSearch, 'lecture', {}).trials).toBe(100);
  });
});

describe('S7 search', () => {
  it('reads the test set exactly once, after every trial is finished, and frees its tensors', async () => {
    const h = harness(tempDir());
    const before = tf.memory().numTensors;
    const run = await runTiny(h);
    expect(tf.memory().numTensors).toBe(before);
    expect(h.testReads).toEqual([tiny.trials * tiny.stages]);
    const pick = run.summary.finalPick!;
    expect(pick.testImages).toBe(TEST.count);
    expect(pick.retrainReproduced).toBe(true);
    const { trials } = run.series;
    expect(trials).toHaveLength(6);
    for (const t of trials) {
      expect(t.val).toHaveLength(tiny.epochs);
      expect(t.train).toHaveLength(tiny.epochs);
    }
    // stage 2 draws inside the narrowed ranges
    const { stages } = run.series;
    for (const t of trials.filter((x) => x.stage === 2)) {
      expect(t.lr).toBeGreaterThanOrEqual(stages[1]!.lrRange[0]);
      expect(t.lr).toBeLessThanOrEqual(stages[1]!.lrRange[1]);
    }
    const claims = hyperparameterSearch.claims(run, tiny);
    expect(claims.map((c) => c.id)).toEqual(['good-lr-region', 'best-val', 'decay-matters-less', 'coarse-to-fine']);
  });

  it('resumes a killed search without repeating or losing a trial, and gets the same result', async () => {
    const dirA = tempDir();
    const full = await runTiny(harness(dirA));

    // The "killed" search: everything up to the second finished trial, then half of the next line.
    const dirB = tempDir();
    const pathA = journalOf(dirA);
    const pathB = journalOf(dirB);
    const linesA = readFileSync(pathA, 'utf8').split('\n');
    const second = linesA.findIndex((l, i) => l.includes('"kind":"unit"') && linesA.slice(0, i).filter((x) => x.includes('"kind":"unit"')).length === 1);
    writeFileSync(pathB, linesA.slice(0, second + 1).join('\n') + '\n' + linesA[second + 1]!.slice(0, 40));

    const h = harness(dirB, { resume: true });
    const resumed = await runTiny(h);
    expect(h.logs.some((l) => l.includes('resuming') && l.includes('2 finished unit(s)'))).toBe(true);
    expect(h.logs.some((l) => l.includes('dropped an incomplete last line'))).toBe(true);
    expect(resumed.summary.trialsRun).toBe(4);
    expect(resumed.summary.trialsFromJournal).toBe(2);
    expect(resumed.series).toEqual(full.series);
    expect(resumed.summary.finalPick!.testAccuracy).toBe(full.summary.finalPick!.testAccuracy);
    const keys = trialLines(pathB).map((t) => `${t.stage}:${t.trial}`);
    expect(keys).toHaveLength(6);
    expect(new Set(keys).size).toBe(6);

    // Resuming a finished search trains nothing new.
    const again = await runTiny(harness(dirB, { resume: true }));
    expect(again.summary.trialsRun).toBe(0);
    expect(again.series).toEqual(full.series);
  });

  it('refuses to resume a journal of another config, never discards one silently, and starts over with --fresh', async () => {
    const dir = tempDir();
    await runTiny(harness(dir));
    const before = tf.memory().numTensors;
    await expect(runTiny(harness(dir, { resume: true }), { ...tiny, epochs: 4 })).rejects.toThrow(/different run.*epochs/);
    expect(tf.memory().numTensors).toBe(before);
    // another seed has its own journal file
    expect(journalOf(dir, 1)).not.toBe(journalOf(dir, 0));
    // neither --resume nor --fresh: the finished trials stay, and the message names both flags
    await expect(runTiny(harness(dir), { ...tiny, trials: 2, stages: 1 })).rejects.toThrow(/finished work.*--resume.*--fresh/);
    expect(trialLines(journalOf(dir))).toHaveLength(6);
    await runTiny(harness(dir, { fresh: true }), { ...tiny, trials: 2, stages: 1 });
    expect(trialLines(journalOf(dir))).toHaveLength(2);
  });

  it('records diverging trials with their epoch and goes on; with nothing to pick, the test set is not read', async () => {
    const h = harness(tempDir());
    const run = await runTiny(h, { ...tiny, lrRange: [1e3, 1e4], stages: 1 });
    const { trials } = run.series;
    expect(trials).toHaveLength(3);
    for (const t of trials) {
      expect(t.diverged).not.toBeNull();
      expect(t.diverged!.epoch).toBeGreaterThanOrEqual(0);
      expect(t.diverged!.epoch).toBeLessThan(tiny.epochs);
    }
    expect(h.logs.filter((l) => l.includes('diverged'))).toHaveLength(4);
    expect(run.summary.finalPick).toBeNull();
    expect(h.testReads).toEqual([]);
    expect(() => hyperparameterSearch.claims(run, { ...tiny, stages: 1 })).not.toThrow();
  });
});
