/**
 * S14 figure: training loss per iteration (smoothed as S2's, 11-point Kaiser window), one panel
 * per activation, one curve per preprocessing; y from 0 to 2.5 (ln 10 = 2.30 stays in view).
 */
import type { TopLevelSpec } from 'vega-lite';
import { CONFIG, PALETTE, SCHEMA_URL, band, bandLayer, isMultiSeed, provenance, type Json } from '../../src/plot/common.js';
import type { Figure } from '../../src/plot/render.js';
import { smoothKaiser } from '../../src/plot/smooth.js';
import type { TypedResult } from '../../src/study.js';
import { ACTIVATION_LABEL } from '../../src/nn/activation.js';
import { PREPROCESSING_LABEL, type DataPreprocessingConfig, type DataPreprocessingSeries } from './study.js';

type Result = TypedResult<DataPreprocessingConfig, DataPreprocessingSeries, unknown>;

const Y_MAX = 2.5;

export function preprocessingFigures(result: Result): Figure[] {
  const first = result.runs[0]!.series;
  const rows: Json[] = [];
  for (const [key, net] of Object.entries(first.nets)) {
    const curves = result.runs.map((r) => smoothKaiser(r.series.loss[key] ?? []));
    const diverged = result.runs.map((r) => r.series.divergedAt[key]).find((d) => d);
    const curve = `${PREPROCESSING_LABEL[net.preprocessing]}${diverged ? ` (diverged at ${diverged.iteration})` : ''}`;
    const panel = `${ACTIVATION_LABEL[net.activation]} (${result.config.nets.find((n) => n.activation === net.activation)?.init === 'xavier' ? 'Xavier' : 'He'})`;
    for (const p of band(curves)) {
      const row: Json = { panel, curve, iteration: p.x, loss: p.mean };
      if (curves.length > 1) Object.assign(row, { min: p.min, max: p.max });
      rows.push(row);
    }
  }
  const panels = [...new Set(rows.map((r) => r.panel as string))];
  const order = [...new Set(rows.map((r) => r.curve as string))];
  const iterations = Math.max(...rows.map((r) => r.iteration as number)) + 1;
  const every = Math.max(1, Math.round(iterations / 20));
  const x = { field: 'iteration', type: 'quantitative', title: 'iterations', scale: { domain: [0, iterations], nice: false } };
  const y = { field: 'loss', type: 'quantitative', title: 'loss (smoothed)', scale: { domain: [0, Y_MAX], nice: false } };
  const color = { field: 'curve', type: 'nominal', title: null, sort: order, scale: { domain: order, range: order.map((_, i) => PALETTE[i % PALETTE.length]!) } };
  const layers: Json[] = [
    { mark: { type: 'line', clip: true, strokeWidth: 1.5 }, encoding: { x, y, color } },
    {
      transform: [{ filter: `datum.iteration % ${every} === 0 && datum.loss !== null && datum.loss <= ${Y_MAX}` }],
      mark: { type: 'point', clip: true, filled: false, size: 36, strokeWidth: 1.3 },
      encoding: { x, y, color, shape: { field: 'curve', type: 'nominal', title: null, sort: order, scale: { domain: order } } },
    },
  ];
  if (isMultiSeed(result)) layers.push(bandLayer(x, { ...y, field: 'min' }, color, { clip: true }));
  const c = result.config;
  const spec = {
    $schema: SCHEMA_URL,
    title: {
      text: 'S14 Data preprocessing on MNIST: training loss',
      subtitle: `${c.hidden.length + 1}-layer net, SGD lr ${c.lr}, batch ${c.batchSize}; statistics from the ${c.trainSize.toLocaleString('en-US')} training images; smoothed: 11-point Kaiser window (beta 2); ${provenance(result)}`,
    },
    data: { values: rows },
    facet: { field: 'panel', type: 'nominal', sort: panels, title: null, header: { labelFontSize: 13 } },
    columns: 2,
    spec: { width: 340, height: 240, layer: layers },
    spacing: { column: 24 },
    config: { ...CONFIG, legend: { ...(CONFIG.legend as Json), orient: 'top' } },
  };
  return [{ name: result.study, caption: 'Training loss per iteration (smoothed), one panel per activation, one curve per preprocessing; y from 0 to 2.5.', spec: spec as unknown as TopLevelSpec }];
}
