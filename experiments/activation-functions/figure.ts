/**
 * S13 figures: the training loss per iteration, one curve per activation (as S2's, y from 0 to
 * 2.5 so that a net stuck at ln 10 = 2.30 stays in view); and the gradient norm ||dL/dW_l|| of
 * every layer at initialization, one line per activation, on a log axis.
 */
import type { TopLevelSpec } from 'vega-lite';
import { CONFIG, PALETTE, SCHEMA_URL, band, provenance, type Json } from '../../src/plot/common.js';
import { lossFigure } from '../../src/plot/loss-curves.js';
import type { Figure } from '../../src/plot/render.js';
import type { CurvePanel, TypedResult } from '../../src/study.js';
import type { ActivationFunctionsConfig, ActivationFunctionsSeries } from './study.js';

type Result = TypedResult<ActivationFunctionsConfig, ActivationFunctionsSeries, unknown>;

/** The gradient norms as a panel of lines over the layers (1 = input side). */
export function gradientPanel(series: ActivationFunctionsSeries): CurvePanel {
  return {
    panel: 'gradient norm at init',
    x: 'layer',
    y: '||dL/dW||',
    lines: Object.entries(series.gradNorm).map(([k, g]) => ({ name: series.labels[k] ?? k, x: g.map((_, i) => i + 1), y: g })),
  };
}

function gradientFigure(result: Result): Figure {
  const first = result.runs[0]!.series;
  const keys = Object.keys(first.gradNorm);
  const order = keys.map((k) => first.labels[k] ?? k);
  const rows: Json[] = [];
  for (const k of keys) {
    // With several seeds: the mean over seeds (the points) and the smallest and largest (a bar).
    for (const p of band(result.runs.map((r) => r.series.gradNorm[k] ?? []))) {
      const row: Json = { curve: first.labels[k] ?? k, layer: p.x + 1, norm: p.mean };
      if (result.runs.length > 1) Object.assign(row, { min: p.min, max: p.max });
      rows.push(row);
    }
  }
  const layers = Math.max(...keys.map((k) => first.gradNorm[k]!.length));
  const x = { field: 'layer', type: 'quantitative', title: 'layer (1 = input side, last = output layer)', scale: { domain: [0.8, layers + 0.2], nice: false }, axis: { values: Array.from({ length: layers }, (_, i) => i + 1), format: 'd' } };
  const y = { field: 'norm', type: 'quantitative', title: '||dL/dW|| at initialization (log)', scale: { type: 'log' } };
  const color = { field: 'curve', type: 'nominal', title: null, sort: order, scale: { domain: order, range: order.map((_, i) => PALETTE[i % PALETTE.length]!) } };
  const layersSpec: Json[] = [
    { mark: { type: 'line', strokeWidth: 1.5 }, encoding: { x, y, color } },
    { mark: { type: 'point', filled: true, size: 50 }, encoding: { x, y, color, shape: { field: 'curve', type: 'nominal', title: null, sort: order, scale: { domain: order } } } },
  ];
  if (result.runs.length > 1) layersSpec.push({ mark: { type: 'rule' }, encoding: { x, y: { ...y, field: 'min' }, y2: { field: 'max' }, color } });
  const c = result.config;
  const spec = {
    $schema: SCHEMA_URL,
    title: {
      text: 'S13 Activation functions: gradient norm per layer at initialization',
      subtitle: `${c.hidden.length + 1}-layer net, mean loss over ${c.probeSize.toLocaleString('en-US')} training images, before any update; ${provenance(result)}`,
    },
    width: 480,
    height: 320,
    data: { values: rows },
    layer: layersSpec,
    config: CONFIG,
  };
  return { name: `${result.study}-gradients`, caption: 'Norm of each layer\'s weight gradient at initialization, one line per activation, log scale.', spec: spec as unknown as TopLevelSpec };
}

export function activationFigures(result: Result): Figure[] {
  const c = result.config;
  return [
    lossFigure(result, {
      name: result.study,
      title: `S13 Activation functions on MNIST: training loss (SGD lr ${c.lr})`,
      caption: 'Training loss per iteration (smoothed), one curve per activation (init in brackets); y from 0 to 2.5.',
      yMax: 2.5,
      labels: result.runs[0]!.series.labels,
    }),
    gradientFigure(result),
  ];
}
