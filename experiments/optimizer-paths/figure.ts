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

/**
 * The saddle x^2/20 - y^2 at level c: hyperbolas x = +-sqrt(20c) cosh t, y = sqrt(c) sinh t
 * (c > 0), their transposes for c < 0, and the two asymptotes y = +-x / sqrt(20) at c = 0.
 */
export const SADDLE_LEVELS = [-6, -3, -1, -0.25, 0, 0.25, 1, 3, 6];
export function saddleContourRows(levels = SADDLE_LEVELS, points = 60): Json[] {
  const rows: Json[] = [];
  const reach = Math.acosh(FRAME * 2); // far enough to leave the frame on every branch
  levels.forEach((c) => {
    for (const sign of [-1, 1]) {
      for (let k = 0; k <= points; k++) {
        const t = -reach + (2 * reach * k) / points;
        const [x, y] =
          c > 0 ? [sign * Math.sqrt(20 * c) * Math.cosh(t), Math.sqrt(c) * Math.sinh(t)]
          : c < 0 ? [Math.sqrt(-20 * c) * Math.sinh(t), sign * Math.sqrt(-c) * Math.cosh(t)]
          : [t * 4, (sign * t * 4) / Math.sqrt(20)];
        rows.push({ level: c, branch: `${c}:${sign}`, k, x: sig(x), y: sig(y) });
      }
    }
  });
  return rows;
}

const PATH_COLOURS = ['red', 'black'];
const pointsOf = (path: { x: number[]; y: number[] }) => path.x.map((x, i) => ({ step: i, x: sig(x, 5), y: sig(path.y[i]!, 5) }));

/** A panel of several named paths over the contours of f (or of the saddle), each in its colour, with a legend. */
function pathsPanel(title: string, contours: 'contours' | 'saddleContours', paths: { name: string; x: number[]; y: number[] }[], point: [number, number]): Json {
  const rows = paths.flatMap((p) => pointsOf(p).map((r) => ({ ...r, path: p.name })));
  const saddle = contours === 'saddleContours';
  return {
    title: { text: title, fontSize: 13 },
    width: PANEL,
    height: PANEL,
    layer: [
      {
        data: { name: contours },
        mark: { type: 'line', clip: true, strokeWidth: 1 },
        encoding: {
          x: axis('x'),
          y: axis('y'),
          order: { field: 'k', type: 'quantitative' },
          detail: { field: saddle ? 'branch' : 'level', type: 'nominal' },
          color: { field: 'level', type: 'quantitative', scale: { scheme: 'viridis', domain: saddle ? [-6, 6] : [0, 7] }, legend: null },
        },
      },
      {
        data: { values: rows },
        mark: { type: 'line', clip: true, strokeWidth: 1.2 },
        encoding: {
          x: axis('x'),
          y: axis('y'),
          order: { field: 'step', type: 'quantitative' },
          stroke: { field: 'path', type: 'nominal', scale: { domain: paths.map((p) => p.name), range: PATH_COLOURS }, legend: { orient: 'bottom', title: null } },
        },
      },
      {
        data: { values: rows },
        mark: { type: 'point', clip: true, size: 14, filled: true, opacity: 1 },
        encoding: { x: axis('x'), y: axis('y'), fill: { field: 'path', type: 'nominal', scale: { domain: paths.map((p) => p.name), range: PATH_COLOURS }, legend: null } },
      },
      {
        data: { values: [{ x: point[0], y: point[1] }] },
        mark: { type: 'point', shape: 'cross', size: 110, filled: true, color: '#1f77b4', opacity: 1 },
        encoding: { x: axis('x'), y: axis('y') },
      },
    ],
  };
}

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
  if (series.newton) panels.push(pathsPanel(`Newton (${series.newton.x.length - 1} steps)`, 'contours', [{ name: 'Newton', ...series.newton }], minimum));
  if (series.sameRate) {
    const { lr, sgd, momentum } = series.sameRate;
    panels.push(pathsPanel(`SGD and Momentum, both lr ${lr}`, 'contours', [{ name: 'SGD', ...sgd }, { name: 'Momentum', ...momentum }], minimum));
  }
  if (series.saddle) {
    const { lr, newton, gd } = series.saddle;
    panels.push(pathsPanel('Saddle x²/20 − y²', 'saddleContours', [{ name: 'Newton', x: newton.x, y: newton.y }, { name: `gradient descent (lr ${lr})`, x: gd.x, y: gd.y }], [0, 0]));
  }
  const first = Object.values(series.paths)[0];
  const steps = (first?.x.length ?? 1) - 1;
  const start = first ? `(${first.x[0]}, ${first.y[0]})` : '?';
  const spec = {
    $schema: SCHEMA_URL,
    title: {
      text: 'S1 Optimizer paths on f(x, y) = x²/20 + y²',
      subtitle: `${steps} steps from ${start}; contours at f = ${CONTOUR_LEVELS.join(', ')}; ${provenance(result, 'first')}`,
    },
    datasets: { contours: contourRows(), ...(series.saddle ? { saddleContours: saddleContourRows() } : {}) },
    columns: panels.length > 4 ? 3 : 2,
    concat: panels,
    spacing: 24,
    // Each panel keeps its own colour scales: the saddle's levels run below zero, and the
    // two-path panels carry their own legend.
    resolve: { scale: { color: 'independent', stroke: 'independent', fill: 'independent' }, legend: { stroke: 'independent', fill: 'independent' } },
    config: CONFIG,
  };
  return [{ name: result.study, caption: 'One panel per optimizer: contour lines of f, the path (red), the minimum (+); then Newton\'s method, SGD and Momentum at one rate, and Newton and gradient descent on the saddle x²/20 − y² (+ at the saddle point).', spec: spec as unknown as TopLevelSpec }];
}
