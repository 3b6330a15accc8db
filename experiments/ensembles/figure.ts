/**
 * S12 figures: (1) a dot plot of the test accuracy of every single model beside the ensembles
 * built from them, one row per way of building an ensemble; (2) ensemble test accuracy against
 * the number of members, 1..5 (init: every subset of that size, mean with min-max bars).
 * With several seeds, the first seed is drawn.
 */
import type { TopLevelSpec } from 'vega-lite';
import { CONFIG, PALETTE, SCHEMA_URL, provenance, type Json } from '../../src/plot/common.js';
import type { Figure } from '../../src/plot/render.js';
import type { TypedResult } from '../../src/study.js';
import type { DistillSummary, EnsemblesConfig, EnsemblesSeries } from './study.js';

type EnsemblesResult = TypedResult<EnsemblesConfig, EnsemblesSeries, unknown>;
type RunSummary = { distill?: DistillSummary };

const KINDS = ['single model', 'ensemble (averaged softmax)', 'parameter average'];
const KIND_COLOR = [PALETTE[7]!, PALETTE[3]!, PALETTE[0]!];
const KIND_SHAPE = ['circle', 'diamond', 'square'];

export function ensembleFigures(result: EnsemblesResult): Figure[] {
  const s = result.runs[0]!.series;
  const c = result.config;
  const groups = [`${c.members} inits`, `last ${c.checkpoints} checkpoints`, `lr search (top ${c.top})`];
  const dots: Json[] = [];
  const add = (group: string, kind: number, accuracy: number, what: string) => dots.push({ group, kind: KINDS[kind], accuracy, what });
  s.members.forEach((a, k) => add(groups[0]!, 0, a, `member ${k}`));
  add(groups[0]!, 1, s.bySize.init.at(-1)!.mean, `ensemble of ${c.members}`);
  s.checkpoints.forEach((ck) => add(groups[1]!, 0, ck.testAccuracy, `checkpoint after epoch ${ck.epoch}`));
  add(groups[1]!, 1, s.bySize.checkpoints.at(-1)!.mean, `ensemble of ${s.checkpoints.length}`);
  add(groups[1]!, 2, s.ema, `exponential average, decay ${c.emaDecay}`);
  s.trials.forEach((t, j) => add(groups[2]!, 0, t.testAccuracy, `lr ${t.lr} (val ${t.valAccuracy.toFixed(4)}${s.ranking.indexOf(j) < c.top ? `, top ${c.top}` : ''})`));
  add(groups[2]!, 1, s.bySize.search.at(-1)!.mean, `ensemble of the top ${c.top}`);
  const n = (v: number) => v.toLocaleString('en-US');
  const setting = `${c.hidden.length + 1}-layer ReLU/He net, ${n(c.trainSize)} images, batch ${c.batchSize}, ${c.epochs} epochs, SGD ${c.lr}; test accuracy on ${n(c.testSize)} test images`;
  // Rows with accuracies far below the rest (a diverged trial) would squash the axis: clip at the lowest member-like value minus a margin.
  const good = dots.map((d) => d.accuracy as number).filter((a) => a > 0.5);
  const lo = Math.max(0, Math.floor((Math.min(...good) - 0.005) * 100) / 100);
  const hi = Math.min(1, Math.ceil((Math.max(...good) + 0.002) * 100) / 100);
  const color = { field: 'kind', type: 'nominal', title: null, sort: KINDS, scale: { domain: KINDS, range: KIND_COLOR } };
  const shape = { field: 'kind', type: 'nominal', title: null, sort: KINDS, scale: { domain: KINDS, range: KIND_SHAPE } };
  // Both figures: a title, the setting and provenance lines, one data table, layers, the legend placed.
  const chart = (text: string, width: number, height: number, values: Json[], layer: Json[], legend: string) => ({
    $schema: SCHEMA_URL,
    title: { text, subtitle: [setting, provenance(result, 'first')] },
    width,
    height,
    data: { values },
    layer,
    config: { ...CONFIG, legend: { ...(CONFIG.legend as Json), orient: legend } },
  });
  const dotSpec = chart('S12 Ensembles: single models and the ensembles built from them', 560, 180, dots, [
      { mark: { type: 'rule', color: '#ddd' }, encoding: { y: { field: 'group', type: 'nominal', sort: groups, title: null } } },
      {
        mark: { type: 'point', filled: true, size: 90, opacity: 0.85, clip: true },
        encoding: {
          y: { field: 'group', type: 'nominal', sort: groups, title: null, axis: { labelFontSize: 12 } },
          x: { field: 'accuracy', type: 'quantitative', title: 'test accuracy', scale: { domain: [lo, hi], nice: false } },
          color,
          shape,
          tooltip: [{ field: 'what' }, { field: 'accuracy', format: '.4f' }],
        },
      },
    ], 'top');

  const sizeRows: Json[] = [];
  const curves: [string, EnsemblesSeries['bySize']['init']][] = [
    [`${c.members} inits (mean of every subset, min-max bar)`, s.bySize.init],
    [`checkpoints (the last k of one run)`, s.bySize.checkpoints],
    [`lr search (the top k by validation)`, s.bySize.search],
  ];
  for (const [curve, points] of curves) for (const p of points) sizeRows.push({ curve, size: p.size, accuracy: p.mean, min: p.min, max: p.max });
  const order = curves.map(([name]) => name);
  const sizeColor = { field: 'curve', type: 'nominal', title: null, sort: order, scale: { domain: order, range: [PALETTE[3]!, PALETTE[0]!, PALETTE[2]!] } };
  const x = { field: 'size', type: 'quantitative', title: 'members in the ensemble', axis: { tickMinStep: 1, format: 'd' }, scale: { domain: [0.8, Math.max(c.members, c.checkpoints, c.top) + 0.2], nice: false } };
  const y = { field: 'accuracy', type: 'quantitative', title: 'test accuracy', scale: { zero: false } };
  const sizeSpec = chart('S12 Ensembles: test accuracy against the number of members', 520, 300, sizeRows, [
    { mark: { type: 'line', point: { size: 50, filled: true }, strokeWidth: 1.6 }, encoding: { x, y, color: sizeColor } },
    { transform: [{ filter: 'datum.max > datum.min' }], mark: { type: 'rule', strokeWidth: 1.5 }, encoding: { x, y: { ...y, field: 'min' }, y2: { field: 'max' }, color: sizeColor } },
  ], 'bottom-right');
  const distill = distillFigure(result, setting);
  return [
    ...(distill ? [distill] : []),
    { name: result.study, caption: 'Test accuracy of each single model (grey) and of the ensembles built from them (red: averaged softmax; blue: the averaged parameters), one row per kind of ensemble.', spec: dotSpec as unknown as TopLevelSpec },
    { name: `${result.study}-size`, caption: 'Ensemble test accuracy against the number of members: init members (mean over every subset of that size, min-max bar), the last k checkpoints, the top k search trials.', spec: sizeSpec as unknown as TopLevelSpec },
  ];
}

/** Distillation: the members and their ensemble (the teacher) beside the two students, on one accuracy axis. */
function distillFigure(result: EnsemblesResult, setting: string): Figure | null {
  const run = result.runs[0]!;
  const s = run.series;
  const d = (run.summary as RunSummary).distill;
  if (!s.students || !d) return null;
  const c = result.config;
  const width = (h: number[]) => `${h.length} hidden x ${[...new Set(h)].join('/')}`;
  const rows = [
    `teacher: ${c.members} members (${width(c.hidden)})`,
    `teacher: their ensemble (averaged softmax)`,
    `student (${width(d.studentHidden)}): labels only`,
    `student: distilled (T ${d.temperature}, soft weight ${d.softWeight})`,
  ];
  const kinds = ['teacher', 'student'];
  const dots: Json[] = [
    ...s.members.map((a, k) => ({ row: rows[0], kind: kinds[0], accuracy: a, what: `member ${k}` })),
    { row: rows[1], kind: kinds[0], accuracy: d.ensemble, what: `ensemble of ${c.members}` },
    { row: rows[2], kind: kinds[1], accuracy: d.labelOnly, what: 'student, label-only loss' },
    { row: rows[3], kind: kinds[1], accuracy: d.distilled, what: 'student, distillation loss' },
  ];
  // Every point on the axis (four rows: a student that did not learn is worth seeing).
  const accs = dots.map((x) => x.accuracy as number);
  const lo = Math.max(0, Math.floor((Math.min(...accs) - 0.005) * 100) / 100);
  const hi = Math.min(1, Math.ceil((Math.max(...accs) + 0.002) * 100) / 100);
  const closed = d.gapClosed === null ? 'no gap' : `${(100 * d.gapClosed).toFixed(0)}% of the gap from the label-only student to the ensemble`;
  const spec = {
    $schema: SCHEMA_URL,
    title: {
      text: `S12 Distillation: the ${c.members}-net ensemble taught to a narrow student`,
      subtitle: [
        setting,
        `students: same init, batches and ${d.updates} updates; distilled loss ${d.softWeight} * T^2 * soft cross-entropy + ${roundTo(1 - d.softWeight)} * label cross-entropy; it closes ${closed}`,
        provenance(result, 'first'),
      ],
    },
    width: 560,
    height: 170,
    data: { values: dots },
    layer: [
      { mark: { type: 'rule', color: '#ddd' }, encoding: { y: { field: 'row', type: 'nominal', sort: rows, title: null } } },
      {
        mark: { type: 'point', filled: true, size: 90, opacity: 0.85, clip: true },
        encoding: {
          y: { field: 'row', type: 'nominal', sort: rows, title: null, axis: { labelFontSize: 12, labelLimit: 320 } },
          x: { field: 'accuracy', type: 'quantitative', title: 'test accuracy', scale: { domain: [lo, hi], nice: false } },
          color: { field: 'kind', type: 'nominal', title: null, sort: kinds, scale: { domain: kinds, range: [PALETTE[3]!, PALETTE[0]!] } },
          tooltip: [{ field: 'what' }, { field: 'accuracy', format: '.4f' }],
        },
      },
    ],
    config: { ...CONFIG, legend: { ...(CONFIG.legend as Json), orient: 'top' } },
  };
  return {
    name: `${result.study}-distill`,
    caption: 'Test accuracy of the ensemble\'s members and of the ensemble (the teacher), and of the narrow student trained on the labels alone and on the ensemble\'s softened probabilities (distilled).',
    spec: spec as unknown as TopLevelSpec,
  };
}

const roundTo = (v: number) => Math.round(v * 1000) / 1000;
