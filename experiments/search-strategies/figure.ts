/**
 * S11 figures: the classic picture of grid against random search (the trials over the two
 * axes, each axis's marginal beside it), the best so far after each trial for both, and the
 * histograms of uniform against log-scale draws.
 */
import type { TopLevelSpec } from 'vega-lite';
import { CONFIG, SCHEMA_URL, provenance, sig, type Json } from '../../src/plot/common.js';
import type { Figure } from '../../src/plot/render.js';
import type { TypedResult } from '../../src/study.js';
import { STRATEGIES, bestSoFar, type FourDTrial, type Histogram, type SearchStrategiesConfig, type StrategiesSeries, type StrategiesSummary, type Strategy } from './study.js';

type StrategiesResult = TypedResult<SearchStrategiesConfig, StrategiesSeries, StrategiesSummary>;

const COLOR: Record<Strategy, string> = { grid: '#d62728', random: '#1f77b4' };
/** A function, not a constant: study.ts imports this file, so STRATEGIES is not set yet when it loads. */
const colorScale = () => ({ domain: STRATEGIES, range: STRATEGIES.map((k) => COLOR[k]) });
const MAIN = 250;
const MARGIN = 90;

/** One strategy's block: the trials over (log lr, log decay), lr's marginal above, decay's to the right. */
function block(strategy: Strategy, series: StrategiesSeries, cfg: SearchStrategiesConfig): Json {
  const trials = series.trials.filter((t) => t.strategy === strategy && t.rep === 0);
  const rows = trials.map((t) => ({ logLr: sig(Math.log10(t.lr), 5), logDecay: sig(Math.log10(t.decay), 5), val: t.val === null ? null : sig(t.val, 4) }));
  const lrDomain = cfg.lrRange.map(Math.log10);
  const decayDomain = cfg.decayRange.map(Math.log10);
  const x = { field: 'logLr', type: 'quantitative', title: 'log10 learning rate', scale: { domain: lrDomain, nice: false } };
  const y = { field: 'logDecay', type: 'quantitative', title: 'log10 weight decay', scale: { domain: decayDomain, nice: false } };
  const acc = { field: 'val', type: 'quantitative', scale: { domain: [0, 1] } };
  const point = { type: 'point', filled: true, size: 60, color: COLOR[strategy], opacity: 0.85 };
  const distinct = new Set(trials.map((t) => Math.round(Math.log10(t.lr) * 100))).size;
  return {
    title: { text: `${strategy}: ${trials.length} trials, ${distinct} distinct learning rates`, fontSize: 13 },
    vconcat: [
      {
        width: MAIN,
        height: MARGIN,
        data: { values: rows },
        mark: point,
        encoding: { x: { ...x, title: null, axis: { labels: false } }, y: { ...acc, title: 'final val acc' } },
      },
      {
        hconcat: [
          {
            width: MAIN,
            height: MAIN,
            data: { values: rows },
            mark: { ...point, size: 80, stroke: '#222', strokeWidth: 0.5 },
            encoding: { x, y, color: { ...acc, title: 'final val acc', scale: { scheme: 'viridis', domain: [0, 1] } } },
          },
          {
            width: MARGIN,
            height: MAIN,
            data: { values: rows },
            mark: point,
            encoding: { y: { ...y, title: null, axis: { labels: false } }, x: { ...acc, title: 'final val acc' } },
          },
        ],
      },
    ],
  };
}

function pictureFigure(result: StrategiesResult, series: StrategiesSeries): Figure {
  const cfg = result.config;
  const spec = {
    $schema: SCHEMA_URL,
    title: {
      text: 'S11 Grid vs random search with the same budget (the first seed\'s searches)',
      subtitle: [
        `${cfg.gridPerAxis}x${cfg.gridPerAxis} grid (cell centres of the log ranges) vs ${cfg.gridPerAxis ** 2} random log-uniform draws; S7's net and data, ${cfg.epochs} epochs per trial`,
        'above each: final validation accuracy over log10 lr (the axis that matters); right: over log10 decay',
        provenance(result, 'first'),
      ],
    },
    hconcat: STRATEGIES.map((k) => block(k, series, cfg)),
    spacing: 30,
    resolve: { scale: { color: 'shared' } },
    config: CONFIG,
  };
  return {
    name: `${result.study}-grid-vs-random`,
    caption: "Grid and random trials over (log10 lr, log10 decay), colored by final validation accuracy, with each axis's marginal: the grid tries 4 learning rates, random search 16.",
    spec: spec as unknown as TopLevelSpec,
  };
}

function bestSoFarFigure(result: StrategiesResult, series: StrategiesSeries): Figure {
  const cfg = result.config;
  const rows: Json[] = [];
  const means: Json[] = [];
  for (const k of STRATEGIES) {
    const curves = Array.from({ length: cfg.repetitions }, (_, r) => bestSoFar(series.trials.filter((t) => t.strategy === k && t.rep === r).map((t) => t.val)));
    curves.forEach((c, r) => c.forEach((v, i) => rows.push({ strategy: k, rep: r, trial: i + 1, best: sig(v, 4) })));
    const n = curves[0]!.length;
    for (let i = 0; i < n; i++) {
      const vs = curves.map((c) => c[i]);
      if (vs.every((v): v is number => v !== null && v !== undefined)) means.push({ strategy: k, trial: i + 1, best: sig(vs.reduce((a, b) => a + b, 0) / vs.length, 4) });
    }
  }
  const x = { field: 'trial', type: 'quantitative', title: 'trial (run order; the grid in a shuffled order)', scale: { domain: [1, cfg.gridPerAxis ** 2], nice: false }, axis: { tickMinStep: 1 } };
  const y = { field: 'best', type: 'quantitative', title: 'best final validation accuracy so far', scale: { domain: [0, 1] } };
  const color = { field: 'strategy', type: 'nominal', title: null, scale: colorScale() };
  const spec = {
    $schema: SCHEMA_URL,
    title: {
      text: 'S11 Best validation accuracy so far, grid vs random',
      subtitle: [cfg.repetitions > 1 ? `thin: each of ${cfg.repetitions} seeds' search; thick: their mean` : 'one search per strategy', provenance(result, 'first')],
    },
    width: 520,
    height: 300,
    layer: [
      { data: { values: rows }, mark: { type: 'line', strokeWidth: 1, opacity: 0.35, interpolate: 'step-after' }, encoding: { x, y, color, detail: { field: 'rep', type: 'nominal' } } },
      { data: { values: means }, mark: { type: 'line', strokeWidth: 3, interpolate: 'step-after', point: true }, encoding: { x, y, color } },
    ],
    config: { ...CONFIG, legend: { ...(CONFIG.legend as Json), orient: 'bottom-right', symbolOpacity: 1, symbolType: 'stroke', symbolStrokeWidth: 3 } },
  };
  return {
    name: `${result.study}-best-so-far`,
    caption: 'Best final validation accuracy after each trial, grid (shuffled order) vs random, each seed thin and the mean thick.',
    spec: spec as unknown as TopLevelSpec,
  };
}

function histogramPanel(h: Histogram, title: string, xTitle: string, draws: number, labels: Record<string, string>): Json {
  const rows: Json[] = [];
  for (const [name, counts] of Object.entries(h.counts)) {
    counts.forEach((c, i) => rows.push({ sampler: labels[name] ?? name, x: h.edges[i], x2: h.edges[i + 1], share: sig(c / draws, 4) }));
  }
  const domain = Object.keys(h.counts).map((k) => labels[k] ?? k);
  return {
    title: { text: title, fontSize: 13 },
    width: 330,
    height: 240,
    data: { values: rows },
    mark: { type: 'bar', opacity: 0.55, binSpacing: 0 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: xTitle, scale: { domain: [h.edges[0], h.edges[h.edges.length - 1]], nice: false } },
      x2: { field: 'x2' },
      y: { field: 'share', type: 'quantitative', title: 'share of the draws', stack: null },
      y2: { datum: 0 },
      color: { field: 'sampler', type: 'nominal', title: null, scale: { domain, range: ['#ff7f0e', '#1f77b4'] } },
    },
  };
}

function samplingFigure(result: StrategiesResult, series: StrategiesSeries, summary: StrategiesSummary): Figure {
  const s = summary.sampling;
  const p = (x: number) => `${(100 * x).toFixed(1)}%`;
  const spec = {
    $schema: SCHEMA_URL,
    title: {
      text: `S11 Sampling scales: ${s.draws} draws each, uniform vs log`,
      subtitle: [
        `rate on 1e-4..1: uniform puts ${p(s.rateUniform.observed)} in 0.1..1, the log scale ${p(s.rateLog.observed)}; beta on 0.9..0.999: uniform puts ${p(s.betaUniform.observed)} at 0.99+ (windows of 100+ steps), log10(1-beta) ${p(s.betaLog.observed)}`,
        provenance(result, 'first'),
      ],
    },
    hconcat: [
      histogramPanel(series.histograms.rate, 'a rate on 1e-4..1', 'log10 of the drawn rate', s.draws, { uniform: 'uniform in the rate', log: 'uniform in log10(rate)' }),
      histogramPanel(series.histograms.beta, 'an averaging rate beta on 0.9..0.999', 'log10 of the window 1/(1-beta) (steps)', s.draws, { uniform: 'uniform in beta', log: 'uniform in log10(1-beta)' }),
    ],
    resolve: { scale: { color: 'independent' } },
    spacing: 30,
    config: { ...CONFIG, legend: { ...(CONFIG.legend as Json), orient: 'top' } },
  };
  return {
    name: `${result.study}-sampling`,
    caption: 'Histograms of 10,000 draws: a rate drawn uniform vs on a log scale (log10 axis), and beta drawn uniform vs through log10(1-beta) (axis: log10 of the averaging window).',
    spec: spec as unknown as TopLevelSpec,
  };
}

const SEARCH_COLOR = { grid: COLOR.grid, random: COLOR.random, TPE: '#2ca02c' };

/** Best so far against trials for grid (part (a)), random and TPE (part (d)): each seed thin, the mean thick. */
function tpeFigure(result: StrategiesResult, series: StrategiesSeries, summary: StrategiesSummary): Figure {
  const cfg = result.config;
  const rows: Json[] = [];
  const means: Json[] = [];
  const searches: [keyof typeof SEARCH_COLOR, (r: number) => (number | null)[]][] = [
    ['grid', (r) => series.trials.filter((t) => t.strategy === 'grid' && t.rep === r).map((t) => t.val)],
    ['random', (r) => series.bayes.filter((t) => t.strategy === 'random' && t.rep === r).map((t) => t.val)],
    ['TPE', (r) => series.bayes.filter((t) => t.strategy === 'tpe' && t.rep === r).map((t) => t.val)],
  ];
  for (const [k, vals] of searches) {
    const curves = Array.from({ length: cfg.repetitions }, (_, r) => bestSoFar(vals(r)));
    curves.forEach((c, r) => c.forEach((v, i) => rows.push({ search: k, rep: r, trial: i + 1, best: sig(v, 4) })));
    for (let i = 0; i < (curves[0]?.length ?? 0); i++) {
      const vs = curves.map((c) => c[i]);
      if (vs.every((v): v is number => v !== null && v !== undefined)) means.push({ search: k, trial: i + 1, best: sig(vs.reduce((a, b) => a + b, 0) / vs.length, 4) });
    }
  }
  const maxBudget = cfg.budgets[cfg.budgets.length - 1]!;
  const x = { field: 'trial', type: 'quantitative', title: 'trial (run order)', scale: { domain: [1, Math.max(maxBudget, cfg.gridPerAxis ** 2)], nice: false }, axis: { tickMinStep: 1 } };
  const y = { field: 'best', type: 'quantitative', title: 'best final validation accuracy so far', scale: { domain: [0, 1] } };
  const keys = Object.keys(SEARCH_COLOR);
  const color = { field: 'search', type: 'nominal', title: null, scale: { domain: keys, range: keys.map((k) => SEARCH_COLOR[k as keyof typeof SEARCH_COLOR]) } };
  const at = summary.budgets.map((b) => `budget ${b.budget}: random ${b.randomMean ?? '-'}, TPE ${b.tpeMean ?? '-'} (mean best)`).join('; ');
  const spec = {
    $schema: SCHEMA_URL,
    title: {
      text: 'S11 Best validation accuracy so far: grid, random and TPE',
      subtitle: [
        `TPE: n0 ${cfg.tpe.n0} random trials (random search's own), then gamma ${cfg.tpe.gamma}, ${cfg.tpe.candidates} candidates, prior weight ${cfg.tpe.priorWeight}; ${at}`,
        `${cfg.repetitions > 1 ? `thin: each of ${cfg.repetitions} seeds' search; thick: their mean` : 'one search each'}; TPE dashed (until n0 it is random search itself); grey rules: the budgets compared`,
        provenance(result, 'first'),
      ],
    },
    width: 560,
    height: 320,
    layer: [
      { data: { values: cfg.budgets.map((b) => ({ b })) }, mark: { type: 'rule', strokeDash: [4, 4], color: '#888' }, encoding: { x: { field: 'b', type: 'quantitative' } } },
      { data: { values: rows }, mark: { type: 'line', strokeWidth: 1, opacity: 0.3, interpolate: 'step-after' }, encoding: { x, y, color, detail: { field: 'rep', type: 'nominal' } } },
      // TPE dashed: until n0 it is random search itself and lies on it.
      { data: { values: means }, mark: { type: 'line', strokeWidth: 3, interpolate: 'step-after' }, encoding: { x, y, color, strokeDash: { field: 'search', type: 'nominal', scale: { domain: keys, range: [[1, 0], [1, 0], [7, 4]] }, legend: null } } },
    ],
    config: { ...CONFIG, legend: { ...(CONFIG.legend as Json), orient: 'bottom-right', symbolOpacity: 1, symbolType: 'stroke', symbolStrokeWidth: 3 } },
  };
  return {
    name: `${result.study}-tpe-best-so-far`,
    caption: "Best final validation accuracy after each trial: the grid of part (a), random search continued to the largest budget, and TPE (sharing random's first n0 trials), each seed thin and the mean thick.",
    spec: spec as unknown as TopLevelSpec,
  };
}

const FOUR_FIELDS: { field: keyof FourDTrial; title: string; f: (x: number) => number; range: (c: SearchStrategiesConfig) => [number, number] }[] = [
  { field: 'lr', title: 'log10 lr', f: Math.log10, range: (c) => c.lrRange },
  { field: 'decay', title: 'log10 decay', f: Math.log10, range: (c) => c.decayRange },
  { field: 'width', title: 'log2 width', f: Math.log2, range: (c) => c.fourD.widthRange },
  { field: 'batchSize', title: 'log2 batch', f: Math.log2, range: (c) => c.fourD.batchRange },
];

/** The 4-D trials of every seed as a scatter matrix: off the diagonal two axes, colored by final validation accuracy; on it, accuracy over the axis. */
function fourDFigure(result: StrategiesResult, series: StrategiesSeries, summary: StrategiesSummary): Figure {
  const cfg = result.config;
  const rows = series.fourD.map((t) => {
    const r: Json = { strategy: t.strategy, rep: t.rep, val: t.val === null ? null : sig(t.val, 4) };
    for (const a of FOUR_FIELDS) r[a.field] = sig(a.f(t[a.field] as number), 5);
    return r;
  });
  const SIDE = 125;
  const axisOf = (a: (typeof FOUR_FIELDS)[number], show: boolean) => ({ field: a.field, type: 'quantitative', title: show ? a.title : null, scale: { domain: a.range(cfg).map(a.f), nice: false }, axis: show ? {} : { labels: false, ticks: false } });
  const acc = { field: 'val', type: 'quantitative', title: 'final val acc', scale: { scheme: 'viridis', domain: [0, 1] } };
  const shape = { field: 'strategy', type: 'nominal', title: null, scale: { domain: STRATEGIES, range: ['square', 'circle'] } };
  const matrix = FOUR_FIELDS.map((ay, i) => ({
    hconcat: FOUR_FIELDS.map((ax, j) => ({
      width: SIDE,
      height: SIDE,
      data: { values: rows },
      mark: { type: 'point', filled: true, size: 45, opacity: 0.85, stroke: '#222', strokeWidth: 0.3 },
      encoding:
        i === j
          ? { x: axisOf(ax, i === FOUR_FIELDS.length - 1), y: { ...acc, title: ay.title + ': val acc', scale: { domain: [0, 1] } }, color: acc, shape }
          : { x: axisOf(ax, i === FOUR_FIELDS.length - 1), y: axisOf(ay, j === 0), color: acc, shape },
    })),
  }));
  const f = summary.fourD;
  const n = cfg.fourD.perAxis ** 4;
  const spec = {
    $schema: SCHEMA_URL,
    title: {
      text: `S11 Four hyperparameters: a ${cfg.fourD.perAxis}^4 grid vs ${n} random trials`,
      subtitle: [
        `every seed's trials (squares: grid, the same points each seed; circles: random); mean best final validation accuracy: grid ${f.grid.meanBestVal ?? '-'}, random ${f.random.meanBestVal ?? '-'}`,
        `off the diagonal: two axes, colored by final validation accuracy; on it: accuracy over that axis. ${cfg.fourD.epochs} epochs per trial`,
        provenance(result, 'first'),
      ],
    },
    vconcat: matrix,
    spacing: 8,
    resolve: { scale: { color: 'shared', shape: 'shared' } },
    config: CONFIG,
  };
  return {
    name: `${result.study}-4d-scatter`,
    caption: "The 4-D search's trials (lr, decay, hidden width, batch size on log scales) as a scatter matrix, colored by final validation accuracy: the grid tries 2 values of each axis, random search 16.",
    spec: spec as unknown as TopLevelSpec,
  };
}

export function strategyFigures(result: StrategiesResult): Figure[] {
  // Each seed of the command line is a whole study (its own repetitions): the first is drawn.
  const run = result.runs[0]!;
  const out = [pictureFigure(result, run.series), bestSoFarFigure(result, run.series), samplingFigure(result, run.series, run.summary)];
  // Parts (d) and (e), when the result has them (results made before them do not).
  if (run.series.bayes && run.summary.budgets) out.push(tpeFigure(result, run.series, run.summary));
  if (run.series.fourD && run.summary.fourD) out.push(fourDFigure(result, run.series, run.summary));
  return out;
}
