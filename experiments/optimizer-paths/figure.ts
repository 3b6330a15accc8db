/**
 * S1 figure, drawn as the lecture draws it: one panel per optimizer with the contour lines
 * of f(x, y) = x^2/20 + y^2, the path as red dots joined by a line, and a "+" at the minimum;
 * x and y both from -10 to 10.
 */
import type { TopLevelSpec } from 'vega-lite';
import { CONFIG, SCHEMA_URL, label, provenance, sig, type Json } from '../../src/plot/common.js';
import type { Figure } from '../../src/plot/render.js';
import type { TypedResult } from '../../src/study.js';
import type { PathsConfig, PathsSeries, PathsSummary } from './study.js';

/** The lecture masks f above 7 before contouring; these are the levels inside that region. */
export const CONTOUR_LEVELS = [0.25, 1, 2, 3, 4, 5, 6, 7];
const FRAME = 10;
const PANEL = 230;

/**
 * The level sets of f are ellipses x = sqrt(20c) cos t, y = sqrt(c) sin t, so the contour
 * lines are drawn exactly rather than traced from a grid; the panel clips what leaves the frame.
 */
export function contourRows(levels = CONTOUR_LEVELS, points = 120): Json[] {
  const rows: Json[] = [];
  for (const c of levels) {
    for (let k = 0; k <= points; k++) {
      const t = (2 * Math.PI * k) / points;
      rows.push({ level: c, k, x: sig(Math.sqrt(20 * c) * Math.cos(t)), y: sig(Math.sqrt(c) * Math.sin(t)) });
    }
  }
  return rows;
}

const axis = (field: 'x' | 'y') => ({
  field,
  type: 'quantitative',
  scale: { domain: [-FRAME, FRAME], nice: false },
  axis: { title: field, values: [-10, -5, 0, 5, 10], grid: false },
});

function panel(name: string, path: PathsSeries['paths'][string], minimum: [number, number]): Json {
  const points = path.x.map((x, i) => ({ step: i, x: sig(x, 5), y: sig(path.y[i]!, 5) }));
  return {
    title: { text: `${label(name)} (lr ${path.lr})`, fontSize: 13 },
    width: PANEL,
    height: PANEL,
    layer: [
      {
        data: { name: 'contours' }, // one copy in `datasets`, shared by every panel
        mark: { type: 'line', clip: true, strokeWidth: 1 },
        encoding: {
          x: axis('x'),
          y: axis('y'),
          order: { field: 'k', type: 'quantitative' },
          detail: { field: 'level', type: 'nominal' },
          color: { field: 'level', type: 'quantitative', scale: { scheme: 'viridis', domain: [0, 7] }, legend: null },
        },
      },
      {
        data: { values: points },
        mark: { type: 'line', clip: true, color: 'red', strokeWidth: 1.2, point: { color: 'red', size: 18, filled: true } },
        encoding: { x: axis('x'), y: axis('y'), order: { field: 'step', type: 'quantitative' } },
      },
      {
        data: { values: [{ x: minimum[0], y: minimum[1] }] },
        mark: { type: 'point', shape: 'cross', size: 110, filled: true, color: '#1f77b4', opacity: 1 },
        encoding: { x: axis('x'), y: axis('y') },
      },
    ],
  };
}

export function pathFigures(result: TypedResult<PathsConfig, PathsSeries, PathsSummary>): Figure[] {
  // The walks have no randomness: every seed draws the same paths, so the first run is drawn.
  const series = result.runs[0]!.series;
  const minimum = series.minimum;
  const panels = Object.entries(series.paths).map(([name, p]) => panel(name, p, minimum));
  const first = Object.values(series.paths)[0];
  const steps = (first?.x.length ?? 1) - 1;
  const start = first ? `(${first.x[0]}, ${first.y[0]})` : '?';
  const spec = {
    $schema: SCHEMA_URL,
    title: {
      text: 'S1 Optimizer paths on f(x, y) = x²/20 + y²',
      subtitle: `${steps} steps from ${start}; contours at f = ${CONTOUR_LEVELS.join(', ')}; ${provenance(result, 'first')}`,
    },
    datasets: { contours: contourRows() },
    columns: panels.length > 4 ? 3 : 2,
    concat: panels,
    spacing: 24,
    config: CONFIG,
  };
  return [{ name: result.study, caption: 'One panel per optimizer: contour lines of f, the path (red), the minimum (+).', spec: spec as unknown as TopLevelSpec }];
}
