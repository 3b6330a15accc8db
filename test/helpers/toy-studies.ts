/**
 * Two tiny studies with units for the sharding tests (no MNIST, milliseconds of work):
 * - toy-walks: one batch of independent units (gradient descent on x^2 from a start drawn
 *   from the unit's own stream), combined by run() into a summary: sharded unit by unit;
 * - toy-stages: a coarse stage, then a fine stage around the coarse stage's best rate, with
 *   its ranges checkpointed before the first batch (as S7 does): sharded by seed.
 */
import { z } from 'zod';
import { Rng } from '../../src/rng.js';
import { defineStudy, unit, type AnyStudy, type UnitContext } from '../../src/study.js';
import { lossCurves, lossFigure, type LossSeries } from '../../src/plot/loss-curves.js';

const Schema = z.strictObject({ lrs: z.array(z.number().positive()).min(1), steps: z.number().int().min(1) });
type Config = z.infer<typeof Schema>;
type Summary = Record<string, { finalLoss: number }>;

/** A walk from a start drawn by (seed, key): its loss per step. */
function walk(steps: number, lr: number, seed: number, key: string): number[] {
  let x = Rng.stream(seed, `toy:${key}`).uniformIn(0.5, 2);
  const loss: number[] = [];
  for (let i = 0; i < steps; i++) loss.push((x -= lr * 2 * x) ** 2);
  return loss;
}

const common = {
  needsMnist: false,
  configSchema: Schema,
  units: { walk: unit((config: Config, lr: number, ctx: UnitContext, key: string) => walk(config.steps, lr, ctx.seed, key)) },
  claims: (run: { summary: Summary }) => {
    const finals = Object.values(run.summary).map((s) => s.finalLoss);
    return [{ id: 'some-walk-converges', text: 'some walk ends below 1e-3', verdict: Math.min(...finals) < 1e-3 ? ('holds' as const) : ('FAILS' as const), numbers: { best: Math.min(...finals) } }];
  },
  keyNumbers: () => ({}),
  figures: (result: Parameters<typeof lossFigure>[0]) => [lossFigure(result, { name: result.study, title: 'Toy', caption: 'loss per step', yMax: 1, labels: {} })],
  curves: (run: { series: LossSeries }) => lossCurves(run.series),
};

const series = (loss: Record<string, number[]>): LossSeries => ({ loss, divergedAt: Object.fromEntries(Object.keys(loss).map((k) => [k, null])) });
const summaryOf = (loss: Record<string, number[]>): Summary => Object.fromEntries(Object.entries(loss).map(([k, v]) => [k, { finalLoss: v[v.length - 1]! }]));

export const toyWalks = defineStudy<Config, LossSeries, Summary, typeof common.units>({
  ...common,
  name: 'toy-walks',
  id: 'T1',
  title: 'Toy: independent walks',
  description: 'gradient descent on x^2, one unit per rate (a test of sharding by unit)',
  profiles: { lecture: { lrs: [0.01, 0.05, 0.1, 0.2, 0.3, 0.45], steps: 40 }, quick: { lrs: [0.01, 0.05, 0.1, 0.2, 0.3, 0.45], steps: 20 } },
  async run(config, ctx) {
    const walks = await ctx.units.run(config.lrs.map((lr) => ({ unit: 'walk', key: `lr${lr}`, input: lr })));
    const loss = Object.fromEntries(config.lrs.map((lr, i) => [`lr ${lr}`, walks[i]!]));
    return { series: series(loss), summary: summaryOf(loss) };
  },
});

export const toyStages = defineStudy<Config, LossSeries, Summary, typeof common.units>({
  ...common,
  name: 'toy-stages',
  id: 'T2',
  title: 'Toy: a coarse stage and a fine stage',
  description: 'gradient descent on x^2: the fine stage tries rates around the coarse stage\'s best (a test of sharding by seed)',
  profiles: { lecture: { lrs: [0.01, 0.1, 0.3], steps: 30 }, quick: { lrs: [0.01, 0.1, 0.3], steps: 15 } },
  async run(config, ctx) {
    ctx.units.checkpoint('stage1', config.lrs);
    const coarse = await ctx.units.run(config.lrs.map((lr) => ({ unit: 'walk', key: `1:${lr}`, input: lr })));
    const best = config.lrs[coarse.map((l) => l[l.length - 1]!).reduce((b, v, i, a) => (v < a[b]! ? i : b), 0)]!;
    const fine = ctx.units.checkpoint('stage2', [best * 0.8, best * 1.2]);
    const second = await ctx.units.run(fine.map((lr) => ({ unit: 'walk', key: `2:${lr}`, input: lr })));
    const loss = Object.fromEntries([...config.lrs.map((lr, i) => [`1: lr ${lr}`, coarse[i]!]), ...fine.map((lr, i) => [`2: lr ${lr.toPrecision(3)}`, second[i]!])]);
    return { series: series(loss), summary: summaryOf(loss) };
  },
});

export const TOY_STUDIES: AnyStudy[] = [toyWalks as AnyStudy, toyStages as AnyStudy];

/** A second batch that depends on the first, without a checkpoint before the first: merge must refuse it. */
export const toyUnmarked = defineStudy<Config, LossSeries, Summary, typeof common.units>({
  ...toyStages,
  name: 'toy-unmarked',
  id: 'T3',
  async run(config, ctx) {
    const coarse = await ctx.units.run(config.lrs.map((lr) => ({ unit: 'walk', key: `1:${lr}`, input: lr })));
    const best = config.lrs[coarse.map((l) => l[l.length - 1]!).reduce((b, v, i, a) => (v < a[b]! ? i : b), 0)]!;
    const second = await ctx.units.run([{ unit: 'walk', key: `2:${best / 2}`, input: best / 2 }]);
    const loss = { coarse: coarse[0]!, fine: second[0]! };
    return { series: series(loss), summary: summaryOf(loss) };
  },
});
