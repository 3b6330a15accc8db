/**
 * S19 figures: test accuracy against the number of masks averaged (log x), the scaled and the
 * unscaled full net as horizontal lines, one panel per net; and the larger net's train and test
 * accuracy per epoch, one panel per variant (drawn as S6 draws its curves). A --seeds N result
 * is drawn from its first seed.
 */
import type { TopLevelSpec } from 'vega-lite';
import { CONFIG, SCHEMA_URL, provenance, sig, type Json } from '../../src/plot/common.js';
import type { Figure } from '../../src/plot/render.js';
import type { TypedResult } from '../../src/study.js';
import { LARGER_TITLE, LARGER_VARIANTS, MC_NETS, MC_NET_TITLE, type DropoutEnsembleConfig, type DropoutEnsembleSeries, type DropoutEnsembleSummary } from './study.js';

type Result = TypedResult<DropoutEnsembleConfig, DropoutEnsembleSeries, DropoutEnsembleSummary>;

const view = (spec: Json, name: string, caption: string): Figure => ({ name, caption, spec: spec as unknown as TopLevelSpec });

const LINES = ['Monte-Carlo average of K masks', 'scaled full net (× (1 − r))', 'unscaled full net'];
const COLOURS = ['#1f77b4', '#2ca02c', '#d62728'];

function panelOf(result: Result, name: (typeof MC_NETS)[number]): string {
  const spec = result.config.mc.nets[name];
  return `${MC_NET_TITLE[name]} (${spec.hidden.length + 1} layers, ${spec.trainSize.toLocaleString('en-US')} images, dropout ${spec.dropout})`;
}

function accuracyVsK(result: Result): Figure {
  const s = result.runs[0]!.series;
  const rows: Json[] = [];
  const order: string[] = [];
  for (const name of MC_NETS) {
    const m = s.mc[name];
    if (!m) continue;
    const panel = panelOf(result, name);
    order.push(panel);
    m.ks.forEach((k, i) => {
      rows.push({ panel, line: LINES[0], K: k, accuracy: sig(m.mc[i]!.accuracy, 5) });
      rows.push({ panel, line: LINES[1], K: k, accuracy: sig(m.scaled.accuracy, 5) });
      rows.push({ panel, line: LINES[2], K: k, accuracy: sig(m.unscaled.accuracy, 5) });
    });
  }
  const x = { field: 'K', type: 'quantitative', title: 'masks averaged (K, log scale)', scale: { type: 'log' }, axis: { values: result.config.mc.ks } };
  const y = { field: 'accuracy', type: 'quantitative', title: 'test accuracy', scale: { zero: false } };
  const color = { field: 'line', type: 'nominal', title: null, scale: { domain: LINES, range: COLOURS } };
  const dash = { field: 'line', type: 'nominal', title: null, scale: { domain: LINES, range: [[1, 0], [6, 3], [2, 2]] } };
  return view(
    {
      $schema: SCHEMA_URL,
      title: {
        text: 'S19 Dropout at test time: Monte-Carlo averages against the full net',
        subtitle: `test accuracy on ${result.config.mc.testSize.toLocaleString('en-US')} test images; the first K of one sequence of random masks; ${provenance(result, 'first')}`,
      },
      data: { values: rows },
      facet: { field: 'panel', type: 'nominal', sort: order, title: null, header: { labelFontSize: 12 } },
      columns: 2,
      spec: {
        width: 300,
        height: 220,
        layer: [
          { mark: { type: 'line', strokeWidth: 1.6 }, encoding: { x, y, color, strokeDash: dash } },
          { transform: [{ filter: `datum.line === '${LINES[0]}'` }], mark: { type: 'point', filled: true, size: 30 }, encoding: { x, y, color } },
        ],
      },
      // Each net keeps its own accuracy range: the two nets sit far apart.
      resolve: { scale: { y: 'independent' } },
      config: { ...CONFIG, legend: { ...(CONFIG.legend as Json), orient: 'top' } },
    },
    'dropout-ensemble-mc',
    'Test accuracy against the number K of random masks averaged (log scale), with the scaled and the unscaled full net as horizontal lines, one panel per net.',
  );
}

function largerCurves(result: Result): Figure {
  const s = result.runs[0]!.series;
  const c = result.config.larger;
  const rows: Json[] = [];
  const order: string[] = [];
  for (const v of LARGER_VARIANTS) {
    const r = s.larger[v];
    if (!r) continue;
    const detail = v === 'weight-decay' ? ` λ = ${c.weightDecay}` : v === 'dropout' ? ` ${c.dropout}` : v === 'both' ? ` (λ = ${c.weightDecay}, ${c.dropout})` : '';
    const panel = `${LARGER_TITLE[v]}${detail}`;
    order.push(panel);
    for (const set of ['train', 'test'] as const) r[set].forEach((a, epoch) => rows.push({ panel, set, epoch, accuracy: a }));
  }
  const x = { field: 'epoch', type: 'quantitative', title: 'epochs', scale: { nice: false }, axis: { tickCount: 5 } };
  const y = { field: 'accuracy', type: 'quantitative', title: 'accuracy', scale: { domain: [0, 1] } };
  const sets = ['train', 'test'];
  const color = { field: 'set', type: 'nominal', title: null, scale: { domain: sets, range: ['#1f77b4', '#ff7f0e'] } };
  const shape = { field: 'set', type: 'nominal', title: null, scale: { domain: sets, range: ['circle', 'square'] } };
  return view(
    {
      $schema: SCHEMA_URL,
      title: {
        text: `S19 A larger net on ${c.trainSize} images: weight decay and dropout`,
        subtitle: `${c.hidden.length + 1} layers of ${c.hidden[0]} units, SGD lr ${c.lr}, batch ${c.batchSize}; test = ${c.testSize.toLocaleString('en-US')} test images; ${provenance(result, 'first')}`,
      },
      data: { values: rows },
      facet: { field: 'panel', type: 'nominal', sort: order, title: null, header: { labelFontSize: 13 } },
      columns: 2,
      spec: {
        width: 300,
        height: 190,
        layer: [
          { mark: { type: 'line', strokeWidth: 1.4 }, encoding: { x, y, color } },
          { transform: [{ filter: 'datum.epoch % 10 === 0' }], mark: { type: 'point', size: 22, filled: true }, encoding: { x, y, color, shape } },
        ],
      },
      spacing: { row: 16, column: 24 },
      config: { ...CONFIG, legend: { ...(CONFIG.legend as Json), orient: 'top' } },
    },
    'dropout-ensemble-larger',
    'The larger net: train (circles) and test (squares) accuracy per epoch, one panel per variant.',
  );
}

export function dropoutEnsembleFigures(result: Result): Figure[] {
  return [accuracyVsK(result), largerCurves(result)];
}
