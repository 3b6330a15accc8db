/**
 * S5 figure, drawn as the lecture draws it: a 4x4 grid, one panel per init scale w, training
 * accuracy per epoch with batch norm (solid) and without (dashed), y from 0 to 1. A run that
 * diverged is marked in its panel with the epoch it happened in.
 */
import type { TopLevelSpec } from 'vega-lite';
import { CONFIG, SCHEMA_URL, band, bandLayer, isMultiSeed, provenance, type Json } from '../../src/plot/common.js';
import type { Figure } from '../../src/plot/render.js';
import type { TypedResult } from '../../src/study.js';
import type { BatchnormConfig, BatchnormSeries } from './study.js';

type BatchnormResult = TypedResult<BatchnormConfig, BatchnormSeries, unknown>;

const VARIANTS = [
  { key: 'bn', label: 'with batch norm' },
  { key: 'plain', label: 'without batch norm' },
] as const;

export const scaleLabel = (w: number): string => `w = ${Number(w.toPrecision(3))}`;

export function batchnormRows(result: BatchnormResult): Json[] {
  const first = result.runs[0]!.series;
  const rows: Json[] = [];
  first.scales.forEach((w, i) => {
    for (const v of VARIANTS) {
      const curves = result.runs.map((r) => r.series.accuracy[v.key][i] ?? []);
      for (const p of band(curves)) {
        const row: Json = { kind: 'curve', panel: i, w: scaleLabel(w), variant: v.label, epoch: p.x, accuracy: p.mean };
        if (curves.length > 1) Object.assign(row, { min: p.min, max: p.max });
        rows.push(row);
      }
      // Divergence notes: how many seeds diverged and the first epoch it happened in.
      const hits = result.runs.map((r) => r.series.divergedAt[v.key][i] ?? null).filter((d) => d !== null);
      if (hits.length > 0) {
        const epochs = hits.map((d) => d!.epoch).filter((e): e is number => e !== null);
        const when = epochs.length > 0 ? ` in epoch ${Math.min(...epochs)}` : '';
        const seeds = result.runs.length > 1 ? ` (${hits.length}/${result.runs.length} seeds)` : '';
        rows.push({ kind: 'note', panel: i, w: scaleLabel(w), variant: v.label, text: `${v.key === 'bn' ? 'BN' : 'no BN'} diverged${when}${seeds}` });
      }
    }
  });
  return rows;
}

/** The run's setup as the subtitle states it, from its config. */
function setup(c: BatchnormConfig): string {
  return `first ${c.trainSize.toLocaleString('en-US')} training images, ${c.hidden.length} hidden layers of ${c.hidden[0]}, SGD lr ${c.lr}, batch ${c.batchSize}`;
}

export function batchnormFigures(result: BatchnormResult): Figure[] {
  const rows = batchnormRows(result);
  const epochs = Math.max(...rows.filter((r) => r.kind === 'curve').map((r) => r.epoch as number)) + 1;
  const order = [...new Set(rows.map((r) => r.w as string))];
  const x = { field: 'epoch', type: 'quantitative', title: 'epochs', scale: { domain: [0, epochs - 1], nice: false }, axis: { tickCount: 5 } };
  const y = { field: 'accuracy', type: 'quantitative', title: 'training accuracy', scale: { domain: [0, 1] }, axis: { tickCount: 5 } };
  const variants = VARIANTS.map((v) => v.label);
  const color = { field: 'variant', type: 'nominal', title: null, scale: { domain: variants, range: ['#1f77b4', '#ff7f0e'] } };
  const dash = { field: 'variant', type: 'nominal', title: null, scale: { domain: variants, range: [[1, 0], [5, 3]] } };
  const layers: Json[] = [
    { transform: [{ filter: "datum.kind === 'curve'" }], mark: { type: 'line', strokeWidth: 1.6 }, encoding: { x, y, color, strokeDash: dash } },
  ];
  if (isMultiSeed(result)) layers.push(bandLayer(x, { ...y, field: 'min' }, color)); // note rows have no min/max
  layers.push({
    transform: [{ filter: "datum.kind === 'note'" }],
    mark: { type: 'text', align: 'left', baseline: 'top', dx: 4, dy: 4, fontSize: 10, color: '#c0392b' },
    encoding: { text: { field: 'text' }, x: { datum: 0, type: 'quantitative', scale: x.scale }, y: { datum: 1, type: 'quantitative', scale: y.scale } },
  });
  const spec = {
    $schema: SCHEMA_URL,
    title: {
      text: `S5 Batch norm: training accuracy for ${order.length} init scales w`,
      subtitle: `${setup(result.config)}; weights N(0, w²); ${provenance(result)}`,
    },
    data: { values: rows },
    facet: { field: 'w', type: 'ordinal', sort: order, title: null, header: { labelFontSize: 12 } },
    columns: 4,
    spec: { width: 170, height: 110, layer: layers },
    spacing: { row: 12, column: 12 },
    config: { ...CONFIG, legend: { ...(CONFIG.legend as Json), orient: 'top', symbolStrokeWidth: 2, symbolSize: 300 } },
  };
  return [{ name: result.study, caption: 'Training accuracy per epoch for each init scale w: with batch norm solid, without dashed.', spec: spec as unknown as TopLevelSpec }];
}
