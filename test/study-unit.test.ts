/**
 * The study contract end to end: a throwaway study added through the registry alone is
 * listed, run (its units journaled), drawn, reported and guarded like the suite's own; and
 * the order of `all` comes from the committed results' durations.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { STUDIES } from '../experiments/index.js';
import { SUITE, experimentCli } from '../src/cli/experiment.js';
import { expectedDurations, longestFirst } from '../src/exec/plan.js';
import { figuresCli } from '../src/cli/figures.js';
import { lossCurves, lossFigure, type LossSeries } from '../src/plot/loss-curves.js';
import { baselineFrom, claimChanges, compareToBaseline, keyNumbersOf } from '../src/regression.js';
import { readResult } from '../src/results/store.js';
import { defineStudy, unit, type AnyStudy, type UnitFunction } from '../src/study.js';

/** Gradient descent on f(x) = x^2 from x = 1, one walk per rate. */
const ToyConfigSchema = z.strictObject({ lrs: z.array(z.number().positive()).length(2), steps: z.number().int().min(1) });
type ToyConfig = z.infer<typeof ToyConfigSchema>;

/** A study in a dozen lines: each rate's walk is a unit of work. */
/** One walk: its input is the rate, its record the loss per step. */
function walkUnit(config: ToyConfig, lr: number): number[] {
  const loss: number[] = [];
  for (let x = 1, i = 0; i < config.steps; i++) loss.push((x -= lr * 2 * x) ** 2);
  return loss;
}

const toy = defineStudy<ToyConfig, LossSeries, Record<string, { finalLoss: number }>, { walk: UnitFunction<ToyConfig, number, number[]> }>({
  name: 'toy-quadratic',
  id: 'T1',
  title: 'Toy: step size on x^2',
  description: 'gradient descent on x^2 with two rates (a test of the study contract)',
  needsMnist: false,
  configSchema: ToyConfigSchema,
  profiles: { lecture: { lrs: [0.05, 0.4], steps: 40 }, quick: { lrs: [0.05, 0.4], steps: 20 } },
  flags: [{ name: 'toy-steps', kind: 'integer', min: 1, describe: 'toy: steps per walk', apply: (c, steps) => ({ ...c, steps }) }],
  units: { walk: unit(walkUnit) },
  async run(config, ctx) {
    const walks = await ctx.units.run(config.lrs.map((lr) => ({ unit: 'walk', key: `lr${lr}`, input: lr })));
    const loss = Object.fromEntries(config.lrs.map((lr, i) => [`lr ${lr}`, walks[i]!]));
    return {
      series: { loss, divergedAt: Object.fromEntries(config.lrs.map((lr) => [`lr ${lr}`, null])) },
      summary: Object.fromEntries(Object.entries(loss).map(([k, v]) => [k, { finalLoss: v[v.length - 1]! }])),
    };
  },
  claims: (run, config) => [
    {
      id: 'larger-rate-faster',
      text: `rate ${config.lrs[1]} ends lower than rate ${config.lrs[0]}`,
      verdict: run.summary[`lr ${config.lrs[1]}`]!.finalLoss < run.summary[`lr ${config.lrs[0]}`]!.finalLoss ? ('holds' as const) : ('FAILS' as const),
      numbers: { final: Object.fromEntries(Object.entries(run.summary).map(([k, v]) => [k, v.finalLoss])) },
    },
  ],
  keyNumbers: (run) => Object.fromEntries(Object.entries(run.summary).map(([k, v]) => [`${k}.finalLoss`, { value: v.finalLoss, tolerance: 1e-6 }])),
  figures: (result) => [lossFigure(result, { name: result.study, title: 'Toy', caption: 'loss per step', yMax: 1, labels: {} })],
  curves: (run) => lossCurves(run.series),
});

const scratch = mkdtempSync(join(tmpdir(), 'study-unit-'));
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

async function captured(run: () => Promise<number>): Promise<{ code: number; out: string }> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  const spyErr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    return { code: await run(), out };
  } finally {
    spy.mockRestore();
    spyErr.mockRestore();
  }
}

describe('a study added by one registry line', () => {
  // The suite's registry with one more line. With --workers 1 no worker process starts, so
  // none needs to import it (a registry module a worker imports exports STUDIES).
  const studies = [...SUITE.studies, toy as AnyStudy];
  const registry = { studies, module: SUITE.module };

  it('is listed, runs with its own flag, and its units leave no journal behind', async () => {
    const list = await captured(() => experimentCli(['list'], registry));
    expect(list.out).toContain('T1  toy-quadratic');
    const run = await captured(() => experimentCli(['toy-quadratic', '--profile', 'quick', '--out', scratch, '--workers', '1', '--quiet'], registry));
    expect(run.code).toBe(0);
    expect(run.out).toContain('holds  rate 0.4 ends lower than rate 0.05');
    expect(existsSync(join(scratch, 'toy-quadratic.quick.seed0.journal.jsonl'))).toBe(false);
    // Its own flag changes the config: a named run beside the profile's result, not over it.
    const named = await captured(() => experimentCli(['toy-quadratic', '--profile', 'quick', '--toy-steps', '12', '--name', 't12', '--out', scratch, '--workers', '1', '--quiet'], registry));
    expect(named.code).toBe(0);
    const result = readResult(join(scratch, 'runs', 'toy-quadratic.t12.json'));
    expect((result.config as unknown as ToyConfig).steps).toBe(12);
    expect(result.overrides).toEqual({ steps: [20, 12] });
    expect((result.runs[0]!.series as unknown as LossSeries).loss['lr 0.4']).toHaveLength(12);
    expect((readResult(join(scratch, 'toy-quadratic.quick.json')).config as unknown as ToyConfig).steps).toBe(20);
  });

  it('is drawn and reported by npm run figures', async () => {
    const r = await captured(() => figuresCli(['--out', scratch], studies));
    expect(r.code).toBe(0);
    expect(existsSync(join(scratch, 'figures', 'quick', 'toy-quadratic.png'))).toBe(true);
    expect(readFileSync(join(scratch, 'REPORT.quick.md'), 'utf8')).toContain('## T1 toy-quadratic: Toy: step size on x^2');
    expect(existsSync(join(scratch, 'runs', 'figures', 't12.toy-quadratic.png'))).toBe(true);
    expect(readFileSync(join(scratch, 'runs', 'REPORT.md'), 'utf8')).toContain('**Changed from the quick profile:** `steps` 20 → 12.');
  });

  it('is guarded: its baseline passes, a moved number or a changed verdict does not', () => {
    const result = readResult(join(scratch, 'toy-quadratic.quick.json'));
    const baseline = baselineFrom(toy as AnyStudy, result);
    expect(compareToBaseline(baseline, keyNumbersOf(toy as AnyStudy, result))).toEqual([]);
    expect(claimChanges(baseline, result)).toEqual([]);
    const moved = structuredClone(result);
    (moved.runs[0]!.summary as Record<string, { finalLoss: number }>)['lr 0.4']!.finalLoss += 0.01;
    expect(compareToBaseline(baseline, keyNumbersOf(toy as AnyStudy, moved)).map((d) => d.name)).toEqual(['lr 0.4.finalLoss']);
    const flipped = { ...result, claims: result.claims.map((c) => ({ ...c, verdict: 'FAILS' as const })) };
    expect(claimChanges(baseline, flipped)[0]).toContain('claim larger-rate-faster FAILS (baseline: holds)');
    // A baseline's inconclusive must stay inconclusive: holds or FAILS in its place is a change.
    const undecided = { ...result, claims: result.claims.map((c) => ({ ...c, verdict: 'inconclusive' as const, reason: 'within the noise' })) };
    expect(claimChanges(baseline, undecided)[0]).toContain('claim larger-rate-faster inconclusive (baseline: holds): rate 0.4 ends lower than rate 0.05 -- within the noise');
    const undecidedBaseline = baselineFrom(toy as AnyStudy, undecided);
    expect(undecidedBaseline.claims).toEqual({ 'larger-rate-faster': 'inconclusive' });
    expect(claimChanges(undecidedBaseline, undecided)).toEqual([]);
    expect(claimChanges(undecidedBaseline, result)[0]).toContain('claim larger-rate-faster holds (baseline: inconclusive)');
  });
});

describe('the order of all', () => {
  it('is longest first by the committed results\' durations, a study without one first', () => {
    const dir = mkdtempSync(join(scratch, 'durations-'));
    const [a, b, c] = STUDIES;
    writeFileSync(join(dir, `${a!.name}.json`), JSON.stringify({ durationMs: 10 }));
    writeFileSync(join(dir, `${b!.name}.json`), JSON.stringify({ durationMs: 500 }));
    const studies = [a!, b!, c!].map((study) => ({ study }));
    expect(longestFirst(studies, expectedDurations([a!, b!, c!], dir)).map((s) => s.study.name)).toEqual([c!.name, b!.name, a!.name]);
  });
});
