/**
 * S15 figures: the test accuracy of each way of choosing batch norm's statistics at test time
 * (bars, after the early checkpoint and at the end), and the accuracy against the test batch
 * size when each test batch is normalised by itself, with the population statistics and the
 * running averages as reference lines. With several seeds: the mean, and a rule from min to max.
 */
import type { TopLevelSpec } from 'vega-lite';
import { BN_MOMENTUM } from '../../src/nn/mlp.js';
import { CONFIG, PALETTE, SCHEMA_URL, isMultiSeed, provenance, sig, type Json } from '../../src/plot/common.js';
import type { Figure } from '../../src/plot/render.js';
import type { TypedResult } from '../../src/study.js';
import type { BatchnormInferenceConfig, BatchnormInferenceSeries, Checkpoint } from './study.js';

type Result = TypedResult<BatchnormInferenceConfig, BatchnormInferenceSeries, unknown>;

/** A way of normalising at test time: its label and its accuracy in a checkpoint. */
interface Method {
  label: string;
  of: (c: Checkpoint) => number | undefined;
}

export function methods(config: BatchnormInferenceConfig): Method[] {
  const n = config.trainSize.toLocaleString('en-US');
  return [
    { label: `population statistics (${n} training images)`, of: (c) => c.population },
    ...config.momenta.map((m) => ({
      label: `running averages, momentum ${m}${m === BN_MOMENTUM ? " (the suite's)" : ''}`,
      of: (c: Checkpoint) => c.momentum[String(m)],
    })),
    ...config.testBatchSizes.map((b) => ({
      label: `test batch's own statistics, batch ${b.toLocaleString('en-US')}`,
      of: (c: Checkpoint) => c.testBatch[String(b)],
    })),
  ];
}

const checkpointLabel = (iteration: number): string => `after ${iteration.toLocaleString('en-US')} iterations`;

/** Mean, min and max over seeds of one number of the checkpoint at position k. */
function overSeeds(result: Result, k: number, of: (c: Checkpoint) => number | undefined): { mean: number | null; min: number | null; max: number | null } {
  const vals = result.runs.map((r) => r.series.checkpoints[k]).map((c) => (c ? of(c) : undefined)).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (vals.length === 0) return { mean: null, min: null, max: null };
  return { mean: sig(vals.reduce((a, b) => a + b, 0) / vals.length), min: sig(Math.min(...vals)), max: sig(Math.max(...vals)) };
}

function checkpointColors(result: Result): { domain: string[]; range: string[] } {
  const domain = result.runs[0]!.series.checkpoints.map((c) => checkpointLabel(c.iteration));
  return { domain, range: domain.map((_, i) => PALETTE[i === domain.length - 1 ? 0 : 1]!) };
}

function setup(c: BatchnormInferenceConfig): string {
  return `${c.hidden.length + 1}-layer ReLU net with batch norm, ${c.trainSize.toLocaleString('en-US')} training images, batch ${c.batchSize}, SGD lr ${c.lr}; ${c.testSize.toLocaleString('en-US')} test images`;
}

/** A layered chart with the study's title and setup line. */
function layered(result: Result, title: string, rows: Json[], layers: Json[], size: Json, legend: Json): Json {
  return {
    $schema: SCHEMA_URL,
    title: { text: `S15 Batch norm at test time: ${title}`, subtitle: [setup(result.config), provenance(result)] },
    data: { values: rows },
    ...size,
    layer: layers,
    config: { ...CONFIG, legend: { ...(CONFIG.legend as Json), ...legend } },
  };
}

export function methodRows(result: Result): Json[] {
  const list = methods(result.config);
  const rows: Json[] = [];
  result.runs[0]!.series.checkpoints.forEach((c, k) => {
    for (const m of list) {
      const s = overSeeds(result, k, m.of);
      const row: Json = { checkpoint: checkpointLabel(c.iteration), method: m.label, accuracy: s.mean, text: s.mean === null ? '' : s.mean.toFixed(3) };
      if (isMultiSeed(result)) Object.assign(row, { min: s.min, max: s.max });
      rows.push(row);
    }
  });
  return rows;
}

function methodsFigure(result: Result): Figure {
  const rows = methodRows(result);
  const order = methods(result.config).map((m) => m.label);
  const color = { field: 'checkpoint', type: 'nominal', title: null, scale: checkpointColors(result) };
  const y = { field: 'method', type: 'nominal', sort: order, title: null, axis: { labelLimit: 360 } };
  const yOffset = { field: 'checkpoint', type: 'nominal', sort: color.scale.domain };
  const x = { field: 'accuracy', type: 'quantitative', title: `test accuracy (${result.config.testSize.toLocaleString('en-US')} test images)`, scale: { domain: [0, 1] } };
  const layers: Json[] = [
    { mark: { type: 'bar', height: { band: 1 } }, encoding: { y, yOffset, x, color } },
    { mark: { type: 'text', align: 'left', baseline: 'middle', dx: 3, fontSize: 9 }, encoding: { y, yOffset, x, text: { field: 'text' } } },
    {
      data: { values: [{ at: 0.1, note: 'chance 0.1' }] },
      layer: [
        { mark: { type: 'rule', strokeDash: [4, 3], color: '#777' }, encoding: { x: { field: 'at', type: 'quantitative' } } },
        { mark: { type: 'text', align: 'left', baseline: 'bottom', dx: 3, dy: -2, fontSize: 9, color: '#555' }, encoding: { x: { field: 'at', type: 'quantitative' }, y: { value: 0 }, text: { field: 'note' } } },
      ],
    },
  ];
  if (isMultiSeed(result)) layers.push({ mark: { type: 'rule', color: '#333' }, encoding: { y, yOffset, x: { ...x, field: 'min' }, x2: { field: 'max' } } });
  const spec = layered(result, 'test accuracy by the statistics used', rows, layers, { width: 380, height: { step: 26 } }, { orient: 'top' });
  return { name: `${result.study}-methods`, caption: 'Test accuracy when batch norm uses population statistics, running averages of three momenta, or the test batch\'s own statistics; after the early checkpoint and at the end.', spec: spec as unknown as TopLevelSpec };
}

export function batchSizeRows(result: Result): Json[] {
  const { config } = result;
  const rows: Json[] = [];
  result.runs[0]!.series.checkpoints.forEach((c, k) => {
    const checkpoint = checkpointLabel(c.iteration);
    for (const b of config.testBatchSizes) {
      const s = overSeeds(result, k, (x) => x.testBatch[String(b)]);
      const row: Json = { kind: 'batch', checkpoint, statistics: "the test batch's own", batch: b, accuracy: s.mean };
      if (isMultiSeed(result)) Object.assign(row, { min: s.min, max: s.max });
      rows.push(row);
    }
    const refs: [string, (x: Checkpoint) => number | undefined][] = [
      ['population (training set)', (x) => x.population],
      [`running averages, momentum ${BN_MOMENTUM}`, (x) => x.running],
    ];
    for (const [statistics, of] of refs) rows.push({ kind: 'reference', checkpoint, statistics, accuracy: overSeeds(result, k, of).mean });
  });
  return rows;
}

function batchSizeFigure(result: Result): Figure {
  const rows = batchSizeRows(result);
  const sizes = result.config.testBatchSizes;
  const color = { field: 'checkpoint', type: 'nominal', title: null, scale: checkpointColors(result) };
  const kinds = ["the test batch's own", 'population (training set)', `running averages, momentum ${BN_MOMENTUM}`];
  const dash = { field: 'statistics', type: 'nominal', title: 'statistics', scale: { domain: kinds, range: [[1, 0], [6, 3], [2, 2]] }, legend: { symbolType: 'stroke', encode: { symbols: { update: { stroke: { value: '#333' }, strokeWidth: { value: 1.6 }, fill: { value: 'transparent' } } } } } };
  // Some room beyond the smallest and largest batch for the points and their labels.
  const x = { field: 'batch', type: 'quantitative', title: 'test batch size (images normalised together)', scale: { type: 'log', domain: [Math.min(...sizes) / 1.5, Math.max(...sizes) * 2.5] }, axis: { values: sizes, format: ',d' } };
  const final = color.scale.domain[color.scale.domain.length - 1]!;
  // Labels: the last checkpoint's above its points, the earlier ones' below theirs.
  const labels = (above: boolean): Json => ({
    transform: [{ filter: `datum.kind === 'batch' && (datum.checkpoint === ${JSON.stringify(final)}) === ${above}` }, { calculate: "format(datum.accuracy, '.3f')", as: 'text' }],
    mark: { type: 'text', align: 'left', baseline: above ? 'bottom' : 'top', dx: 4, dy: above ? -4 : 4, fontSize: 9 },
    encoding: { x, y, text: { field: 'text' }, color },
  });
  const y = { field: 'accuracy', type: 'quantitative', title: 'test accuracy', scale: { domain: [0, 1] } };
  const layers: Json[] = [
    { transform: [{ filter: "datum.kind === 'reference'" }], mark: { type: 'rule', strokeWidth: 1.3 }, encoding: { y, color, strokeDash: dash } },
    { transform: [{ filter: "datum.kind === 'batch'" }], mark: { type: 'line', point: true, strokeWidth: 1.8 }, encoding: { x, y, color, strokeDash: dash } },
    labels(true),
    labels(false),
  ];
  if (isMultiSeed(result)) layers.push({ transform: [{ filter: "datum.kind === 'batch'" }], mark: { type: 'rule' }, encoding: { x, y: { ...y, field: 'min' }, y2: { field: 'max' }, color } });
  const spec = layered(result, 'normalising by the test batch itself', rows, layers, { width: 460, height: 280 }, { orient: 'right', symbolStrokeWidth: 2, symbolSize: 300 });
  return { name: `${result.study}-batch-size`, caption: "Test accuracy when each test batch is normalised by its own statistics, against the batch size (log scale); horizontal lines: population statistics (dashed) and running averages (dotted).", spec: spec as unknown as TopLevelSpec };
}

export function batchnormInferenceFigures(result: Result): Figure[] {
  return [methodsFigure(result), batchSizeFigure(result)];
}
