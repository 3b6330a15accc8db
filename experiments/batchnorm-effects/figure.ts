/**
 * S18 figure: one panel per part, each with its own data and scales. A --seeds N result is
 * drawn from its first seed.
 */
import type { TopLevelSpec } from 'vega-lite';
import { CONFIG, SCHEMA_URL, provenance, sig, type Json } from '../../src/plot/common.js';
import type { Figure } from '../../src/plot/render.js';
import { median } from '../../src/stats.js';
import type { TypedResult } from '../../src/study.js';
import { ARMS, GB_NETS, PART_TITLE, type BatchnormEffectsConfig, type BatchnormEffectsSeries, type BatchnormEffectsSummary } from './study.js';

type Result = TypedResult<BatchnormEffectsConfig, BatchnormEffectsSeries, BatchnormEffectsSummary>;

const ARM_LABEL = { plain: 'without BN', bn: 'with BN' } as const;
const ARM_COLOURS = { field: 'net', type: 'nominal', title: null, scale: { domain: [ARM_LABEL.plain, ARM_LABEL.bn], range: ['#d62728', '#1f77b4'] } };
const W = 250;
const H = 160;
/** (b) Final losses above this, and diverged nets, are drawn at it. */
const LOSS_CEILING = 3;
/** (f) Trailing mean over this many iterations (the raw per-batch loss is noisy); a tenth of a shorter run. */
const SMOOTH = 50;
const window = (n: number): number => Math.max(1, Math.min(SMOOTH, Math.floor(n / 10)));

const panel = (title: string, subtitle: string, body: Json): Json => ({ title: { text: title, subtitle, fontSize: 12, subtitleFontSize: 10 }, width: W, height: H, ...body });

function regularizationPanel(series: BatchnormEffectsSeries, config: BatchnormEffectsConfig): Json | null {
  const reg = series.regularization;
  if (!reg) return null;
  const rows: Json[] = [];
  for (const a of ARMS) {
    const acc = reg.accuracy[a];
    if (!acc) continue;
    for (const set of ['train', 'test'] as const) acc[set].forEach((v, e) => rows.push({ net: ARM_LABEL[a], set, epoch: e, accuracy: v }));
  }
  const c = config.regularization;
  return panel(PART_TITLE.regularization, `${c.trainSize} images, ${c.hidden.length + 1}-layer ReLU, SGD ${c.lr}`, {
    data: { values: rows },
    mark: { type: 'line', strokeWidth: 1.3 },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch' },
      y: { field: 'accuracy', type: 'quantitative', title: 'accuracy', scale: { domain: [0, 1] } },
      color: ARM_COLOURS,
      strokeDash: { field: 'set', type: 'nominal', title: null, scale: { domain: ['train', 'test'], range: [[1, 0], [4, 3]] } },
    },
  });
}

function ratesPanel(series: BatchnormEffectsSeries, summary: BatchnormEffectsSummary, config: BatchnormEffectsConfig): Json | null {
  if (!series.rates || !summary.rates) return null;
  const rows: Json[] = [];
  for (const r of series.rates.rates) {
    for (const a of ARMS) {
      const s = summary.rates[`lr=${r}`]![a];
      const loss = s.finalLoss === null ? LOSS_CEILING : Math.min(s.finalLoss, LOSS_CEILING);
      rows.push({ net: ARM_LABEL[a], rate: r, loss: sig(loss, 4), outcome: s.diverged ? 'diverged' : 'learned' });
    }
  }
  const c = config.rates;
  const x = { field: 'rate', type: 'quantitative', title: 'learning rate', scale: { type: 'log' } };
  const y = { field: 'loss', type: 'quantitative', title: 'final training loss', scale: { domain: [0, LOSS_CEILING] } };
  return panel(PART_TITLE.rates, `one epoch (${c.iterations} updates of ${c.batchSize}); diverged/above ${LOSS_CEILING} drawn at ${LOSS_CEILING}; line: ln 10`, {
    layer: [
      { data: { values: rows }, mark: { type: 'line', strokeWidth: 1.3 }, encoding: { x, y, color: ARM_COLOURS } },
      {
        data: { values: rows },
        mark: { type: 'point', size: 45, filled: true },
        encoding: { x, y, color: ARM_COLOURS, shape: { field: 'outcome', type: 'nominal', title: null, scale: { domain: ['learned', 'diverged'], range: ['circle', 'cross'] } } },
      },
      { data: { values: [{ y: Math.log(10) }] }, mark: { type: 'rule', strokeDash: [2, 2], color: '#888' }, encoding: { y: { field: 'y', type: 'quantitative' } } },
    ],
  });
}

function gradientsPanel(series: BatchnormEffectsSeries): Json | null {
  const g = series.gradients;
  if (!g) return null;
  const rows = g.flatMap((s) => ARMS.map((a) => ({ net: ARM_LABEL[a], w: sig(s.w, 4), ratio: sig(s.ratio[a], 4) })));
  const unbounded = g.filter((s) => ARMS.some((a) => s.ratio[a] === null)).length;
  const x = { field: 'w', type: 'quantitative', title: 'init std w', scale: { type: 'log' } };
  return panel(PART_TITLE.gradients, `max / min of the layers' weight-gradient norms; lines at 10 and 100${unbounded ? `; ${unbounded} scale(s) with a zero gradient left out` : ''}`, {
    layer: [
      { data: { values: rows }, transform: [{ filter: 'isValid(datum.ratio)' }], mark: { type: 'line', point: { size: 25 }, strokeWidth: 1.3 }, encoding: { x, y: { field: 'ratio', type: 'quantitative', title: 'max / min gradient norm', scale: { type: 'log' } }, color: ARM_COLOURS } },
      { data: { values: [{ y: 10 }, { y: 100 }] }, mark: { type: 'rule', strokeDash: [2, 2], color: '#888' }, encoding: { y: { field: 'y', type: 'quantitative' } } },
    ],
  });
}

function biasPanel(series: BatchnormEffectsSeries, summary: BatchnormEffectsSummary): Json | null {
  const b = series.bias;
  if (!b || !summary.bias) return null;
  const base = b.loss['no-bias'];
  const rows: Json[] = [];
  const pairs = { bias: 'with bias − without', ulp: 'one-ulp control − without' } as const;
  for (const n of ['bias', 'ulp'] as const) {
    b.loss[n].forEach((v, i) => {
      const d = v === null || base[i] == null ? null : Math.abs(v - base[i]!);
      // A log axis has no 0: identical losses are left out (the curves start identical).
      if (d !== null && d > 0) rows.push({ pair: pairs[n], iteration: i, diff: sig(d, 3) });
    });
  }
  return panel(PART_TITLE.bias, `|loss difference| per iteration (0 left out); max ||db||/||dW|| = ${summary.bias.maxBiasRatio.toExponential(1)}`, {
    data: { values: rows },
    mark: { type: 'point', size: 4, filled: true, opacity: 0.5 },
    encoding: {
      x: { field: 'iteration', type: 'quantitative', title: 'iteration' },
      y: { field: 'diff', type: 'quantitative', title: '|loss difference|', scale: { type: 'log' } },
      color: { field: 'pair', type: 'nominal', title: null, scale: { domain: Object.values(pairs), range: ['#9467bd', '#7f7f7f'] } },
    },
  });
}

function driftPanel(series: BatchnormEffectsSeries): Json | null {
  const d = series.drift;
  if (!d) return null;
  const rows: Json[] = [];
  for (const a of ARMS) {
    d.meanChange[a].forEach((row, k) => {
      const m = median(row.filter((v) => v > 0));
      if (m !== null) rows.push({ net: ARM_LABEL[a], iteration: d.at[k + 1], change: sig(m, 4) });
    });
  }
  return panel(PART_TITLE.drift, 'median over layers of each layer\'s median |Δ unit mean| / |unit mean| since the last checkpoint', {
    data: { values: rows },
    mark: { type: 'line', point: { size: 15 }, strokeWidth: 1.3 },
    encoding: {
      x: { field: 'iteration', type: 'quantitative', title: 'iteration' },
      y: { field: 'change', type: 'quantitative', title: 'relative change of unit means', scale: { type: 'log' } },
      color: ARM_COLOURS,
    },
  });
}

function gammaBetaPanel(series: BatchnormEffectsSeries): Json | null {
  const g = series.gammaBeta;
  if (!g) return null;
  const rows: Json[] = [];
  for (const n of GB_NETS) {
    const xs = g.loss[n];
    const k = window(xs.length);
    for (let i = k - 1; i < xs.length; i += Math.max(1, Math.floor(k / 10))) {
      const win = xs.slice(i + 1 - k, i + 1);
      if (win.every((v) => v !== null)) rows.push({ gb: `γ, β ${n}`, iteration: i, loss: sig(win.reduce((s, v) => s + v!, 0) / k, 4) });
    }
  }
  return panel(PART_TITLE['gamma-beta'], `sigmoid net with BN; training loss, mean of the last ${window(g.loss.learned.length)} batches`, {
    data: { values: rows },
    mark: { type: 'line', strokeWidth: 1.3 },
    encoding: {
      x: { field: 'iteration', type: 'quantitative', title: 'iteration' },
      y: { field: 'loss', type: 'quantitative', title: 'training loss', scale: { zero: false } },
      color: { field: 'gb', type: 'nominal', title: null, scale: { domain: GB_NETS.map((n) => `γ, β ${n}`), range: ['#2ca02c', '#ff7f0e'] } },
    },
  });
}

export function batchnormEffectsFigures(result: Result): Figure[] {
  const run = result.runs[0]!;
  const c = result.config;
  const panels = [
    regularizationPanel(run.series, c),
    ratesPanel(run.series, run.summary, c),
    gradientsPanel(run.series),
    biasPanel(run.series, run.summary),
    driftPanel(run.series),
    gammaBetaPanel(run.series),
  ].filter((p): p is Json => p !== null);
  if (panels.length === 0) return [];
  const spec = {
    $schema: SCHEMA_URL,
    title: {
      text: 'S18 What else batch norm does',
      subtitle: `(d)-(f): ${c.long.hidden.length + 1}-layer net, ${c.long.trainSize.toLocaleString('en-US')} images, SGD ${c.long.lr}, ${c.long.iterations} iterations of ${c.long.batchSize}; ${provenance(result, 'first')}`,
    },
    concat: panels,
    columns: 3,
    spacing: 28,
    resolve: { scale: { color: 'independent', strokeDash: 'independent', shape: 'independent', x: 'independent', y: 'independent' }, legend: { color: 'independent', strokeDash: 'independent', shape: 'independent' } },
    config: { ...CONFIG, legend: { ...(CONFIG.legend as Json), orient: 'bottom', direction: 'horizontal' } },
  };
  return [{ name: result.study, caption: 'One panel per part: (a) train/test accuracy, (b) final loss per rate, (c) gradient-norm spread at init, (d) loss difference with/without the bias before BN, (e) drift of layer inputs, (f) gamma/beta learned vs frozen.', spec: spec as unknown as TopLevelSpec }];
}
