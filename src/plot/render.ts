/**
 * Vega-Lite spec -> SVG -> PNG, headless: vega-lite compiles the spec to Vega, a Vega view
 * with no renderer draws it to an SVG string (no browser, no canvas package), and resvg
 * rasterises the SVG with the system fonts.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { writeFileAtomic } from '../store/atomic.js';
import { installTextMetrics } from './text-width.js';

/** The font every figure asks for; DejaVu Sans is what these machines have. */
export const FONT = 'DejaVu Sans';

export interface Figure {
  /** File stem: <study> or <study>-<panel>. */
  name: string;
  /** One line saying what the figure shows (used in REPORT.md). */
  caption: string;
  spec: TopLevelSpec;
}

export interface Rendered {
  svg: string;
  png: Buffer;
}

/** Renders one spec. PNGs are drawn at twice the SVG's size so text stays sharp. */
export async function renderSpec(spec: TopLevelSpec, scale = 2): Promise<Rendered> {
  installTextMetrics();
  // Clip and gradient ids count up per process: reset them so a figure's SVG is the same
  // whether it is drawn alone or after others (no spurious diffs in committed figures).
  vega.resetSVGDefIds();
  const vgSpec = compile(spec).spec;
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none', logLevel: vega.Warn });
  try {
    const svg = await view.toSVG();
    const png = new Resvg(svg, {
      fitTo: { mode: 'zoom', value: scale },
      background: 'white',
      font: { loadSystemFonts: true, defaultFontFamily: FONT, sansSerifFamily: FONT },
    })
      .render()
      .asPng();
    return { svg, png };
  } finally {
    view.finalize();
  }
}

export const FIGURE_FORMATS = ['both', 'svg', 'png'] as const;
export type FigureFormat = (typeof FIGURE_FORMATS)[number];

export interface FigureFiles {
  spec?: string;
  svg?: string;
  png?: string;
}

/**
 * Writes <dir>/<name>.png and, unless only PNG is asked for, .svg and .vl.json (open it in the
 * Vega editor); returns the paths written. `scale` is the PNG's size as a multiple of the SVG's.
 */
export async function writeFigure(dir: string, figure: Figure, o: { scale?: number; format?: FigureFormat } = {}): Promise<FigureFiles> {
  const format = o.format ?? 'both';
  const { svg, png } = await renderSpec(figure.spec, o.scale ?? 2);
  mkdirSync(dir, { recursive: true });
  const out: FigureFiles = {};
  if (format !== 'svg') writeFileAtomic((out.png = join(dir, `${figure.name}.png`)), png);
  if (format !== 'png') {
    writeFileAtomic((out.spec = join(dir, `${figure.name}.vl.json`)), JSON.stringify(figure.spec) + '\n');
    writeFileAtomic((out.svg = join(dir, `${figure.name}.svg`)), svg);
  }
  return out;
}

/** Every inline data table of a spec (`data.values` at any depth, and `datasets`), each with a name. */
function tablesOf(spec: unknown, into: { name: string; rows: Record<string, unknown>[] }[] = [], path = 'data'): { name: string; rows: Record<string, unknown>[] }[] {
  if (Array.isArray(spec)) spec.forEach((s, i) => tablesOf(s, into, `${path}.${i}`));
  else if (spec !== null && typeof spec === 'object') {
    const o = spec as Record<string, unknown>;
    const values = (o.data as { values?: unknown } | undefined)?.values;
    if (Array.isArray(values)) into.push({ name: path, rows: values as Record<string, unknown>[] });
    if (o.datasets && typeof o.datasets === 'object') for (const [k, v] of Object.entries(o.datasets)) if (Array.isArray(v)) into.push({ name: k, rows: v as Record<string, unknown>[] });
    for (const [k, v] of Object.entries(o)) if (k !== 'data' && k !== 'datasets' && typeof v === 'object') tablesOf(v, into, `${path}.${k}`);
  }
  return into;
}

const csvCell = (v: unknown): string => {
  if (v === null || v === undefined) return '';
  const t = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
};

/** How many data rows a figure draws, over all its inline tables. */
export function dataRows(figure: Figure): number {
  return tablesOf(figure.spec).reduce((n, t) => n + t.rows.length, 0);
}

/**
 * A figure's data as one tidy CSV table: every row the figure draws, one column per field.
 * A figure drawn from several tables (layers with their own data) gets a `table` column.
 */
export function figureCsv(figure: Figure): string {
  const tables = tablesOf(figure.spec);
  const many = tables.length > 1;
  const rows = tables.flatMap((t) => t.rows.map((r) => (many ? { table: t.name, ...r } : r)));
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return [columns.join(','), ...rows.map((r) => columns.map((c) => csvCell(r[c])).join(','))].join('\n') + '\n';
}
