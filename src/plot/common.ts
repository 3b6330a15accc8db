/**
 * What every figure shares: the look (font, sizes), number rounding for compact specs, the
 * seed band (mean line with a min-max band when a study ran with --seeds N), and labels.
 */
import type { StudyResult } from '../results/schema.js';
import { FONT } from './render.js';

export { sci } from '../format.js';

/** What the provenance line of a figure reads from a result of any study. */
type RunInfo = Pick<StudyResult, 'profile' | 'seeds' | 'environment'> & { runs: readonly unknown[] };

export const SCHEMA_URL = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Loose JSON object: the builders assemble Vega-Lite specs as plain data; compiling checks them. */
export type Json = Record<string, unknown>;

export const CONFIG: Json = {
  font: FONT,
  background: 'white',
  padding: 8,
  title: { fontSize: 15, anchor: 'start', subtitleFontSize: 11, subtitleColor: '#555' },
  axis: { labelFontSize: 10, titleFontSize: 11, titleFontWeight: 'normal', grid: true, gridColor: '#e6e6e6' },
  header: { labelFontSize: 12, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 11, titleFontWeight: 'normal', labelLimit: 320 },
  view: { stroke: '#888' },
};

/** Rounds to `digits` significant digits (keeps the specs small); null stays null. */
export function sig(v: number | null | undefined, digits = 4): number | null {
  if (v === null || v === undefined || !Number.isFinite(v)) return null;
  if (v === 0) return 0;
  return Number(v.toPrecision(digits));
}

/** Display names of the update rules. */
export const OPTIMIZER_LABEL: Record<string, string> = {
  sgd: 'SGD',
  momentum: 'Momentum',
  nesterov: 'Nesterov',
  adagrad: 'AdaGrad',
  rmsprop: 'RMSprop',
  adam: 'Adam',
};

export const label = (name: string, table: Record<string, string> = OPTIMIZER_LABEL): string => table[name] ?? name;

export interface BandPoint {
  x: number;
  mean: number | null;
  min: number | null;
  max: number | null;
}

/**
 * Pointwise mean, min and max of several seeds' curves (same length; the shortest one sets
 * the length). A point where some seed is null (diverged) gets the statistics of the others
 * and is null only when every seed is.
 */
export function band(curves: (number | null)[][], digits = 4): BandPoint[] {
  const n = Math.min(...curves.map((c) => c.length));
  const out: BandPoint[] = [];
  for (let i = 0; i < n; i++) {
    const vals = curves.map((c) => c[i]).filter((v): v is number => v !== null && v !== undefined && Number.isFinite(v));
    const x = i;
    if (vals.length === 0) out.push({ x, mean: null, min: null, max: null });
    else out.push({ x, mean: sig(vals.reduce((a, b) => a + b, 0) / vals.length, digits), min: sig(Math.min(...vals), digits), max: sig(Math.max(...vals), digits) });
  }
  return out;
}

/** Vega's category10 colours, written out so a band and its line can share them explicitly. */
export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/**
 * The min-max band of a multi-seed curve: an area from `min` to `max` in the curve's colour.
 * It fills from a copy of the colour field with its own legend-less scale (same domain and
 * colours): sharing the curve's colour channel would merge the band into the curve's legend and
 * draw every legend symbol as a faint patch, losing the dash and marker that tell curves apart.
 */
export function bandLayer(x: Json, yMin: Json, color: { field: string; scale: { domain: string[]; range: string[] } }, mark: Json = {}): Json {
  return {
    transform: [{ filter: 'isValid(datum.min) && isValid(datum.max)' }, { calculate: `datum[${JSON.stringify(color.field)}]`, as: 'bandOf' }],
    mark: { type: 'area', opacity: 0.18, ...mark },
    encoding: { x, y: yMin, y2: { field: 'max' }, fill: { field: 'bandOf', type: 'nominal', scale: color.scale, legend: null } },
  };
}

/**
 * The subtitle line every figure carries: profile, seeds, backend. With several seeds a figure
 * either draws the mean with a min-max band, or (where seeds cannot be averaged) the first seed.
 */
export function provenance(result: RunInfo, seeds: 'band' | 'first' = 'band'): string {
  const first = result.seeds[0];
  const many = `seeds ${first}..${result.seeds[result.seeds.length - 1]}`;
  const text = result.seeds.length === 1 ? `seed ${first}` : seeds === 'band' ? `${many} (mean line, min-max band)` : `${many} (seed ${first} drawn)`;
  return `${result.profile} profile, ${text}, ${result.environment.backend} backend`;
}

export const isMultiSeed = (result: RunInfo): boolean => result.runs.length > 1;
