/**
 * S6 figure, drawn as the lecture draws it: train and test accuracy per epoch (train with
 * circles, test with squares, a marker every 10 epochs), y from 0 to 1, one panel per variant.
 */
import type { TopLevelSpec } from 'vega-lite';
import { CONFIG, SCHEMA_URL, band, bandLayer, isMultiSeed, provenance, type Json } from '../../src/plot/common.js';
import type { Figure } from '../../src/plot/render.js';
import type { TypedResult } from '../../src/study.js';
import { VARIANTS, VARIANT_TITLE, type OverfitConfig, type OverfitSeries, type Variant } from './study.js';

type OverfitResult = TypedResult<OverfitConfig, OverfitSeries, unknown>;

function panelTitle(key: Variant, config: OverfitConfig, epochs: number): string {
  const spec = config.specs[key];
  const detail = key === 'weight-decay' && spec.weightDecay ? ` λ = ${spec.weightDecay}` : key === 'dropout' && spec.dropout ? ` ratio ${spec.dropout}` : '';
  return `${VARIANT_TITLE[key]}${detail}, ${epochs} epochs`;
}

export function overfitRows(result: OverfitResult): Json[] {
  const first = result.runs[0]!.series.accuracy;
  const rows: Json[] = [];
  for (const key of VARIANTS.filter((k) => k in first)) {
    for (const set of ['train', 'test'] as const) {
      const curves = result.runs.map((r) => r.series.accuracy[key]?.[set] ?? []);
      const epochs = Math.min(...curves.map((c) => c.length));
      const panel = panelTitle(key, result.config, epochs);
      for (const p of band(curves)) {
        const row: Json = { panel, set, epoch: p.x, accuracy: p.mean };
        if (curves.length > 1) Object.assign(row, { min: p.min, max: p.max });
        rows.push(row);
      }
    }
  }
  return rows;
}

export function overfitFigures(result: OverfitResult): Figure[] {
  const rows = overfitRows(result);
  const order = [...new Set(rows.map((r) => r.panel as string))];
  const x = { field: 'epoch', type: 'quantitative', title: 'epochs', scale: { nice: false }, axis: { tickCount: 5 } };
  const y = { field: 'accuracy', type: 'quantitative', title: 'accuracy', scale: { domain: [0, 1] } };
  const sets = ['train', 'test'];
  const color = { field: 'set', type: 'nominal', title: null, scale: { domain: sets, range: ['#1f77b4', '#ff7f0e'] } };
  const shape = { field: 'set', type: 'nominal', title: null, scale: { domain: sets, range: ['circle', 'square'] } };
  const layers: Json[] = [{ mark: { type: 'line', strokeWidth: 1.4 }, encoding: { x, y, color } }];
  // The lecture's markevery=10.
  layers.push({ transform: [{ filter: 'datum.epoch % 10 === 0 && datum.accuracy !== null' }], mark: { type: 'point', size: 22, filled: true }, encoding: { x, y, color, shape } });
  if (isMultiSeed(result)) layers.push(bandLayer(x, { ...y, field: 'min' }, color));
  const c = result.config;
  const n = (v: number) => v.toLocaleString('en-US');
  const spec = {
    $schema: SCHEMA_URL,
    title: {
      text: `S6 Overfitting ${n(c.trainSize)} training images: train and test accuracy`,
      subtitle: `${c.hidden.length + 1}-layer net, SGD lr ${c.lr}, batch ${c.batchSize}; train = the ${n(c.trainSize)} images, test = ${n(c.testSize)} test images; ${provenance(result)}`,
    },
    data: { values: rows },
    facet: { field: 'panel', type: 'nominal', sort: order, title: null, header: { labelFontSize: 13 } },
    columns: 2,
    spec: { width: 300, height: 190, layer: layers },
    // Every panel keeps its own epoch axis (201 or 301 epochs) and its own y axis, so the panels line up.
    resolve: { scale: { x: 'independent' }, axis: { y: 'independent' } },
    spacing: { row: 16, column: 24 },
    config: { ...CONFIG, legend: { ...(CONFIG.legend as Json), orient: 'top' } },
  };
  return [{ name: result.study, caption: 'Train (circles) and test (squares) accuracy per epoch, one panel per variant.', spec: spec as unknown as TopLevelSpec }];
}
