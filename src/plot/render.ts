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

/** Writes <dir>/<name>.vl.json (open it in the Vega editor), .svg and .png; returns the paths. */
export async function writeFigure(dir: string, figure: Figure): Promise<{ spec: string; svg: string; png: string }> {
  const { svg, png } = await renderSpec(figure.spec);
  mkdirSync(dir, { recursive: true });
  const paths = { spec: join(dir, `${figure.name}.vl.json`), svg: join(dir, `${figure.name}.svg`), png: join(dir, `${figure.name}.png`) };
  writeFileAtomic(paths.spec, JSON.stringify(figure.spec) + '\n');
  writeFileAtomic(paths.svg, svg);
  writeFileAtomic(paths.png, png);
  return paths;
}
