/**
 * S6 figure, drawn as the lecture draws it: train and test accuracy per epoch (train with
 * circles, test with squares, a marker every 10 epochs), y from 0 to 1, one panel per variant.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { StudyResult } from '../results/schema.js';
import { CONFIG, SCHEMA_URL, band, bandLayer, isMultiSeed, provenance, type Json } from './common.js';
import type { Figure } from './render.js';

type Accuracy = Record<string, { train: (number | null)[]; test: (number | null)[] }>;

/** Panel titles, in the lecture's order; a variant not listed keeps its key. */
export const VARIANT_TITLE: Record<string, string> = {
  plain: 'plain',
  'weight-decay': 'weight decay',
  dropout: 'dropout',
  'dropout-control': 'dropout control (no dropout)',
};

function panelTitle(key: string, config: Record<string, unknown>, epochs: number): string {
  const spec = (config.specs as Record<string, { weightDecay?: number; dropout?: number }> | undefined)?.[key];
  const detail = key === 'weight-decay' && spec?.weightDecay ? ` λ = ${spec.weightDecay}` : key === 'dropout' && spec?.dropout ? ` ratio ${spec.dropout}` : '';
  return `${VARIANT_TITLE[key] ?? key}${detail}, ${epochs} epochs`;
}

export function overfitRows(result: StudyResult): Json[] {
  const first = result.runs[0]!.series.accuracy as Accuracy | undefined;
  if (!first || typeof first !== 'object') throw new Error(`${result.study}: no 'accuracy' series`);
  const keys = [...Object.keys(VARIANT_TITLE).filter((k) => k in first), ...Object.keys(first).filter((k) => !(k in VARIANT_TITLE))];
  const rows: Json[] = [];
  for (const key of keys) {
    for (const set of ['train', 'test'] as const) {
      const curves = result.runs.map((r) => (r.series.accuracy as Accuracy)[key]?.[set] ?? []);
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

export function s6Figures(result: StudyResult): Figure[] {
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
  const c = result.config as { trainSize?: number; testSize?: number; hidden?: number[]; lr?: number; batchSize?: number };
  const n = (v: number | undefined) => (v === undefined ? '?' : v.toLocaleString('en-US'));
  const spec = {
    $schema: SCHEMA_URL,
    title: {
      text: `S6 Overfitting ${n(c.trainSize)} training images: train and test accuracy`,
      subtitle: `${c.hidden ? `${c.hidden.length + 1}-layer net, ` : ''}SGD lr ${c.lr ?? '?'}, batch ${c.batchSize ?? '?'}; train = the ${n(c.trainSize)} images, test = ${n(c.testSize)} test images; ${provenance(result)}`,
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
