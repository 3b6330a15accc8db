/**
 * S9 figures: the initial loss against lambda; the tiny set's loss and accuracy; the eight
 * loss curves (log y) coloured by regime; the update ratio per layer against the iteration. A
 * --seeds N result is drawn from its first seed (regimes are per run).
 */
import type { TopLevelSpec } from 'vega-lite';
import { CHANCE_LOSS } from '../../src/claims.js';
import { CONFIG, SCHEMA_URL, provenance, sig, type Json } from '../../src/plot/common.js';
import type { Figure } from '../../src/plot/render.js';
import { smoothKaiser } from '../../src/plot/smooth.js';
import type { TypedResult } from '../../src/study.js';
import { EXPLODE_LOSS } from './rates.js';
import { lrLabel, summarizeRate, type Regime, type SanityChecksConfig, type SanityChecksSeries } from './study.js';

type Result = TypedResult<SanityChecksConfig, SanityChecksSeries, unknown>;

/** A hue family per regime; rates within it from light (lowest lr) to dark. */
const SHADES: Record<Regime, string[]> = {
  'too low': ['#9ecae1', '#6baed6', '#4292c6', '#2171b5', '#08519c', '#08306b'],
  good: ['#74c476', '#41ab5d', '#238b45', '#006d2c', '#00441b'],
  'too high': ['#fc9272', '#ef3b2c', '#cb181d', '#a50f15', '#67000d'],
};

const initText = (init: SanityChecksConfig['initialLoss']['init']) => (typeof init === 'string' ? init : `std ${init.std}`);

const view = (spec: Json, name: string, caption: string): Figure => ({ name, caption, spec: spec as unknown as TopLevelSpec });

/** Each rate's legend label ("lr=0.01 (good)") and colour, in lr order. */
function rateColors(result: Result): { key: Map<number, string>; domain: string[]; range: string[] } {
  const s = result.runs[0]!.series;
  const tail = result.config.rates.tail;
  const rates = [...s.rates].sort((a, b) => a.lr - b.lr);
  const used: Record<Regime, number> = { 'too low': 0, good: 0, 'too high': 0 };
  const key = new Map<number, string>();
  const domain: string[] = [];
  const range: string[] = [];
  for (const r of rates) {
    const sum = summarizeRate(r, tail);
    const label = `${lrLabel(r.lr)} (${sum.regime}${sum.divergedAt !== null ? `, diverged at ${sum.divergedAt}` : ''})`;
    key.set(r.lr, label);
    domain.push(label);
    const shades = SHADES[sum.regime];
    range.push(shades[Math.min(used[sum.regime]++, shades.length - 1)]!);
  }
  return { key, domain, range };
}

function initialLossFigure(result: Result): Figure {
  const rows = result.runs[0]!.series.initialLoss.flatMap((r) => [
    { lambda: String(r.lambda), what: 'measured', loss: sig(r.loss, 6) },
    { lambda: String(r.lambda), what: 'ln 10 + 0.5 λ ΣW² (expected)', loss: sig(CHANCE_LOSS + r.penalty, 6) },
  ]);
  const order = result.runs[0]!.series.initialLoss.map((r) => String(r.lambda));
  const c = result.config.initialLoss;
  const x = { field: 'lambda', type: 'ordinal', sort: order, title: 'regularization strength λ', axis: { labelAngle: 0 } };
  const y = { field: 'loss', type: 'quantitative', title: 'initial loss', scale: { zero: false } };
  const color = { field: 'what', type: 'nominal', title: null, scale: { domain: ['measured', 'ln 10 + 0.5 λ ΣW² (expected)'], range: ['#1f77b4', '#999999'] } };
  return view(
    {
      $schema: SCHEMA_URL,
      title: { text: 'S9 (a) Initial loss of the untrained 5-layer net vs λ', subtitle: [`init ${initText(c.init)}; mean over the first ${c.images.toLocaleString('en-US')} training images; dashed: ln 10`, provenance(result, 'first')] },
      width: 420,
      height: 260,
      layer: [
        // The expectation first, dashed and hollow, so the measured points stay visible on top of it.
        { data: { values: rows }, transform: [{ filter: "datum.what !== 'measured'" }], mark: { type: 'line', point: { size: 90, filled: false }, strokeWidth: 1.2, strokeDash: [4, 3] }, encoding: { x, y, color } },
        { data: { values: rows }, transform: [{ filter: "datum.what === 'measured'" }], mark: { type: 'line', point: { size: 30, filled: true }, strokeWidth: 1.5 }, encoding: { x, y, color } },
        { data: { values: [{ ln10: CHANCE_LOSS }] }, mark: { type: 'rule', strokeDash: [6, 4], color: '#555' }, encoding: { y: { field: 'ln10', type: 'quantitative' } } },
      ],
      config: { ...CONFIG, legend: { ...(CONFIG.legend as Json), orient: 'top' } },
    },
    `${result.study}-initial-loss`,
    'Initial loss of the std=0.01 net for each regularization strength, beside ln 10 plus the penalty it should add.',
  );
}

function tinySetFigure(result: Result): Figure {
  const t = result.runs[0]!.series.tinySet;
  const c = result.config.tinySet;
  const rows = t.loss.map((loss, i) => ({ update: i + 1, loss, accuracy: t.accuracy[i] }));
  const x = { field: 'update', type: 'quantitative', title: 'update (full batch)', scale: { nice: false } };
  const fitted = t.fittedAt === null ? `not fitted within ${c.budget} updates` : `fitted after ${t.fittedAt + 1} updates`;
  return view(
    {
      $schema: SCHEMA_URL,
      title: { text: `S9 (b) Overfitting ${c.images} training images`, subtitle: [`5-layer ReLU/He net, SGD lr ${c.lr}, no regularization; stops at accuracy 1.0 and loss < 0.01: ${fitted}`, provenance(result, 'first')] },
      data: { values: rows },
      hconcat: [
        { width: 300, height: 220, mark: { type: 'line', color: '#1f77b4' }, encoding: { x, y: { field: 'loss', type: 'quantitative', title: 'loss on the 20 images (log)', scale: { type: 'log' } } } },
        { width: 300, height: 220, mark: { type: 'line', color: '#2ca02c', interpolate: 'step-after' }, encoding: { x, y: { field: 'accuracy', type: 'quantitative', title: 'training accuracy', scale: { domain: [0, 1] } } } },
      ],
      config: CONFIG,
    },
    `${result.study}-tiny-set`,
    'Loss (log scale) and accuracy on the 20 training images per update, until they are fitted.',
  );
}

function lossCurvesFigure(result: Result): Figure {
  const s = result.runs[0]!.series;
  const { key, domain, range } = rateColors(result);
  const rows: Json[] = [];
  for (const r of s.rates) {
    const smooth = smoothKaiser(r.loss);
    smooth.forEach((v, i) => rows.push({ rate: key.get(r.lr), iteration: i + 1, loss: sig(v, 4) }));
  }
  const ends = s.rates.filter((r) => r.diverged).map((r) => ({ rate: key.get(r.lr), iteration: r.diverged!.iteration + 1, loss: sig(EXPLODE_LOSS, 3) }));
  const c = result.config.rates;
  const x = { field: 'iteration', type: 'quantitative', title: 'iterations', scale: { domain: [0, c.iterations], nice: false } };
  const y = { field: 'loss', type: 'quantitative', title: 'training loss on the batch (smoothed, log)', scale: { type: 'log', domain: [0.01, 30], nice: false } };
  const color = { field: 'rate', type: 'nominal', title: 'SGD learning rate (regime)', sort: domain, scale: { domain, range } };
  return view(
    {
      $schema: SCHEMA_URL,
      title: {
        text: 'S9 (c) Loss curves of SGD at eight learning rates, coloured by regime',
        subtitle: [`5-layer ReLU/He net, ${c.trainSize.toLocaleString('en-US')} images, batch ${c.batchSize}, same initial weights and batches; blue too low, green good, red too high; × where a run diverged (drawn at the top)`, `smoothed: 11-point Kaiser window (beta 2); ${provenance(result, 'first')}`],
      },
      width: 560,
      height: 340,
      layer: [
        { data: { values: rows }, mark: { type: 'line', clip: true, strokeWidth: 1.5 }, encoding: { x, y, color } },
        { data: { values: ends }, mark: { type: 'point', shape: 'cross', size: 120, filled: true }, encoding: { x, y, color } },
      ],
      config: { ...CONFIG, legend: { ...(CONFIG.legend as Json), orient: 'right' } },
    },
    result.study,
    'Training loss per iteration (smoothed, log scale) for SGD at eight learning rates, coloured by the regime our rules assign.',
  );
}

function ratioFigure(result: Result): Figure {
  const s = result.runs[0]!.series;
  const { key, domain, range } = rateColors(result);
  const rows: Json[] = [];
  for (const r of s.rates) {
    r.ratio.forEach((layer, l) => layer.forEach((v, j) => v !== null && Number.isFinite(v) && v > 0 && rows.push({ layer: `layer ${l + 1} (W${l + 1})`, rate: key.get(r.lr), iteration: r.ratioIterations[j], ratio: sig(v, 3) })));
  }
  const layers = [...new Set(rows.map((r) => r.layer as string))];
  const c = result.config.rates;
  const x = { field: 'iteration', type: 'quantitative', title: 'iterations', scale: { domain: [0, c.iterations], nice: false } };
  // Grid lines at the decades only (a log axis's minor ticks turn into grey bands at this height).
  const y = { field: 'ratio', type: 'quantitative', title: '||lr dW|| / ||W||', scale: { type: 'log' }, axis: { values: [1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10], format: '.0e' } };
  const color = { field: 'rate', type: 'nominal', title: 'SGD learning rate (regime)', sort: domain, scale: { domain, range } };
  return view(
    {
      $schema: SCHEMA_URL,
      title: { text: 'S9 (c) Update ratio ||lr dW|| / ||W|| per layer', subtitle: [`every ${c.ratioEvery}th iteration, W before the update; shaded: 1e-4..1e-2, the band around the notes' 1e-3`, provenance(result, 'first')] },
      data: { values: rows },
      facet: { field: 'layer', type: 'nominal', sort: layers, title: null, header: { labelFontSize: 12 } },
      columns: 3,
      spec: {
        width: 250,
        height: 180,
        layer: [
          { data: { values: [{ lo: 1e-4, hi: 1e-2 }] }, mark: { type: 'rect', color: '#e8f5e9' }, encoding: { y: { field: 'lo', type: 'quantitative', scale: y.scale }, y2: { field: 'hi' } } },
          { mark: { type: 'line', strokeWidth: 1.2 }, encoding: { x, y, color } },
          // A run that diverged early has a point or two: marked, since a line needs two.
          { transform: [{ filter: "indexof(datum.rate, 'diverged') >= 0" }], mark: { type: 'point', filled: true, size: 18 }, encoding: { x, y, color } },
        ],
      },
      config: { ...CONFIG, legend: { ...(CONFIG.legend as Json), orient: 'right' } },
    },
    `${result.study}-update-ratio`,
    'Update ratio per layer over the iterations for each learning rate, with the band 1e-4..1e-2 around the notes\' 1e-3.',
  );
}

export function sanityChecksFigures(result: Result): Figure[] {
  return [lossCurvesFigure(result), ratioFigure(result), initialLossFigure(result), tinySetFigure(result)];
}
