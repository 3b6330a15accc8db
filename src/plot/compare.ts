/**
 * Runs of one study side by side: each run's curves (the study's `curves`) overlaid in one
 * figure, a panel per curve panel the runs share, colour per line, dash per run; runs are
 * labelled by what differs between them (a setting, the seed, or the file).
 */
import type { TopLevelSpec } from 'vega-lite';
import { configDiff } from '../config.js';
import type { StudyResult } from '../results/schema.js';
import type { AnyStudy, CurvePanel } from '../study.js';
import { typedResult } from '../study.js';
import { CONFIG, PALETTE, SCHEMA_URL, sig, type Json } from './common.js';
import type { Figure } from './render.js';

export interface ComparedRun {
  /** Where it was read from. */
  file: string;
  result: StudyResult;
}

const DASHES = [[1, 0], [6, 3], [2, 2], [8, 3, 2, 3], [1, 3]];

/**
 * The settings in which the runs differ, as "path": value per run; empty when they share
 * their config (then the seed or the profile tells them apart).
 */
export function differences(runs: ComparedRun[]): Record<string, unknown[]> {
  const paths = new Set<string>();
  for (const r of runs.slice(1)) for (const p of Object.keys(configDiff(runs[0]!.result.config, r.result.config))) paths.add(p);
  const valueAt = (config: unknown, path: string): unknown =>
    path.split('.').reduce<unknown>((node, k) => (node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[k] : undefined), config);
  return Object.fromEntries([...paths].sort().map((p) => [p, runs.map((r) => valueAt(r.result.config, p) ?? null)]));
}

/** A label per run that says what sets it apart. */
export function runLabels(runs: ComparedRun[]): string[] {
  const diff = differences(runs);
  const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
  let labels = runs.map((_, i) => Object.entries(diff).map(([p, vs]) => `${p}=${show(vs[i])}`).join(', '));
  const distinct = (ls: string[]) => new Set(ls).size === ls.length && ls.every((l) => l !== '');
  if (!distinct(labels)) labels = runs.map((r, i) => [labels[i], `seeds ${r.result.seeds.join(',')}`, r.result.profile].filter(Boolean).join(', '));
  if (!distinct(labels)) labels = runs.map((r) => r.file);
  return labels;
}

/** Each run's curves (first seed), with the panels every run has. */
export function comparedCurves(study: AnyStudy, runs: ComparedRun[]): { panels: string[]; curves: CurvePanel[][] } {
  const curves = runs.map((r) => {
    const typed = typedResult(study, r.result);
    return study.curves(typed.runs[0]!, typed.config);
  });
  const panels = curves[0]!.map((p) => p.panel).filter((name) => curves.every((c) => c.some((p) => p.panel === name)));
  return { panels, curves };
}

export function compareFigure(study: AnyStudy, runs: ComparedRun[], name: string): Figure {
  const labels = runLabels(runs);
  const { panels, curves } = comparedCurves(study, runs);
  const rows: Json[] = [];
  const lineNames: string[] = [];
  curves.forEach((cs, k) => {
    for (const panel of cs.filter((p) => panels.includes(p.panel))) {
      for (const line of panel.lines) {
        if (!lineNames.includes(line.name)) lineNames.push(line.name);
        line.y.forEach((y, i) => rows.push({ panel: panel.panel, line: line.name, run: labels[k], x: sig(line.x?.[i] ?? i, 5), y: sig(y) }));
      }
    }
  });
  const axes = curves[0]!.find((p) => p.panel === panels[0]);
  const yDomain = axes?.yDomain;
  const spec = {
    $schema: SCHEMA_URL,
    title: { text: `${study.id} ${study.name}: ${runs.length} runs compared`, subtitle: labels.map((l, i) => `${['solid', 'dashed', 'dotted', 'dash-dot', 'sparse'][i % 5]}: ${l}`) },
    data: { values: rows },
    facet: { field: 'panel', type: 'nominal', sort: panels, title: null, header: { labelFontSize: 12 } },
    columns: Math.min(3, panels.length),
    spec: {
      width: panels.length === 1 ? 560 : 300,
      height: panels.length === 1 ? 340 : 200,
      mark: { type: 'line', strokeWidth: 1.4, clip: true },
      encoding: {
        x: { field: 'x', type: 'quantitative', title: axes?.x ?? 'x', scale: { nice: false, zero: false } },
        y: { field: 'y', type: 'quantitative', title: axes?.y ?? 'y', scale: yDomain ? { domain: yDomain, nice: false } : { zero: false } },
        color: { field: 'line', type: 'nominal', title: null, sort: lineNames, scale: { domain: lineNames, range: lineNames.map((_, i) => PALETTE[i % PALETTE.length]!) } },
        strokeDash: { field: 'run', type: 'nominal', title: null, sort: labels, scale: { domain: labels, range: labels.map((_, i) => DASHES[i % DASHES.length]!) } },
        detail: { field: 'run', type: 'nominal' },
      },
    },
    resolve: { scale: { x: 'independent', y: 'independent' } },
    spacing: { row: 14, column: 18 },
    config: { ...CONFIG, legend: { ...(CONFIG.legend as Json), orient: 'top', symbolStrokeWidth: 2, symbolSize: 300 } },
  };
  return { name, caption: `${study.id} ${study.name}: ${labels.join(' vs ')}`, spec: spec as unknown as TopLevelSpec };
}
