/**
 * S17 figures: distinct units per hidden layer over the iterations, per init; the final test
 * accuracy of every init beside the one-unit-per-layer net; and the first hidden layer's
 * weights (units x a sample of input pixels) after training, constant init against random.
 * A --seeds N result is drawn from its first seed.
 */
import type { TopLevelSpec } from 'vega-lite';
import { CONFIG, SCHEMA_URL, provenance, sig, type Json } from '../../src/plot/common.js';
import type { Figure } from '../../src/plot/render.js';
import type { TypedResult } from '../../src/study.js';
import type { ArmKind, SymmetryConfig, SymmetrySeries, SymmetrySummary } from './study.js';

type Result = TypedResult<SymmetryConfig, SymmetrySeries, SymmetrySummary>;

const view = (spec: Json, name: string, caption: string): Figure => ({ name, caption, spec: spec as unknown as TopLevelSpec });

const KIND_ORDER: ArmKind[] = ['zero', 'constant', 'noise', 'dropout', 'random', 'one-unit'];
const COLOURS = ['#7f7f7f', '#d62728', '#ff7f0e', '#9467bd', '#2ca02c', '#1f77b4', '#8c564b', '#e377c2'];

/** The arm's name without its activation ("const 0.01 + noise"). */
const initName = (name: string): string => name.slice(name.indexOf(':') + 1);

function initDomain(result: Result): string[] {
  const arms = result.runs[0]!.series.arms;
  const names = [...new Set(Object.keys(arms).map(initName))];
  const kindOf = (n: string) => Object.entries(arms).find(([k]) => initName(k) === n)![1].kind;
  return names.sort((a, b) => KIND_ORDER.indexOf(kindOf(a)) - KIND_ORDER.indexOf(kindOf(b)));
}

function distinctFigure(result: Result): Figure {
  const arms = result.runs[0]!.series.arms;
  const rows: Json[] = [];
  for (const [name, a] of Object.entries(arms)) {
    if (a.kind === 'one-unit') continue; // one unit wide: nothing to count
    a.at.forEach((it, r) => {
      a.widths.forEach((_, l) => {
        rows.push({ init: initName(name), activation: a.activation, layer: `hidden layer ${l + 1}`, iteration: it, count: 'bit for bit', distinct: a.distinctExact[r]![l] });
        rows.push({ init: initName(name), activation: a.activation, layer: `hidden layer ${l + 1}`, iteration: it, count: 'within 1e-6', distinct: a.distinctClose[r]![l] });
      });
    });
  }
  const domain = initDomain(result).filter((n) => rows.some((r) => r.init === n));
  return view(
    {
      $schema: SCHEMA_URL,
      title: { text: 'S17 Distinct units per hidden layer', subtitle: `units whose incoming weights and bias are equal count once; ${provenance(result, 'first')}` },
      data: { values: rows },
      facet: { row: { field: 'layer', type: 'nominal', title: null }, column: { field: 'activation', type: 'nominal', title: null } },
      spec: {
        width: 300,
        height: 170,
        mark: { type: 'line', point: { size: 20 } },
        encoding: {
          x: { field: 'iteration', type: 'quantitative', title: 'iteration' },
          y: { field: 'distinct', type: 'quantitative', title: 'distinct units', scale: { type: 'log', domain: [0.8, 130] }, axis: { values: [1, 2, 5, 10, 20, 50, 100] } },
          color: { field: 'init', type: 'nominal', title: 'init', scale: { domain, range: COLOURS } },
          strokeDash: { field: 'count', type: 'nominal', title: 'equal when', scale: { domain: ['bit for bit', 'within 1e-6'], range: [[1, 0], [4, 3]] } },
        },
      },
      config: CONFIG,
    },
    'symmetry-distinct-units',
    'Distinct units per hidden layer over the iterations, per init (log scale; lines overlap where the two counts agree).',
  );
}

function accuracyFigure(result: Result): Figure {
  const s = result.runs[0]!.summary;
  const arms = result.runs[0]!.series.arms;
  const rows = Object.entries(s).map(([name, x]) => ({ init: initName(name), activation: arms[name]!.activation, accuracy: sig(x.testAccuracy, 4) }));
  const domain = initDomain(result);
  return view(
    {
      $schema: SCHEMA_URL,
      title: { text: 'S17 Test accuracy per init', subtitle: `after ${result.config.iterations} iterations of SGD ${result.config.lr}; ${provenance(result, 'first')}` },
      data: { values: rows },
      facet: { column: { field: 'activation', type: 'nominal', title: null } },
      spec: {
        width: 280,
        height: 220,
        layer: [
          {
            mark: { type: 'bar' },
            encoding: {
              x: { field: 'init', type: 'nominal', sort: domain, title: null, axis: { labelAngle: -35 } },
              y: { field: 'accuracy', type: 'quantitative', title: 'test accuracy', scale: { domain: [0, 1] } },
              color: { field: 'init', type: 'nominal', scale: { domain, range: COLOURS }, legend: null },
            },
          },
          {
            mark: { type: 'text', dy: -6, fontSize: 10 },
            encoding: { x: { field: 'init', type: 'nominal', sort: domain }, y: { field: 'accuracy', type: 'quantitative' }, text: { field: 'accuracy', type: 'quantitative', format: '.3f' } },
          },
        ],
      },
      config: CONFIG,
    },
    'symmetry-accuracy',
    'Final test accuracy per init; the one-unit-per-layer net is what a constant-init net amounts to.',
  );
}

function heatmapFigure(result: Result): Figure | null {
  const arms = result.runs[0]!.series.arms;
  const rows: Json[] = [];
  const nets: string[] = [];
  for (const [name, a] of Object.entries(arms)) {
    if (!a.heatmap) continue;
    nets.push(name);
    a.heatmap.forEach((unitRow, u) => unitRow.forEach((w, p) => rows.push({ net: name, unit: u, pixel: p, w })));
  }
  if (nets.length === 0) return null;
  return view(
    {
      $schema: SCHEMA_URL,
      title: {
        text: "S17 First hidden layer's weights after training",
        subtitle: `units (rows) x ${result.config.heatmapPixels.length} input pixels of the middle row and column (columns); each panel its own colour scale; ${provenance(result, 'first')}`,
      },
      data: { values: rows },
      facet: { column: { field: 'net', type: 'nominal', title: null, sort: nets } },
      resolve: { scale: { color: 'independent' } },
      spec: {
        width: 150,
        height: 220,
        // No per-cell aria labels: 2 x 100 x 56 cells each carrying one made the SVG over 5 MiB.
        mark: { type: 'rect', aria: false },
        encoding: {
          x: { field: 'pixel', type: 'ordinal', title: 'input pixel (sample)', axis: null },
          y: { field: 'unit', type: 'ordinal', title: 'hidden unit', axis: null },
          color: { field: 'w', type: 'quantitative', title: 'weight', scale: { scheme: 'redblue', reverse: true }, legend: { orient: 'bottom', gradientLength: 130 } },
        },
      },
      config: CONFIG,
    },
    'symmetry-weights',
    'First hidden layer after training: from a constant every unit (row) is the same; from random init they differ.',
  );
}

export function symmetryFigures(result: Result): Figure[] {
  return [distinctFigure(result), accuracyFigure(result), heatmapFigure(result)].filter((f): f is Figure => f !== null);
}
