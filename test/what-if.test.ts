/**
 * "What if": settings changed from the command line or a file, checked against the study's
 * config schema; changed configs stored as named runs; claims that say which setting they
 * check and fail when the compared nets did not learn; runs compared; figures of any kind.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { curvesOf } from './helpers/curves.js';
import { findStudy } from '../experiments/index.js';
import { optimizersMnist } from '../experiments/optimizers-mnist/study.js';
import { overfit, overfitClaims, type VariantSummary } from '../experiments/overfit/study.js';
import { compareCli } from '../src/cli/compare.js';
import { experimentCli } from '../src/cli/experiment.js';
import { planRuns } from '../src/exec/plan.js';
import { figuresCli } from '../src/cli/figures.js';
import { makeProgress } from '../src/cli/progress.js';
import { UserError } from '../src/errors.js';
import { readResult } from '../src/results/store.js';
import type { AnyStudy } from '../src/study.js';

const scratch = mkdtempSync(join(tmpdir(), 'what-if-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const FIXTURES = join(import.meta.dirname, 'fixtures', 'results');

async function quietly<T>(run: () => Promise<T>): Promise<{ value: T; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c) => ((out += String(c)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c) => ((err += String(c)), true));
  try {
    return { value: await run(), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

const s2 = optimizersMnist as AnyStudy;
const plan = (sets: string[], extra: Record<string, unknown> = {}) => planRuns([s2], { profile: 'quick', set: sets, ...extra })[0]!;

describe('--set and --config', () => {
  it('sets nested fields by dotted path, names the run by its changes, and records them', () => {
    const p = plan(['lr.sgd=0.1', 'iterations=500']);
    expect((p.config as { lr: { sgd: number }; iterations: number }).lr.sgd).toBe(0.1);
    expect(p.overrides).toEqual({ 'lr.sgd': [0.01, 0.1], iterations: [300, 500] });
    expect(p.name).toMatch(/^quick-[0-9a-f]{8}$/);
    // the same changes give the same name, in any order; no change is the profile's own run
    expect(plan(['iterations=500', 'lr.sgd=0.1']).name).toBe(p.name);
    expect(plan([]).name).toBeNull();
    expect(plan([], { name: 'mine' }).name).toBe('mine');
  });

  it.each([
    ['lr.sgdd=0.1', 'lr.sgdd is not a setting (known in lr: sgd, momentum, adagrad, adam, nesterov, rmsprop)'],
    ['nope=1', 'nope is not a setting (known: trainSize, hidden, batchSize, iterations, lr, tail)'],
    ['lr.sgd=abc', 'lr.sgd: expected number, received string'],
    ['lr.sgd=-1', 'lr.sgd: Too small: expected number to be >0'],
    ['iterations=1.5', 'iterations: expected int, received number'],
    ['trainSize=70000', 'trainSize: Too big: expected number to be <=60000'],
    ['hidden=[10,0]', 'hidden.1: Too small: expected number to be >=1'],
    ['tail=9999', 'tail: tail must not exceed iterations'],
    ['trainSize.x=1', "'trainSize' has no fields to set"],
  ])('--set %s is one line naming the path, the value and what is allowed', (set, message) => {
    expect(() => plan([set])).toThrow(UserError);
    expect(() => plan([set])).toThrow(`--set ${set}: ${message}`);
  });

  it('refuses a malformed --set, --set with several studies, and a bad --name', () => {
    expect(() => plan(['lr'])).toThrow('--set lr: expected path=value, e.g. --set lr.sgd=0.1');
    expect(() => planRuns([s2, findStudy('init-mnist')!], { profile: 'quick', set: ['lr=1'] })).toThrow("--set and --config change one study's config: name one study (got 2)");
    expect(() => plan([], { name: 'a b' })).toThrow("--name must be letters, digits, - or _");
    expect(() => plan([], { name: 'quick' })).toThrow("--name must be letters");
  });

  it('merges a partial config file over the profile, then --set on top; a bad file is one line', () => {
    const file = join(scratch, 'my.json');
    writeFileSync(file, JSON.stringify({ iterations: 50, tail: 10, lr: { sgd: 0.05 } }));
    const p = plan(['lr.adam=0.01'], { config: file });
    expect(p.overrides).toEqual({ iterations: [300, 50], tail: [50, 10], 'lr.sgd': [0.01, 0.05], 'lr.adam': [0.001, 0.01] });
    expect((p.config as { lr: Record<string, number> }).lr.momentum).toBe(0.01); // untouched fields stay the profile's
    expect(() => plan([], { config: join(scratch, 'none.json') })).toThrow(`--config ${join(scratch, 'none.json')}: no such file`);
    writeFileSync(join(scratch, 'bad.json'), '{"iterations": ');
    expect(() => plan([], { config: join(scratch, 'bad.json') })).toThrow(/--config .*bad\.json: not valid JSON/);
    writeFileSync(join(scratch, 'list.json'), '[1, 2]');
    expect(() => plan([], { config: join(scratch, 'list.json') })).toThrow(/must hold a JSON object of settings/);
    writeFileSync(join(scratch, 'wrong.json'), '{"iterations": "many"}');
    expect(() => plan([], { config: join(scratch, 'wrong.json') })).toThrow(/--config .*wrong\.json: iterations: expected number, received string/);
  });

  it('--print-config shows the effective config and exits without running or writing', async () => {
    const out = join(scratch, 'print');
    const r = await quietly(() => experimentCli(['optimizers-mnist', '--profile', 'quick', '--set', 'lr.sgd=0.1', '--print-config', '--out', out]));
    expect(r.value).toBe(0);
    const shown = JSON.parse(r.out) as { name: string; overrides: unknown; config: { lr: { sgd: number } } };
    expect(shown.config.lr.sgd).toBe(0.1);
    expect(shown.overrides).toEqual({ 'lr.sgd': [0.01, 0.1] });
    expect(existsSync(out)).toBe(false);
  });
});

describe('named runs', () => {
  it('a changed config never overwrites the profile\'s result, and records its overrides and the tree state', async () => {
    const out = join(scratch, 'named');
    await quietly(() => experimentCli(['optimizer-paths', '--out', out, '--workers', '1', '--quiet']));
    const profileRun = readFileSync(join(out, 'optimizer-paths.json'), 'utf8');
    const r = await quietly(() => experimentCli(['optimizer-paths', '--set', 'lr.sgd=0.5', '--set', 'steps=10', '--out', out, '--workers', '1', '--quiet']));
    expect(r.value).toBe(0);
    expect(r.out).toMatch(/run 'lecture-[0-9a-f]{8}': steps=10, lr\.sgd=0\.5/);
    const [file] = readdirSync(join(out, 'runs'));
    const named = readResult(join(out, 'runs', file!));
    expect(named.name).toMatch(/^lecture-/);
    expect(named.overrides).toEqual({ steps: [30, 10], 'lr.sgd': [0.95, 0.5] });
    expect(typeof named.environment.gitDirty).toBe('boolean');
    expect(readFileSync(join(out, 'optimizer-paths.json'), 'utf8')).toBe(profileRun);
    // the claim says which rate it checked
    expect(named.claims.find((c) => c.id === 'sgd-first-step')!.text).toContain('(lr 0.5) from (-7, 2) lands at (-6.65, 0)');
  });
});

describe('claims follow the config and need nets that learned', () => {
  const summary = (train: number, test: number, first: number | null = null): VariantSummary => ({
    epochs: 10, finalTrain: train, finalTest: test, finalGap: train - test, tailTrain: train, tailTest: test, bestTest: test, firstEpochTrainAtOne: first, diverged: false, evalPasses: 1,
  });

  it('dropout 0.5 at chance level does not "narrow the gap": the run cannot decide, and says the net did not learn', () => {
    const config = { ...overfit.profiles.lecture, specs: { ...overfit.profiles.lecture.specs, dropout: { ...overfit.profiles.lecture.specs.dropout, dropout: 0.5 } } };
    const claims = overfitClaims({ dropout: summary(0.13, 0.126), 'dropout-control': summary(1, 0.76, 110) }, config);
    const narrows = claims.find((c) => c.id === 'dropout-narrows-gap')!;
    expect(narrows.text).toBe("Dropout 0.5: the train-test gap ends smaller than its no-dropout control's (a real difference)");
    expect(narrows.verdict).toBe('inconclusive');
    expect(narrows.reason).toContain('dropout: accuracy 0.130 <= 0.2');
    expect(narrows.numbers.didNotLearn).toEqual(['dropout: accuracy 0.130 <= 0.2']);
    expect(claims.find((c) => c.id === 'dropout-fits-later')!.verdict).toBe('inconclusive');
  });

  it('S2: SGD stuck at chance is what "SGD is slowest" predicts; a stuck Momentum makes both comparisons inconclusive, with the reason', () => {
    const row = (finalLoss: number) => ({ finalLoss, testAccuracy: 0.5, diverged: false });
    const config = { ...optimizersMnist.profiles.quick, lr: { sgd: 1e-6, momentum: 0.01, adagrad: 0.01, adam: 0.001 } };
    const judge = (summary: Record<string, ReturnType<typeof row>>) => optimizersMnist.claims({ series: { loss: curvesOf(summary, config.tail), divergedAt: {} }, summary }, config);
    const sgdStuck = judge({ sgd: row(2.31), momentum: row(0.5), adagrad: row(0.3), adam: row(0.4) });
    expect(sgdStuck.map((c) => c.verdict)).toEqual(['holds', 'holds']);
    expect(sgdStuck[0]!.text).toContain('SGD (lr 0.000001)');
    const momentumStuck = judge({ sgd: row(0.6), momentum: row(2.31), adagrad: row(0.3), adam: row(0.4) });
    expect(momentumStuck.map((c) => c.verdict)).toEqual(['inconclusive', 'inconclusive']);
    expect(momentumStuck[0]!.numbers.didNotLearn).toEqual(['momentum: final loss 2.310 >= 2.072']);
  });
});

describe('npm run compare', () => {
  it('overlays runs of one study labelled by what differs, with a table side by side; CSV on request', async () => {
    const out = join(scratch, 'cmp');
    for (const lr of ['0.5', '0.95']) await quietly(() => experimentCli(['optimizer-paths', '--set', `lr.sgd=${lr}`, '--name', `sgd${lr.replace('.', '')}`, '--out', out, '--workers', '1', '--quiet']));
    const r = await quietly(() => compareCli([join(out, 'runs'), '--out', join(out, 'figs'), '--csv']));
    expect(r.value).toBe(0);
    expect(r.out).toContain('run 1: lr.sgd=0.5');
    expect(r.out).toContain('run 2: lr.sgd=0.95');
    expect(r.out).toMatch(/sgd\.finalDistance +\S+ +0\.36/);
    const files = readdirSync(join(out, 'figs'));
    expect(files.filter((f) => f.endsWith('.png'))).toHaveLength(1);
    const csv = readFileSync(join(out, 'figs', files.find((f) => f.endsWith('.csv'))!), 'utf8').split('\n');
    expect(csv[0]).toBe('panel,line,run,x,y');
    expect(csv[1]).toBe('sgd,path,lr.sgd=0.5,-7,2');
  });

  it('refuses one run, runs of different studies, and runs with nothing in common, in one line', async () => {
    const one = join(FIXTURES, 'optimizer-paths.json');
    await expect(compareCli([one])).rejects.toThrow('compare needs two or more runs of one study; found 1');
    await expect(compareCli([one, join(FIXTURES, 'init-mnist.json')])).rejects.toThrow(/^compare takes runs of one study; these are of optimizer-paths, init-mnist/);
    const dir = mkdtempSync(join(scratch, 'apart-'));
    const base = JSON.parse(readFileSync(join(FIXTURES, 'overfit.json'), 'utf8'));
    const only = (v: string) => ({ ...base, runs: base.runs.map((r: { series: { accuracy: Record<string, unknown> } }) => ({ ...r, series: { ...r.series, accuracy: { [v]: r.series.accuracy[v] } } })) });
    writeFileSync(join(dir, 'a.json'), JSON.stringify(only('plain')));
    writeFileSync(join(dir, 'b.json'), JSON.stringify(only('dropout')));
    await expect(compareCli([join(dir, 'a.json'), join(dir, 'b.json')])).rejects.toThrow(/^nothing in common to draw: the runs of overfit share no panel/);
  });
});

describe('npm run figures on any kind of result', () => {
  it('draws a folder of quick results (no flag needed), at a chosen scale and format, with CSV', async () => {
    const dir = mkdtempSync(join(scratch, 'fig-'));
    const r = JSON.parse(readFileSync(join(FIXTURES, 'optimizer-paths.json'), 'utf8'));
    writeFileSync(join(dir, 'optimizer-paths.quick.json'), JSON.stringify({ ...r, profile: 'quick' }));
    const a = await quietly(() => figuresCli(['--out', dir, '--scale', '1', '--format', 'png', '--csv']));
    expect(a.value).toBe(0);
    expect(readdirSync(join(dir, 'figures', 'quick')).sort()).toEqual(['optimizer-paths.csv', 'optimizer-paths.png']);
    const b = await quietly(() => figuresCli(['--out', dir, '--scale', '3', '--format', 'png', '--no-report']));
    expect(b.value).toBe(0);
    // a larger scale draws a larger PNG (its width is in the header)
    expect(readFileSync(join(dir, 'figures', 'quick', 'optimizer-paths.png')).readUInt32BE(16)).toBeGreaterThan(1500);
    await expect(figuresCli(['--out', dir, '--scale', '0'])).rejects.toThrow("--scale must be a number from 1 to 8, got '0'");
  });

  it('says what it looked for and fails when it drew nothing', async () => {
    const empty = mkdtempSync(join(scratch, 'empty-'));
    mkdirSync(join(empty, 'runs'));
    await expect(figuresCli(['--out', empty])).rejects.toThrow(/^nothing to draw in .*looked for <study>\.json, <study>\.quick\.json, runs\/<study>\.<name>\.json/);
    copyFileSync(join(FIXTURES, 'optimizer-paths.json'), join(empty, 'optimizer-paths.json'));
    await expect(figuresCli(['--out', empty, '--profile', 'quick'])).rejects.toThrow(/looked for <study>\.quick\.json\): try --profile all/);
  });
});

describe('progress where nobody watches a terminal', () => {
  it('prints a line at every tenth with the elapsed time and an ETA', () => {
    const lines: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((c) => (lines.push(String(c)), true));
    const now = vi.spyOn(Date, 'now');
    try {
      let t = 0;
      now.mockImplementation(() => t);
      const p = makeProgress('training', 100);
      for (let i = 0; i < 100; i++) {
        t += 1000;
        p.tick();
      }
      p.done();
    } finally {
      spy.mockRestore();
      now.mockRestore();
    }
    const tenths = lines.filter((l) => /training: \d+% \(\d+\/100\), .* elapsed, ETA /.test(l));
    expect(tenths).toHaveLength(9);
    expect(tenths[0]).toContain('training: 10% (10/100), 10s elapsed, ETA 1m30s');
    expect(lines[lines.length - 1]).toContain('training: done in 1m40s');
  });
});
