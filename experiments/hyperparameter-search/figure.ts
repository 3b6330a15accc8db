/**
 * S7 figures. The lecture's: the 20 best trials by final validation accuracy in a 4x5 grid,
 * validation solid and train dashed, y from 0 to 1, each titled with its rank, lr and decay.
 * Ours beside it: every trial's final validation accuracy over (log10 lr, log10 decay), each
 * stage's sampling range drawn as a box, so the narrowing shows.
 */
import type { TopLevelSpec } from 'vega-lite';
import { CONFIG, SCHEMA_URL, provenance, sci, sig, type Json } from '../../src/plot/common.js';
import type { Figure } from '../../src/plot/render.js';
import type { TypedResult } from '../../src/study.js';
import type { BorderEvent, HyperparameterSearchConfig, SearchSeries, SearchSummary, TrialSeries } from './study.js';

type SearchResult = TypedResult<HyperparameterSearchConfig, SearchSeries, SearchSummary>;
type Series = SearchSeries;

const TOP = 20;

const finalVal = (t: TrialSeries): number | null => (t.diverged ? null : (t.val[t.val.length - 1] ?? null));

export function topRows(series: Series, top = TOP): Json[] {
  const rows: Json[] = [];
  series.ranking.slice(0, top).forEach((index, r) => {
    const t = series.trials[index]!;
    const v = finalVal(t);
    const stage = series.stages.length > 1 ? ` (stage ${t.stage})` : '';
    const title = `Best-${r + 1}${stage}: val ${v === null ? 'diverged' : v.toFixed(2)}\nlr ${sci(t.lr)}, decay ${sci(t.decay)}`;
    for (const [set, values] of [['validation', t.val], ['train', t.train]] as const) {
      values.forEach((a, epoch) => rows.push({ rank: r + 1, title, set, epoch, accuracy: sig(a, 4) }));
    }
  });
  return rows;
}

function topFigure(result: SearchResult, series: Series): Figure {
  const rows = topRows(series);
  const shown = new Set(rows.map((r) => r.rank)).size;
  const order = [...new Set(rows.map((r) => r.title as string))];
  const sets = ['validation', 'train'];
  const epochs = Math.max(...rows.map((r) => r.epoch as number)) + 1;
  const cfg = result.config;
  const spec = {
    $schema: SCHEMA_URL,
    title: {
      text: `S7 Hyperparameter search: the ${shown} best trials by final validation accuracy`,
      subtitle: `${cfg.trials} trials per stage x ${cfg.stages} stage(s), ${epochs} epochs each, ranked over all stages; ${provenance(result, 'first')}`,
    },
    data: { values: rows },
    facet: {
      field: 'title',
      type: 'nominal',
      sort: order,
      title: null,
      header: { labelExpr: "split(datum.value, '\\n')", labelFontSize: 10.5, labelLineHeight: 13 },
    },
    columns: 5,
    spec: {
      width: 140,
      height: 90,
      mark: { type: 'line', strokeWidth: 1.4 },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: 'epochs', scale: { domain: [0, epochs - 1], nice: false }, axis: { tickCount: 3 } },
        y: { field: 'accuracy', type: 'quantitative', title: 'accuracy', scale: { domain: [0, 1] }, axis: { tickCount: 3 } },
        color: { field: 'set', type: 'nominal', title: null, scale: { domain: sets, range: ['#1f77b4', '#ff7f0e'] } },
        strokeDash: { field: 'set', type: 'nominal', title: null, scale: { domain: sets, range: [[1, 0], [5, 3]] } },
      },
    },
    spacing: { row: 10, column: 10 },
    config: { ...CONFIG, legend: { ...(CONFIG.legend as Json), orient: 'top', symbolStrokeWidth: 2, symbolSize: 300 } },
  };
  return {
    name: `${result.study}-top20`,
    caption: `The ${shown} best trials by final validation accuracy: validation solid, train dashed (the lecture's figure).`,
    spec: spec as unknown as TopLevelSpec,
  };
}

/** The border rule's firings as one subtitle line (none: the line says so). */
function bordersLine(config: Partial<Pick<HyperparameterSearchConfig, 'border'>>, borders: BorderEvent[]): string {
  if (!config.border) return 'border rule: none (a run made before the rule)';
  if (borders.length === 0) return `border rule: no stage's best lay within ${config.border.zoneShare} of its range of an edge`;
  return `border rule: ${borders.map((b) => `stage ${b.afterStage}'s best ${b.hyperparameter} ${sci(b.best)} on the ${b.side} edge of ${sci(b.stageRange[0])}..${sci(b.stageRange[1])}, so stage ${b.afterStage + 1} reached to ${sci(b.side === 'high' ? b.nextRange[1] : b.nextRange[0])}`).join('; ')}`;
}

function scatterFigure(result: SearchResult, series: Series, borders: BorderEvent[]): Figure {
  const points = series.trials.map((t) => {
    const v = finalVal(t);
    return { stage: `stage ${t.stage}`, logLr: sig(Math.log10(t.lr), 5), logDecay: sig(Math.log10(t.decay), 5), val: v === null ? null : sig(v, 4), diverged: v === null };
  });
  const boxes = series.stages.map((s) => ({
    stage: `stage ${s.stage}`,
    x: Math.log10(s.lrRange[0]),
    x2: Math.log10(s.lrRange[1]),
    y: Math.log10(s.decayRange[0]),
    y2: Math.log10(s.decayRange[1]),
  }));
  const stages = boxes.map((b) => b.stage);
  const ranges = series.stages.map((s) => `stage ${s.stage}: lr ${sci(s.lrRange[0])}..${sci(s.lrRange[1])}, decay ${sci(s.decayRange[0])}..${sci(s.decayRange[1])}`).join('; ');
  // A margin around the widest range, so points on its edge and the box labels stay in the frame.
  const PAD = 0.15;
  const xDomain = [Math.min(...boxes.map((b) => b.x)) - PAD, Math.max(...boxes.map((b) => b.x2)) + PAD];
  const yDomain = [Math.min(...boxes.map((b) => b.y)) - PAD, Math.max(...boxes.map((b) => b.y2)) + PAD];
  const x = { type: 'quantitative', title: 'log10 learning rate', scale: { domain: xDomain, nice: false }, axis: { tickMinStep: 1 } };
  const y = { type: 'quantitative', title: 'log10 weight decay', scale: { domain: yDomain, nice: false }, axis: { tickMinStep: 1 } };
  const shape = { field: 'stage', type: 'nominal', title: 'stage', scale: { domain: stages, range: ['circle', 'triangle-up', 'diamond', 'square'] } };
  const spec = {
    $schema: SCHEMA_URL,
    title: {
      text: 'S7 Final validation accuracy over the sampled (lr, weight decay)',
      subtitle: [
        "every trial; dashed boxes: the stages' sampling ranges; red +: diverged",
        ranges,
        bordersLine(result.config, borders),
        provenance(result, 'first'),
      ],
    },
    width: 560,
    height: 360,
    layer: [
      {
        data: { values: boxes },
        mark: { type: 'rect', fill: null, stroke: '#666', strokeDash: [4, 3], strokeWidth: 1 },
        encoding: { x: { field: 'x', ...x }, x2: { field: 'x2' }, y: { field: 'y', ...y }, y2: { field: 'y2' } },
      },
      {
        data: { values: points.filter((p) => !p.diverged) },
        mark: { type: 'point', filled: true, size: 46, opacity: 0.9, stroke: '#333', strokeWidth: 0.4 },
        encoding: {
          x: { field: 'logLr', ...x },
          y: { field: 'logDecay', ...y },
          color: { field: 'val', type: 'quantitative', title: 'final val acc', scale: { scheme: 'viridis', domain: [0, 1] } },
          shape,
        },
      },
      {
        data: { values: points.filter((p) => p.diverged).map((p) => ({ ...p, label: 'diverged' })) },
        mark: { type: 'point', shape: 'cross', size: 50, color: '#d62728', filled: true },
        encoding: { x: { field: 'logLr', ...x }, y: { field: 'logDecay', ...y } },
      },
    ],
    config: CONFIG,
  };
  return {
    name: `${result.study}-scatter`,
    caption: 'Final validation accuracy of every trial over log10 lr and log10 decay; dashed boxes are the stages\' sampling ranges, red + marks diverged trials.',
    spec: spec as unknown as TopLevelSpec,
  };
}

export function searchFigures(result: SearchResult): Figure[] {
  // Each seed runs its own search (rankings cannot be averaged): the first seed's is drawn.
  const run = result.runs[0]!;
  // Results made before the border rule have no record of it.
  return [topFigure(result, run.series), scatterFigure(result, run.series, run.summary.borders ?? [])];
}
