/**
 * S8 figures: the median relative error against h (log-log) for forward and centered
 * differences in float32 and float64, over the notes' bands; every checked coordinate of the
 * ReLU net at a few h with its kink crossings marked; and the two traps (dropout masks, a
 * dominant penalty). A --seeds N result is drawn from its first seed (errors of different
 * weights do not average into anything meaningful).
 */
import type { TopLevelSpec } from 'vega-lite';
import { CONFIG, PALETTE, SCHEMA_URL, provenance, type Json } from '../../src/plot/common.js';
import type { Figure } from '../../src/plot/render.js';
import type { TypedResult } from '../../src/study.js';
import { FLOAT64_ANALYTIC, VARIANT_TITLE, type GradientCheckConfig, type GradientCheckSeries, type Variant } from './study.js';

type Result = TypedResult<GradientCheckConfig, GradientCheckSeries, unknown>;

/** Errors below this (exactly 0 too: both gradients 0, or equal bits) are drawn at this floor of the log axis. */
const FLOOR = 1e-10;
const floored = (v: number) => Math.max(v, FLOOR);

/** The notes' bands, drawn behind the curves. */
const BANDS: Json[] = [
  { band: 'happy (< 1e-7)', lo: FLOOR, hi: 1e-7, color: '#e8f5e9' },
  { band: 'fine (< 1e-4, also with kinks)', lo: 1e-7, hi: 1e-4, color: '#f1f8e9' },
  { band: 'uncomfortable', lo: 1e-4, hi: 1e-2, color: '#fff8e1' },
  { band: 'probably wrong (> 1e-2)', lo: 1e-2, hi: 2, color: '#ffebee' },
];

const Y = { field: 'error', type: 'quantitative', title: 'relative error (median over coordinates)', scale: { type: 'log', domain: [FLOOR, 2], nice: false } };
const X = { field: 'h', type: 'quantitative', title: 'h', scale: { type: 'log', reverse: true, nice: false }, axis: { format: '.0e' } };

function bandLayer(): Json {
  return {
    data: { values: BANDS },
    mark: { type: 'rect', opacity: 1 },
    encoding: { y: { field: 'lo', type: 'quantitative', scale: Y.scale }, y2: { field: 'hi' }, fill: { field: 'color', type: 'nominal', scale: null, legend: null } },
  };
}

function curveRows(result: Result, variants: Variant[], formulas: ('forward' | 'centered')[]): Json[] {
  const s = result.runs[0]!.series;
  const rows: Json[] = [];
  for (const v of variants) {
    const r = s.variants[v];
    if (!r) continue;
    for (const arm of r.arms) {
      for (const f of formulas) {
        s.hs.forEach((h, k) => rows.push({ panel: VARIANT_TITLE[v], curve: formulas.length > 1 ? `${arm.name}, ${f}` : arm.name, h, error: floored(arm[f].median[k]!) }));
      }
    }
  }
  return rows;
}

function errorVsH(result: Result, name: string, title: string, caption: string, variants: Variant[], formulas: ('forward' | 'centered')[], note = ''): Figure | null {
  const rows = curveRows(result, variants, formulas);
  if (rows.length === 0) return null;
  const curves = [...new Set(rows.map((r) => r.curve as string))];
  const panels = [...new Set(rows.map((r) => r.panel as string))];
  const color = { field: 'curve', type: 'nominal', title: null, sort: curves, scale: { domain: curves, range: curves.map((_, i) => PALETTE[i % PALETTE.length]!) } };
  const dash = formulas.length > 1 ? { strokeDash: { field: 'curve', type: 'nominal', title: null, sort: curves, scale: { domain: curves, range: curves.map((c) => (c.endsWith('forward') ? [5, 3] : [1, 0])) } } } : {};
  const c = result.config;
  const spec = {
    $schema: SCHEMA_URL,
    title: {
      text: title,
      subtitle: [
        `${c.images} MNIST images, 784-${c.hidden.join('-')}-10 net; analytic = the suite's hand-written backward (float32)${rows.some((r) => String(r.curve).startsWith(FLOAT64_ANALYTIC)) ? `, or in the "${FLOAT64_ANALYTIC}" lines the float64 backward written by hand` : ''}${note}`,
        `background: the notes' bands (green < 1e-7 happy, pale green < 1e-4 fine, yellow uncomfortable, red > 1e-2 probably wrong)`,
        provenance(result, 'first'),
      ],
    },
    data: { values: rows },
    facet: { field: 'panel', type: 'nominal', sort: panels, title: null, header: { labelFontSize: 13 } },
    columns: Math.min(3, panels.length),
    spec: {
      width: 260,
      height: 230,
      layer: [bandLayer(), { mark: { type: 'line', strokeWidth: 1.6, point: { size: 22 } }, encoding: { x: X, y: Y, color, ...dash } }],
    },
    resolve: { scale: { color: 'shared' } },
    config: { ...CONFIG, legend: { ...(CONFIG.legend as Json), orient: 'bottom', columns: 2 } },
  };
  return { name, caption, spec: spec as unknown as TopLevelSpec };
}

/** The ReLU net's coordinates at four h: error per coordinate, a kink crossing marked. */
function kinkFigure(result: Result): Figure | null {
  const s = result.runs[0]!.series;
  const coords = s.variants.relu?.coordinates;
  if (!coords) return null;
  const picks = [1e-1, 1e-2, 1e-4, 1e-6].map((h) => s.hs.findIndex((x) => Math.abs(Math.log10(x) - Math.log10(h)) < 1e-9)).filter((k) => k >= 0);
  const rows: Json[] = [];
  for (const k of picks) {
    coords.forEach((c, i) => rows.push({ panel: `h = ${s.hs[k]}`, coordinate: i, tensor: c.tensor, error: floored(c.error[k]!), kink: c.crossed[k] ? 'a ReLU input crossed 0' : 'no crossing' }));
  }
  const panels = picks.map((k) => `h = ${s.hs[k]}`);
  const tensors = [...new Set(coords.map((c) => c.tensor))];
  const spec = {
    $schema: SCHEMA_URL,
    title: {
      text: 'S8 Gradient check on the ReLU net: every checked coordinate (float64 centered)',
      subtitle: [`coordinates in order W1, b1, W2, b2, W3, b3 (${coords.length}); filled red: a ReLU input changed sign among x-h, x, x+h; errors below ${FLOOR} (and exact 0) drawn at ${FLOOR}`, provenance(result, 'first')],
    },
    data: { values: rows },
    facet: { field: 'panel', type: 'nominal', sort: panels, title: null, header: { labelFontSize: 13 } },
    columns: 2,
    spec: {
      width: 330,
      height: 190,
      layer: [
        bandLayer(),
        {
          mark: { type: 'point', size: 14, strokeWidth: 1 },
          encoding: {
            x: { field: 'coordinate', type: 'quantitative', title: 'checked coordinate', scale: { nice: false } },
            y: { ...Y, title: 'relative error' },
            color: { field: 'kink', type: 'nominal', title: null, scale: { domain: ['no crossing', 'a ReLU input crossed 0'], range: ['#4a6fa5', '#d62728'] } },
            fill: { field: 'kink', type: 'nominal', title: null, scale: { domain: ['no crossing', 'a ReLU input crossed 0'], range: ['transparent', '#d62728'] }, legend: null },
            shape: { field: 'tensor', type: 'nominal', title: 'tensor', scale: { domain: tensors } },
          },
        },
      ],
    },
    config: { ...CONFIG, legend: { ...(CONFIG.legend as Json), orient: 'bottom' } },
  };
  return { name: `${result.study}-kinks`, caption: "Relative error of every checked coordinate of the ReLU net at four step sizes; kink crossings in red.", spec: spec as unknown as TopLevelSpec };
}

/**
 * The burn-in check (correct and buggy gradient at init and after the burn-in) and the depth
 * series (the suite's gradient against float64 numerics, one line per depth): centered
 * differences, median relative error vs h, the notes' bands behind.
 */
function burnInDepthFigure(result: Result): Figure | null {
  const s = result.runs[0]!.series;
  const c = result.config;
  if (!s.burnIn && !s.depths) return null;
  const rows: Json[] = [];
  const panels: string[] = [];
  const add = (panel: string, curve: string, median: number[]) => {
    if (!panels.includes(panel)) panels.push(panel);
    s.hs.forEach((h, k) => rows.push({ panel, curve, h, error: floored(median[k]!) }));
  };
  const label = { correct: 'correct gradient', bug: 'buggy gradient (softmax as if the logits were 0)' } as const;
  if (s.burnIn) {
    for (const [p, at] of [
      [`at init (weights std ${s.burnIn.initStd}; logit std ${s.burnIn.init.logitStd})`, s.burnIn.init],
      [`after ${s.burnIn.after.updates} SGD updates (logit std ${s.burnIn.after.logitStd})`, s.burnIn.after],
    ] as const) {
      for (const arm of at.arms) add(p, label[arm.name as keyof typeof label] ?? arm.name, arm.centered.median);
    }
  }
  for (const d of s.depths ?? []) add('depth: the suite\'s gradient vs float64 numerics', `depth ${d.depth}`, d.arms.find((a) => a.name === 'float64')!.centered.median);
  const curves = [...new Set(rows.map((r) => r.curve as string))];
  const spec = {
    $schema: SCHEMA_URL,
    title: {
      text: 'S8 Gradient check after a burn-in, and with depth (float64 centered differences)',
      subtitle: [
        `${c.images} MNIST images; burn-in: 784-${c.hidden.join('-')}-10 tanh net, float64 analytic gradients; depth d: d - 1 tanh layers of ${c.depthWidth} units (Xavier)`,
        `background: the notes' bands (green < 1e-7 happy, pale green < 1e-4 fine, yellow uncomfortable, red > 1e-2 probably wrong)`,
        provenance(result, 'first'),
      ],
    },
    data: { values: rows },
    facet: { field: 'panel', type: 'nominal', sort: panels, title: null, header: { labelFontSize: 12 } },
    columns: 3,
    spec: {
      width: 260,
      height: 230,
      layer: [bandLayer(), { mark: { type: 'line', strokeWidth: 1.6, point: { size: 22 } }, encoding: { x: X, y: Y, color: { field: 'curve', type: 'nominal', title: null, sort: curves, scale: { domain: curves, range: curves.map((_, i) => PALETTE[i % PALETTE.length]!) } } } }],
    },
    resolve: { scale: { color: 'shared' } },
    config: { ...CONFIG, legend: { ...(CONFIG.legend as Json), orient: 'bottom', columns: 3 } },
  };
  return {
    name: `${result.study}-burn-in-depth`,
    caption: 'Median relative error vs h (centered, float64): a correct and a buggy gradient (softmax gradient taken as if the logits were zero) at init with small weights and after a short burn-in; the suite\'s gradient on tanh nets of growing depth.',
    spec: spec as unknown as TopLevelSpec,
  };
}

export function gradientCheckFigures(result: Result): Figure[] {
  const figures = [
    errorVsH(
      result,
      result.study,
      'S8 Gradient check: relative error vs h, forward and centered differences, float32 and float64',
      'Median relative error between the analytic gradient and numerical ones against the step h (log-log), forward (dashed) and centered (solid) differences in float32 and float64, and float64 differences against a float64 analytic gradient; the notes\' bands behind.',
      ['tanh', 'relu', 'relu-bn'],
      ['forward', 'centered'],
    ),
    kinkFigure(result),
    errorVsH(
      result,
      `${result.study}-traps`,
      'S8 Gradient check traps: dropout masks and a dominant penalty (centered differences)',
      'Median relative error vs h for dropout with fixed and fresh masks, and for a halved data gradient under a dominant weight-decay penalty, checked with and without the penalty.',
      ['dropout', 'weight-decay'],
      ['centered'],
      // Both fresh-mask arms draw the masks the net's own stream draws next: the same masks, one line over the other.
      '; the two fresh-mask lines coincide (the same mask draws)',
    ),
    burnInDepthFigure(result),
  ];
  return figures.filter((f): f is Figure => f !== null);
}
