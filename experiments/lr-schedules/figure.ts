/**
 * S10 figure: the training loss per iteration of each schedule (smoothed as the lecture
 * smooths loss curves, 11-point Kaiser window, log y), and below it, on the same iteration
 * axis, the learning rate each schedule used.
 */
import type { TopLevelSpec } from 'vega-lite';
import { CONFIG, PALETTE, SCHEMA_URL, band, bandLayer, isMultiSeed, provenance, sig, type Json } from '../../src/plot/common.js';
import type { Figure } from '../../src/plot/render.js';
import { smoothKaiser } from '../../src/plot/smooth.js';
import type { TypedResult } from '../../src/study.js';
import { scheduleLabel, type LrSchedulesConfig, type LrSchedulesSeries } from './study.js';

type ScheduleResult = TypedResult<LrSchedulesConfig, LrSchedulesSeries, unknown>;

export function scheduleFigures(result: ScheduleResult): Figure[] {
  const first = result.runs[0]!.series;
  const names = Object.keys(first.schedules);
  const order = names.map(scheduleLabel);
  const lossRows: Json[] = [];
  const lrRows: Json[] = [];
  for (const name of names) {
    const curve = scheduleLabel(name);
    const curves = result.runs.map((r) => smoothKaiser(r.series.schedules[name]?.loss ?? []));
    for (const p of band(curves)) {
      if (p.mean === null || p.mean <= 0) continue;
      const row: Json = { curve, iteration: p.x, loss: p.mean };
      if (curves.length > 1) Object.assign(row, { min: p.min, max: p.max });
      lossRows.push(row);
    }
    // The rate is the config's, the same for every seed. Drawn through every 10th iteration,
    // the last, and both sides of every jump of more than 1% (a step decay's drops, which stay
    // vertical): the smooth decays change by at most 0.4% per iteration, so the page keeps a
    // tenth of the points and the lines look the same.
    const lrs = first.schedules[name]!.lr;
    const jumpAt = (i: number) => {
      const a = lrs[i - 1];
      const b = lrs[i];
      return a !== undefined && a !== null && b !== undefined && b !== null && Math.abs(b - a) > 0.01 * a;
    };
    lrs.forEach((lr, i) => {
      if (lr !== null && (i % 10 === 0 || i === lrs.length - 1 || jumpAt(i) || jumpAt(i + 1))) lrRows.push({ curve, iteration: i, lr: sig(lr) });
    });
  }
  const iterations = Math.max(...names.map((n) => first.schedules[n]!.lr.length));
  const x = { field: 'iteration', type: 'quantitative', title: 'iterations', scale: { domain: [0, iterations], nice: false } };
  const color = { field: 'curve', type: 'nominal', title: 'schedule', sort: order, scale: { domain: order, range: order.map((_, i) => PALETTE[i % PALETTE.length]!) } };
  const yLoss = { field: 'loss', type: 'quantitative', title: 'training loss (smoothed, log scale)', scale: { type: 'log', nice: false } };
  const lossLayers: Json[] = [{ mark: { type: 'line', strokeWidth: 1.2, clip: true }, encoding: { x: { ...x, title: null }, y: yLoss, color } }];
  if (isMultiSeed(result)) lossLayers.push(bandLayer(x, { ...yLoss, field: 'min' }, color, { clip: true }));
  const c = result.config;
  const ipe = first.iterationsPerEpoch;
  const spec = {
    $schema: SCHEMA_URL,
    title: {
      text: 'S10 Annealing the learning rate: training loss and the rate per iteration',
      subtitle: [
        `${c.hidden.length + 1}-layer ReLU/He net, SGD from ${first.startRate ? `a0 = ${first.startRate.chosen} (the largest of ${c.startRates.join(', ')} that learns in its first epoch)${Object.keys(first.schedules).some((n) => n.startsWith('low:')) ? ` and from the low a0 = ${c.lr}` : ''}` : c.lr}, ${c.trainSize.toLocaleString('en-US')} images, batch ${c.batchSize}, ${c.epochs} epochs of ${ipe} iterations; same weights and batches for all`,
        `loss of each batch before its update, smoothed: 11-point Kaiser window (beta 2); ${provenance(result)}`,
      ],
    },
    vconcat: [
      { width: 600, height: 300, data: { values: lossRows }, layer: lossLayers },
      {
        width: 600,
        height: 130,
        data: { values: lrRows },
        mark: { type: 'line', strokeWidth: 1.5 },
        encoding: { x, y: { field: 'lr', type: 'quantitative', title: 'learning rate', scale: { zero: true } }, color },
      },
    ],
    resolve: { scale: { color: 'shared' } },
    spacing: 10,
    config: CONFIG,
  };
  return [
    {
      name: result.study,
      caption: 'Top: training loss per iteration (smoothed, log scale) under each schedule. Bottom: the learning rate each schedule used at that iteration.',
      spec: spec as unknown as TopLevelSpec,
    },
  ];
}
