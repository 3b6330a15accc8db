/**
 * Loss-curve figures, drawn as the lecture draws them: training loss per iteration, each curve
 * smoothed with the 11-point Kaiser window (beta 2), a marker every 100 iterations, a legend,
 * and the lecture's y-range (the study gives it); what goes above it is clipped.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { CurvePanel, TypedResult } from '../study.js';
import type { Divergence } from '../train/loop.js';
import { CONFIG, PALETTE, SCHEMA_URL, band, bandLayer, isMultiSeed, provenance, type Json } from './common.js';
import type { Figure } from './render.js';
import { smoothKaiser } from './smooth.js';

export interface LossFigureOptions {
  name: string;
  title: string;
  caption: string;
  yMax: number;
  /** Series key -> legend label, in legend order; keys not listed keep their name. */
  labels: Record<string, string>;
  /** A marker every this many iterations (default: 20 markers, the lecture's markevery=100 of 2000). */
  markEvery?: number;
}

/** What a loss figure needs of a study's series: a loss per iteration per curve, and where a curve diverged. */
export interface LossSeries {
  loss: Record<string, (number | null)[]>;
  divergedAt: Record<string, Divergence | null>;
}

type LossResult = TypedResult<unknown, LossSeries, unknown>;

function curveKeys(loss: LossSeries['loss'], labels: Record<string, string>): string[] {
  return [...Object.keys(labels).filter((k) => k in loss), ...Object.keys(loss).filter((k) => !(k in labels))];
}

/** The legend label; a curve that diverged says when (in how many seeds, with --seeds N). */
function curveLabel(result: LossResult, key: string, labels: Record<string, string>): string {
  const hits = result.runs.map((r) => r.series.divergedAt[key] ?? null).filter((d): d is Divergence => d !== null);
  const name = labels[key] ?? key;
  if (hits.length === 0) return name;
  const first = Math.min(...hits.map((d) => d.iteration));
  return `${name} (diverged at iteration ${first}${result.runs.length > 1 ? `, ${hits.length}/${result.runs.length} seeds` : ''})`;
}

/** One row per (curve, iteration): the smoothed loss, and its seed band with --seeds N. */
export function lossRows(result: LossResult, labels: Record<string, string>): Json[] {
  const first = result.runs[0]!.series.loss;
  const rows: Json[] = [];
  for (const key of curveKeys(first, labels)) {
    const curves = result.runs.map((r) => smoothKaiser(r.series.loss[key] ?? []));
    const curve = curveLabel(result, key, labels);
    for (const p of band(curves)) {
      const row: Json = { curve, iteration: p.x, loss: p.mean };
      if (curves.length > 1) Object.assign(row, { min: p.min, max: p.max });
      rows.push(row);
    }
  }
  return rows;
}

/** The loss curves as panels of lines (smoothed as drawn), for compare and CSV. */
export function lossCurves(series: LossSeries, labels: Record<string, string> = {}, yMax?: number): CurvePanel[] {
  return [{ panel: 'training loss', x: 'iteration', y: 'loss (smoothed)', yDomain: yMax === undefined ? undefined : [0, yMax], lines: curveKeys(series.loss, labels).map((k) => ({ name: labels[k] ?? k, y: smoothKaiser(series.loss[k]!) })) }];
}

/**
 * What a study that records loss curves shows: one loss figure and the same curves
 * for compare and CSV, with the lecture's y range and legend labels.
 */
export function lossStudyViews(o: Omit<LossFigureOptions, 'name'>) {
  return {
    figures: (result: LossResult) => [lossFigure(result, { ...o, name: result.study })],
    curves: (run: { series: LossSeries }) => lossCurves(run.series, o.labels, o.yMax),
  };
}

export function lossFigure(result: LossResult, o: LossFigureOptions): Figure {
  const rows = lossRows(result, o.labels);
  // Every curve keeps its legend entry, also one that diverged at once and has nothing to draw.
  const first = result.runs[0]!.series.loss;
  const order = curveKeys(first, o.labels).map((k) => curveLabel(result, k, o.labels));
  const iterations = Math.max(...rows.map((r) => r.iteration as number)) + 1;
  // The lecture marks every 100th of its 2000 iterations: 20 markers per curve at any length.
  const every = o.markEvery ?? Math.max(1, Math.round(iterations / 20));
  const x = { field: 'iteration', type: 'quantitative', title: 'iterations', scale: { domain: [0, iterations], nice: false } };
  const y = { field: 'loss', type: 'quantitative', title: 'loss (smoothed)', scale: { domain: [0, o.yMax], nice: false } };
  const color = { field: 'curve', type: 'nominal', title: null, sort: order, scale: { domain: order, range: order.map((_, i) => PALETTE[i % PALETTE.length]!) } };
  const layers: Json[] = [{ mark: { type: 'line', clip: true, strokeWidth: 1.5 }, encoding: { x, y, color } }];
  layers.push({
    // Markers above the frame are dropped, not clipped: resvg panics on a clipped symbol placed
    // thousands of pixels outside the view (seen with a loss of 25 on a 0..1 axis).
    transform: [{ filter: `datum.iteration % ${every} === 0 && datum.loss !== null && datum.loss <= ${o.yMax}` }],
    mark: { type: 'point', clip: true, filled: false, size: 40, strokeWidth: 1.4 },
    encoding: { x, y, color, shape: { field: 'curve', type: 'nominal', title: null, sort: order, scale: { domain: order } } },
  });
  if (isMultiSeed(result)) layers.push(bandLayer(x, { ...y, field: 'min' }, color, { clip: true }));
  const spec = {
    $schema: SCHEMA_URL,
    title: { text: o.title, subtitle: `smoothed: 11-point Kaiser window (beta 2); ${provenance(result)}` },
    width: 560,
    height: 340,
    data: { values: rows },
    layer: layers,
    config: CONFIG,
  };
  return { name: o.name, caption: o.caption, spec: spec as unknown as TopLevelSpec };
}
