/**
 * Vega-Lite spec -> SVG -> PNG, headless: vega-lite compiles the spec to Vega, a Vega view
 * with no renderer draws it to an SVG string (no browser, no canvas package), and resvg
 * rasterises the SVG with the system fonts.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { UserError } from '../errors.js';
import { describeFsError } from '../store/atomic.js';
import { writeFilesAtomic, type FileToWrite } from '../store/atomic-set.js';
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
  csv?: string;
}

/**
 * The nearest part of `dir` that exists but is not a folder (a file named `figures` where the
 * figures folder should be); null when `dir` is a folder or can be made.
 */
export function fileInTheWay(dir: string): string | null {
  for (let d = resolve(dir); ; d = dirname(d)) {
    try {
      return statSync(d).isDirectory() ? null : d;
    } catch {
      if (dirname(d) === d) return null;
    }
  }
}

/** Makes a figure folder, or says in one line why it cannot be made. */
export function makeFigureDir(dir: string): void {
  const blocker = fileInTheWay(dir);
  if (blocker !== null) throw new UserError(`cannot write figures into ${dir}: ${blocker} is a file, not a folder; move it away or choose another --out`);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new UserError(`cannot make the figure folder ${dir}: ${describeFsError(err)}`);
  }
}

/**
 * Writes <dir>/<name>.png and, unless only PNG is asked for, .svg and .vl.json (open it in the
 * Vega editor), and with `csv` the figure's data as .csv: all of them or none (the earlier
 * files stay as they were). Returns the paths written. `scale` is the PNG's size as a multiple
 * of the SVG's.
 */
export async function writeFigure(dir: string, figure: Figure, o: { scale?: number; format?: FigureFormat; csv?: boolean } = {}): Promise<FigureFiles> {
  const format = o.format ?? 'both';
  const { svg, png } = await renderSpec(figure.spec, o.scale ?? 2);
  makeFigureDir(dir);
  const out: FigureFiles = {};
  const files: FileToWrite[] = [];
  if (format !== 'svg') files.push({ path: (out.png = join(dir, `${figure.name}.png`)), data: png });
  if (format !== 'png') {
    files.push({ path: (out.spec = join(dir, `${figure.name}.vl.json`)), data: JSON.stringify(figure.spec) + '\n' });
    files.push({ path: (out.svg = join(dir, `${figure.name}.svg`)), data: svg });
  }
  if (o.csv) files.push({ path: (out.csv = join(dir, `${figure.name}.csv`)), data: figureCsv(figure) });
  writeFilesAtomic(files);
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
