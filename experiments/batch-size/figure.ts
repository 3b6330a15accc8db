/**
 * S16 figures: the 2-D descent paths over the loss's contours; the per-update loss of each
 * batch size (raw, thin, with its smoothed trend) against examples seen; the wiggle against the
 * batch size on log-log axes with the 1/sqrt(B) line of sampling noise; the full training-set
 * loss against examples seen. A --seeds N result is drawn from its first seed.
 */
import type { TopLevelSpec } from 'vega-lite';
import { CONFIG, SCHEMA_URL, provenance, sig, type Json } from '../../src/plot/common.js';
import type { Figure } from '../../src/plot/render.js';
import { smoothKaiser } from '../../src/plot/smooth.js';
import type { TypedResult } from '../../src/study.js';
import { wiggle, type BatchSizeConfig, type BatchSizeSeries, type BatchSizeSummary } from './study.js';

type Result = TypedResult<BatchSizeConfig, BatchSizeSeries, BatchSizeSummary>;

const view = (spec: Json, name: string, caption: string): Figure => ({ name, caption, spec: spec as unknown as TopLevelSpec });

/** Contour levels above the minimum loss. */
const LEVELS = [0.05, 0.25, 0.75, 1.5, 3, 5];
/** At most this many raw points per curve in a figure (every k-th update beyond it). */
const MAX_POINTS = 1500;

/** Exact ellipses of the quadratic loss: w* + sqrt(2c / lambda_k) along each eigenvector of H. */
function contourRows(h: [number, number, number], wStar: [number, number], points = 90): Json[] {
  const [a, b, c] = h;
  const tr = a + c;
  const disc = Math.sqrt(((a - c) / 2) ** 2 + b * b);
  const l1 = tr / 2 + disc;
  const l2 = tr / 2 - disc;
  const angle = 0.5 * Math.atan2(2 * b, a - c);
  const v1 = [Math.cos(angle), Math.sin(angle)];
  const v2 = [-Math.sin(angle), Math.cos(angle)];
  const rows: Json[] = [];
  for (const lev of LEVELS) {
    const r1 = Math.sqrt((2 * lev) / l1);
    const r2 = Math.sqrt((2 * lev) / l2);
    for (let k = 0; k <= points; k++) {
      const t = (2 * Math.PI * k) / points;
      rows.push({ level: lev, k, w1: sig(wStar[0] + r1 * Math.cos(t) * v1[0]! + r2 * Math.sin(t) * v2[0]!), w2: sig(wStar[1] + r1 * Math.cos(t) * v1[1]! + r2 * Math.sin(t) * v2[1]!) });
    }
  }
  return rows;
}

function pathsFigure(result: Result): Figure {
  const s = result.runs[0]!.series.paths;
  const p = result.config.paths;
  const name = (b: number) => (b >= p.n ? `full batch (${p.n})` : `batch ${b}`);
  const scale = (field: string, domain: [number, number]) => ({ field, type: 'quantitative', scale: { domain, nice: false }, title: field === 'w1' ? 'w₁' : 'w₂' });
  const all1 = [p.start[0], s.wStar[0]];
  const all2 = [p.start[1], s.wStar[1]];
  const pad = (xs: number[], by: number): [number, number] => [Math.min(...xs) - by, Math.max(...xs) + by];
  const d1 = pad(all1, 1);
  const d2 = pad(all2, 1.5);
  const panels = s.runs.map((r) => ({
    title: { text: `${name(r.batchSize)}, lr ${p.lr}`, fontSize: 13 },
    width: 230,
    height: 230,
    layer: [
      {
        data: { name: 'contours' },
        mark: { type: 'line', clip: true, strokeWidth: 1 },
        encoding: { x: scale('w1', d1), y: scale('w2', d2), order: { field: 'k', type: 'quantitative' }, detail: { field: 'level', type: 'nominal' }, color: { field: 'level', type: 'quantitative', scale: { scheme: 'viridis', type: 'log' }, legend: null } },
      },
      {
        data: { values: r.w1.map((w, i) => ({ u: i, w1: sig(w, 5), w2: sig(r.w2[i]!, 5) })) },
        mark: { type: 'line', clip: true, color: 'red', strokeWidth: 0.8, point: { color: 'red', size: 6, filled: true } },
        encoding: { x: scale('w1', d1), y: scale('w2', d2), order: { field: 'u', type: 'quantitative' } },
      },
      { data: { values: [{ w1: s.wStar[0], w2: s.wStar[1] }] }, mark: { type: 'point', shape: 'cross', size: 110, filled: true, color: '#1f77b4', opacity: 1 }, encoding: { x: scale('w1', d1), y: scale('w2', d2) } },
    ],
  }));
  return view(
    {
      $schema: SCHEMA_URL,
      title: { text: 'S16 Descent paths on a least-squares loss with elongated contours', subtitle: `${p.updates} updates from (${p.start.join(', ')}), one rate; contours at ${LEVELS.join(', ')} above the minimum (+); ${provenance(result, 'first')}` },
      datasets: { contours: contourRows(s.h, s.wStar) },
      concat: panels,
      columns: panels.length,
      spacing: 20,
      config: CONFIG,
    },
    'batch-size-paths',
    'Full batch moves straight down the valley; one example per update jitters around it; both reach the minimum.',
  );
}

function perUpdateFigure(result: Result): Figure {
  const m = result.runs[0]!.series.mnist;
  const rows: Json[] = [];
  for (const a of Object.values(m)) {
    if (a.arm !== 'same') continue;
    const every = Math.max(1, Math.ceil(a.loss.length / MAX_POINTS));
    const window = Math.max(3, 2 * Math.floor(a.loss.length / 40) + 1);
    const trend = smoothKaiser(a.loss, { window, beta: 2 });
    a.loss.forEach((l, i) => {
      if (i % every !== 0 && i !== a.loss.length - 1) return;
      rows.push({ batch: `batch ${a.batchSize}`, seen: (i + 1) * a.batchSize, loss: sig(l, 4), trend: sig(trend[i], 4) });
    });
  }
  const order = Object.values(m).filter((a) => a.arm === 'same').map((a) => `batch ${a.batchSize}`);
  return view(
    {
      $schema: SCHEMA_URL,
      title: { text: 'S16 Training loss per update, one rate, per batch size', subtitle: `each update's loss on its own batch (thin; at most ${MAX_POINTS} points drawn per curve) and its smoothed trend (thick); ${provenance(result, 'first')}` },
      data: { values: rows },
      facet: { column: { field: 'batch', type: 'nominal', sort: order, title: null } },
      spec: {
        width: 200,
        height: 220,
        layer: [
          { mark: { type: 'line', strokeWidth: 0.5, opacity: 0.6, color: '#1f77b4' }, encoding: { x: { field: 'seen', type: 'quantitative', title: 'examples seen' }, y: { field: 'loss', type: 'quantitative', title: 'loss', scale: { domain: [0, 2.5], clamp: true } } } },
          { mark: { type: 'line', strokeWidth: 2, color: '#d62728' }, encoding: { x: { field: 'seen', type: 'quantitative' }, y: { field: 'trend', type: 'quantitative' } } },
        ],
      },
      config: CONFIG,
    },
    'batch-size-loss',
    'The loss wiggles less as the batch grows; the trend of the small batches is lower at the same examples seen.',
  );
}

function wiggleFigure(result: Result): Figure {
  const m = result.runs[0]!.series.mnist;
  const rows: Json[] = [];
  for (const a of Object.values(m)) {
    const w = wiggle(a.loss);
    if (w !== null) rows.push({ arm: a.arm === 'same' ? `one rate (${result.config.mnist.lr})` : `rate × B/${result.config.mnist.referenceBatch}`, batch: a.batchSize, wiggle: sig(w, 4) });
  }
  const sameRows = rows.filter((r) => String(r.arm).startsWith('one rate'));
  const smallest = sameRows.reduce<Json | null>((a, r) => (a === null || (r.batch as number) < (a.batch as number) ? r : a), null);
  const line = smallest ? result.config.mnist.batchSizes.map((b) => ({ batch: b, wiggle: sig((smallest.wiggle as number) * Math.sqrt((smallest.batch as number) / b), 4) })) : [];
  const x = { field: 'batch', type: 'quantitative', title: 'batch size', scale: { type: 'log', base: 2 }, axis: { values: result.config.mnist.batchSizes } };
  const y = { field: 'wiggle', type: 'quantitative', title: 'wiggle (std around the trend, last third)', scale: { type: 'log' } };
  return view(
    {
      $schema: SCHEMA_URL,
      title: { text: 'S16 Wiggle of the per-update loss against the batch size', subtitle: `log-log; dashed: 1/√B through the smallest batch (sampling noise); ${provenance(result, 'first')}` },
      width: 380,
      height: 260,
      layer: [
        { data: { values: line }, mark: { type: 'line', strokeDash: [5, 4], color: '#777' }, encoding: { x, y } },
        { data: { values: rows }, mark: { type: 'line', point: true }, encoding: { x, y, color: { field: 'arm', type: 'nominal', title: null } } },
      ],
      config: CONFIG,
    },
    'batch-size-wiggle',
    'The wiggle falls with the batch size, close to the 1/√B of sampling noise.',
  );
}

function fullLossFigure(result: Result): Figure {
  const m = result.runs[0]!.series.mnist;
  const rows = Object.values(m).flatMap((a) => a.fullAt.map((seen, i) => ({ batch: `batch ${a.batchSize}`, arm: a.arm === 'same' ? 'one rate' : 'rate × B/128', seen, loss: sig(a.fullLoss[i], 5) })));
  return view(
    {
      $schema: SCHEMA_URL,
      title: { text: 'S16 Full training-set loss against examples seen', subtitle: `every batch size sees the same examples; ${provenance(result, 'first')}` },
      data: { values: rows },
      facet: { column: { field: 'arm', type: 'nominal', title: null } },
      spec: {
        width: 300,
        height: 240,
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'seen', type: 'quantitative', title: 'examples seen' },
          y: { field: 'loss', type: 'quantitative', title: 'full training-set loss', scale: { type: 'log' } },
          color: { field: 'batch', type: 'nominal', title: null, sort: result.config.mnist.batchSizes.map((b) => `batch ${b}`) },
        },
      },
      config: CONFIG,
    },
    'batch-size-full-loss',
    'At the same examples seen, larger batches make fewer updates and end higher at one rate.',
  );
}

export function batchSizeFigures(result: Result): Figure[] {
  return [pathsFigure(result), perUpdateFigure(result), wiggleFigure(result), fullLossFigure(result)];
}
