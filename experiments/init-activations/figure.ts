/**
 * S3 figure: the activation histograms (30 bins) as a grid, one row per (activation, init)
 * and one column per layer, as docs/STUDIES.md describes (the lecture draws one such row per figure).
 * Each panel has its own count axis, as the lecture's separate subplots do. ReLU's exact zeros
 * (about half the units) are left out of the first bin, as the lecture's fixed y-limit cuts
 * that bar off: otherwise one bar would flatten the rest of the distribution; the share left
 * out is written in the row's label.
 */
import type { TopLevelSpec } from 'vega-lite';
import { CONFIG, SCHEMA_URL, provenance, sig, type Json } from '../../src/plot/common.js';
import type { Figure } from '../../src/plot/render.js';
import type { TypedResult } from '../../src/study.js';
import type { InitActivationsConfig, InitActivationsSeries, Row } from './study.js';

/** Axis labels: 0 as "0", thousands and up with an SI suffix (40k, 100k), the rest as they are. */
const SHORT_NUMBER = "datum.value === 0 ? '0' : abs(datum.value) >= 1000 ? format(datum.value, '~s') : format(datum.value, '~g')";

const INIT_LABEL: Record<string, string> = { xavier: 'Xavier', he: 'He' };

/** A row's header lines: "relu · He", then its range and, for ReLU, the share of exact zeros left out. */
export function rowLabel(row: Row<unknown>): string[] {
  const name = `${row.activation} · ${INIT_LABEL[row.init] ?? row.init}`;
  const range = `range ${fmt(row.range[0])}..${fmt(row.range[1])}`;
  const total = row.histograms.reduce((a, h) => a + h.counts.reduce((x, y) => x + y, 0), 0);
  const zeros = row.histograms.reduce((a, h) => a + h.zeros, 0);
  return row.activation === 'relu' && zeros > 0 ? [name, range, `zeros left out: ${Math.round((100 * zeros) / total)}%`] : [name, range];
}

const fmt = (v: number): string => (Math.abs(v) >= 1000 ? v.toExponential(2) : String(Number(v.toPrecision(3))));

export function histogramRows(rows: Row<unknown>[]): Json[] {
  const out: Json[] = [];
  rows.forEach((row, r) => {
    const relu = row.activation === 'relu';
    row.histograms.forEach((h, layer) => {
      h.counts.forEach((count, b) => {
        // The zeros all fall in bin 0 (ranges start at 0 for ReLU).
        const c = relu && b === 0 ? count - h.zeros : count;
        out.push({ row: r, layer: `layer ${layer + 1}`, lo: sig(h.edges[b]!, 5), hi: sig(h.edges[b + 1]!, 5), count: c });
      });
    });
  });
  return out;
}

export function histogramFigures(result: TypedResult<InitActivationsConfig, InitActivationsSeries, unknown>): Figure[] {
  // With --seeds N the ReLU ranges differ per seed (they follow each seed's largest value), so
  // bins cannot be averaged: the first seed is drawn and the subtitle says so.
  const rows = result.runs[0]!.series.rows;
  const values = histogramRows(rows);
  const c = result.config;
  const spec = {
    $schema: SCHEMA_URL,
    title: {
      text: 'S3 Activations per layer by weight init and activation (30-bin histograms)',
      subtitle: `${c.samples} x ${c.width} N(0,1) inputs through ${c.layers} layers of ${c.width} units (no bias); ranges: sigmoid 0..1, tanh -1..1, ReLU 0..row max; ${provenance(result, 'first')}`,
    },
    data: { values },
    facet: {
      row: {
        field: 'row',
        type: 'ordinal',
        title: null,
        header: { labelExpr: `datum.value >= 0 ? ${JSON.stringify(rows.map(rowLabel))}[datum.value] : ''`, labelAngle: 0, labelAlign: 'left', labelFontSize: 11, labelPadding: 6 },
      },
      column: { field: 'layer', type: 'ordinal', title: null, header: { labelFontSize: 12, labelFontWeight: 'bold' } },
    },
    spec: {
      width: 150,
      height: 62,
      mark: { type: 'rect', color: '#4c78a8', stroke: '#4c78a8', strokeWidth: 0.3 },
      encoding: {
        x: { field: 'lo', type: 'quantitative', title: null, scale: { nice: false, zero: false }, axis: { tickCount: 3, labelFontSize: 9, labelExpr: SHORT_NUMBER, labelFlush: true, grid: false } },
        x2: { field: 'hi' },
        y: { field: 'count', type: 'quantitative', title: null, axis: { tickCount: 2, labelFontSize: 9, labelExpr: SHORT_NUMBER, grid: false } },
      },
    },
    resolve: { scale: { x: 'independent', y: 'independent' } },
    spacing: { row: 14, column: 14 },
    config: CONFIG,
  };
  return [
    {
      name: result.study,
      caption: 'Histograms of each layer\'s activations: one row per (activation, init), one column per layer; ReLU rows leave out the exact zeros.',
      spec: spec as unknown as TopLevelSpec,
    },
  ];
}
