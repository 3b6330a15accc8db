/**
 * S10 and S12: their profiles' constants as the study files state them, their claims on
 * made-up summaries (including the "did not learn" rule), and a short real run of each that
 * records what it should and frees every tensor.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ensembles, rankByValidation, type EnsemblesConfig, type EnsemblesSummary } from '../experiments/ensembles/study.js';
import { chooseStartRate, FINAL_DIVISOR, lastIteration, lrSchedules, stdOrNull, type LrSchedulesConfig, type ScheduleSummary } from '../experiments/lr-schedules/study.js';
import { applyChanges } from '../src/config.js';
import { resolveMnistDir } from '../src/data/mnist.js';
import { UserError } from '../src/errors.js';
import { rateAt, scheduleFn } from '../src/optim/schedules.js';
import { mnistFrom } from '../src/exec/runner.js';
import { runInTest } from './helpers/context.js';

describe('S10 lr-schedules', () => {
  it.each(['lecture', 'quick'] as const)('%s: every decay reaches a0 / 10 at the last update, constant stays a0', (profile) => {
    const c = lrSchedules.profiles[profile];
    const T = lastIteration(c);
    const ipe = Math.ceil(c.trainSize / c.batchSize);
    for (const [name, s] of Object.entries(c.schedules)) {
      const last = scheduleFn(s, c.lr, ipe)(T);
      expect(last).toBeCloseTo(name === 'constant' ? c.lr : c.lr / FINAL_DIVISOR, 12);
      expect(rateAt(s, c.lr, 0)).toBe(c.lr);
    }
    if (profile === 'lecture') expect(T).toBe(29 * 79);
  });

  it('takes --set on a schedule\'s constants and refuses a config without constant', () => {
    const c = applyChanges(lrSchedules.configSchema, lrSchedules.profiles.quick, { sets: ['schedules.step.factor=0.5', 'schedules.step.every=2'] });
    expect(c.schedules.step).toEqual({ kind: 'step', unit: 'epoch', every: 2, factor: 0.5 });
    expect(() => applyChanges(lrSchedules.configSchema, lrSchedules.profiles.quick, { sets: ['schedules.constant.kind=step'] })).toThrow(UserError);
    expect(() => applyChanges(lrSchedules.configSchema, lrSchedules.profiles.quick, { sets: ['schedules.exponential.k=-1'] })).toThrow(/exponential/);
  });

  it('std over the last epoch is the population std; a gap (diverged) gives null', () => {
    expect(stdOrNull([1, 3])).toBe(1);
    expect(stdOrNull([2, 4, 4, 4, 5, 5, 7, 9])).toBe(2);
    expect(stdOrNull([1, null])).toBeNull();
  });

  const row = (finalLoss: number | null, finalLossStd: number | null, testAccuracy: number): ScheduleSummary => ({
    schedule: '', finalLoss, finalLossStd, finalTrainAccuracy: testAccuracy, testAccuracy, bestTestAccuracy: testAccuracy, finalLr: 0.01, diverged: finalLoss === null,
  });
  // A last epoch of 79 losses around `finalLoss`, alternating +-`finalLossStd` (so its std is that).
  const lastEpoch = (r: ScheduleSummary) => Array.from({ length: 79 }, (_, i) => (r.finalLoss === null ? null : r.finalLoss + (i % 2 === 0 ? 1 : -1) * r.finalLossStd!));
  const verdicts = (summary: Record<string, ScheduleSummary>, config: LrSchedulesConfig = lrSchedules.profiles.lecture) => {
    const schedules = Object.fromEntries(Object.entries(summary).map(([n, r]) => [n, { loss: lastEpoch(r), lr: [], trainAccuracy: [], testAccuracy: [], divergedAt: null }]));
    return Object.fromEntries(lrSchedules.claims({ series: { iterationsPerEpoch: 79, schedules }, summary }, config).map((c) => [c.id, c.verdict]));
  };

  it('claims hold when every decay ends lower and quieter for real; fail when one is really higher; cannot decide otherwise', () => {
    const good = { constant: row(0.2, 0.1, 0.95), step: row(0.1, 0.05, 0.96), exponential: row(0.15, 0.06, 0.94), 'inverse-time': row(0.12, 0.08, 0.95) };
    expect(verdicts(good)).toEqual({ 'annealed-lower-loss': 'holds', 'annealed-less-noise': 'holds' });
    expect(verdicts({ ...good, exponential: row(0.25, 0.06, 0.94) })['annealed-lower-loss']).toBe('FAILS');
    expect(verdicts({ ...good, exponential: row(0.2, 0.1, 0.94) })['annealed-lower-loss']).toBe('inconclusive');
    expect(verdicts({ ...good, step: row(0.1, 0.1, 0.96) })['annealed-less-noise']).toBe('inconclusive');
    expect(verdicts({ ...good, step: row(0.1, 0.2, 0.96) })['annealed-less-noise']).toBe('FAILS');
    // a constant run that did not learn (loss near ln 10) leaves every comparison undecided
    expect(Object.values(verdicts({ ...good, constant: row(2.3, 0.5, 0.1) }))).toEqual(['inconclusive', 'inconclusive']);
    // a diverged schedule has no final loss: the run cannot decide
    expect(verdicts({ ...good, step: row(null, null, 0.1) })['annealed-lower-loss']).toBe('inconclusive');
  });

  it('the starting rate is the largest candidate that learns in its first epoch without diverging', () => {
    const probe = (lr: number, endLoss: number | null) => ({ lr, diverged: endLoss === null, endLoss });
    expect(chooseStartRate([probe(0.1, 0.5), probe(0.2, 0.4), probe(0.5, 0.6), probe(1, 2.3), probe(2, null)])).toBe(0.5);
    expect(chooseStartRate([probe(0.1, 0.5), probe(0.2, null), probe(0.5, 0.6)])).toBe(0.5);
    expect(chooseStartRate([probe(0.1, 2.3), probe(0.2, null)])).toBe(0.1);
  });

  it('a short real run records a loss and a rate per update, accuracies per epoch, and frees its tensors', async () => {
    const tiny: LrSchedulesConfig = { ...lrSchedules.profiles.quick, trainSize: 256, testSize: 200, epochs: 3, hidden: [16, 16] };
    mnistFrom(resolveMnistDir());
    const before = tf.memory().numTensors;
    const r = await runInTest(lrSchedules, tiny, () => mnistFrom(resolveMnistDir()));
    expect(tf.memory().numTensors).toBe(before);
    const s = r.series.schedules;
    expect(Object.keys(s)).toEqual(['constant', 'step', 'exponential', 'inverse-time', 'low:constant', 'low:step', 'low:exponential', 'low:inverse-time']);
    expect(r.series.startRate!.probes.map((p) => p.lr)).toEqual(tiny.startRates);
    expect(r.series.startRate!.chosen).toBe(chooseStartRate(r.series.startRate!.probes));
    for (const x of Object.values(s)) {
      expect(x.loss).toHaveLength(2 * 2 + 1); // (epochs - 1) * 2 iterations per epoch + 1
      expect(x.lr).toHaveLength(5);
      expect(x.testAccuracy).toHaveLength(3);
    }
    expect(s.constant!.lr.every((v) => v === r.series.startRate!.chosen)).toBe(true);
    expect(s['low:constant']!.lr.every((v) => v === 0.1)).toBe(true);
    // the same initial weights and first batch: the first loss is the same for all eight
    expect(new Set(Object.values(s).map((x) => x.loss[0])).size).toBe(1);
  });
});

describe('S12 ensembles', () => {
  it('ranks trials by validation accuracy, a diverged one last, ties in lr order', () => {
    expect(rankByValidation([{ valAccuracy: 0.5, diverged: false }, { valAccuracy: 0.9, diverged: false }, { valAccuracy: 0.99, diverged: true }, { valAccuracy: 0.9, diverged: false }])).toEqual([1, 3, 0, 2]);
  });

  const summary = (o: Partial<EnsemblesSummary> = {}): EnsemblesSummary => ({
    bestMember: 0.95, initEnsemble: 0.96, finalModel: 0.94, checkpointEnsemble: 0.95, ema: 0.945,
    bestTrial: { lr: 0.08, valAccuracy: 0.95, testAccuracy: 0.95 }, searchEnsemble: 0.955, searchEnsembleLrs: [0.08, 0.16, 0.04], testImages: 10000, ...o,
  });
  const series = { members: [], checkpoints: [], ema: 0, trials: [], ranking: [], bySize: { init: [], checkpoints: [], search: [] } };
  const verdicts = (s: EnsemblesSummary) => Object.fromEntries(ensembles.claims({ series, summary: s }, ensembles.profiles.lecture).map((c) => [c.id, c.verdict]));

  it('claims need a real difference on the test images (2 binomial SE, about 0.006 near 95% on 10,000), and cannot decide when a compared net did not learn', () => {
    expect(verdicts(summary())).toEqual({
      'init-ensemble-beats-best-member': 'holds',
      'checkpoint-ensemble-not-worse': 'holds',
      'parameter-average-beats-final': 'inconclusive',
      'search-top-beats-best-trial': 'inconclusive',
    });
    expect(verdicts(summary({ ema: 0.96, searchEnsemble: 0.97 }))['parameter-average-beats-final']).toBe('holds');
    expect(verdicts(summary({ ema: 0.96, searchEnsemble: 0.97 }))['search-top-beats-best-trial']).toBe('holds');
    expect(verdicts(summary({ initEnsemble: 0.95 }))['init-ensemble-beats-best-member']).toBe('inconclusive');
    expect(verdicts(summary({ initEnsemble: 0.93 }))['init-ensemble-beats-best-member']).toBe('FAILS');
    // "no worse": within the noise holds, a real drop fails.
    expect(verdicts(summary({ checkpointEnsemble: 0.937 }))['checkpoint-ensemble-not-worse']).toBe('holds');
    expect(verdicts(summary({ checkpointEnsemble: 0.92 }))['checkpoint-ensemble-not-worse']).toBe('FAILS');
    expect(verdicts(summary({ finalModel: 0.1, checkpointEnsemble: 0.15, ema: 0.18 }))['checkpoint-ensemble-not-worse']).toBe('inconclusive');
  });

  it('refuses checkpoints beyond the epochs and a top beyond the grid', () => {
    expect(() => applyChanges(ensembles.configSchema, ensembles.profiles.quick, { sets: ['checkpoints=20'] })).toThrow(/checkpoints/);
    expect(() => applyChanges(ensembles.configSchema, ensembles.profiles.quick, { sets: ['top=7'] })).toThrow(/top/);
    expect(applyChanges(ensembles.configSchema, ensembles.profiles.quick, { sets: ['emaDecay=0.95'] }).emaDecay).toBe(0.95);
  });

  it('a short real run scores every member, checkpoint, the average and trial, and frees its tensors', async () => {
    const tiny: EnsemblesConfig = { ...ensembles.profiles.quick, trainSize: 256, valSize: 100, testSize: 200, epochs: 3, hidden: [16], members: 3, checkpoints: 2, searchLrs: [0.05, 0.1], top: 2 };
    mnistFrom(resolveMnistDir());
    const before = tf.memory().numTensors;
    const r = await runInTest(ensembles, tiny, () => mnistFrom(resolveMnistDir()));
    expect(tf.memory().numTensors).toBe(before);
    const s = r.series;
    expect(s.members).toHaveLength(3);
    expect(s.checkpoints.map((c) => c.epoch)).toEqual([1, 2]);
    // the last checkpoint is the final model, and a one-member ensemble is that member
    expect(s.checkpoints.at(-1)!.testAccuracy).toBe(s.members[0]);
    expect(s.bySize.checkpoints[0]!.mean).toBe(s.members[0]);
    expect(s.bySize.init.map((c) => c.size)).toEqual([1, 2, 3]);
    expect(s.bySize.init[0]!.max).toBe(Math.max(...s.members));
    expect(s.bySize.search).toHaveLength(2);
    expect(r.summary.bestTrial.lr).toBe(s.trials[s.ranking[0]!]!.lr);
    // Both students trained for a member's number of updates; the teacher is the init ensemble.
    const d = r.summary.distill!;
    expect(d.updates).toBe((tiny.epochs - 1) * Math.ceil(tiny.trainSize / tiny.batchSize) + 1);
    expect(d.ensemble).toBe(r.summary.initEnsemble);
    expect(s.students!.distilled.testAccuracy).toBe(d.distilled);
    expect(d.meanTopSoftTarget).toBeGreaterThan(0.1);
    expect(d.meanTopSoftTarget).toBeLessThan(1);
  });

  it('distillation: beating the label-only student needs a real difference (McNemar on the discordant images); no real gap to the ensemble leaves the gap claim undecided', () => {
    const distill = {
      labelOnly: 0.93, distilled: 0.94, ensemble: 0.96, gapClosed: 1 / 3, distilledOnly: 200, labelOnlyOnlyVsDistilled: 100, ensembleOnly: 350, labelOnlyOnlyVsEnsemble: 50,
      meanTopSoftTarget: 0.8, temperature: 3, softWeight: 0.9, studentHidden: [30, 30, 30, 30], updates: 712,
    };
    const v = (o: Partial<typeof distill>) => verdicts(summary({ distill: { ...distill, ...o } }));
    expect(v({})['distilled-beats-label-only']).toBe('holds');
    expect(v({})['distillation-closes-gap']).toBe('holds');
    expect(v({ distilledOnly: 110, labelOnlyOnlyVsDistilled: 100, distilled: 0.931 })['distilled-beats-label-only']).toBe('inconclusive');
    expect(v({ distilledOnly: 100, labelOnlyOnlyVsDistilled: 200, distilled: 0.92 })['distilled-beats-label-only']).toBe('FAILS');
    expect(v({ ensembleOnly: 100, labelOnlyOnlyVsEnsemble: 95, ensemble: 0.9305 })['distillation-closes-gap']).toBe('inconclusive');
    expect(v({ labelOnly: 0.1, distilled: 0.1, distilledOnly: 0, labelOnlyOnlyVsDistilled: 0 })['distilled-beats-label-only']).toBe('inconclusive');
    expect(verdicts(summary())).not.toHaveProperty('distilled-beats-label-only');
  });
});
