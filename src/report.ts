/**
 * results/REPORT.md: every study's figure, its claims with their verdicts and the numbers, the
 * config, backend and wall time, generated from the result JSON files (never hand-edited).
 * The text depends only on the result files, so regenerating an unchanged folder changes nothing.
 */
import { formatDuration, formatNumbers, tally, tallyText } from './format.js';
import { mdCell, mdCode, mdFence, mdHref, mdLink, mdText } from './markdown.js';
import type { Claim, StudyResult } from './results/schema.js';

/** Which results a report covers: the lecture profile's, the quick profile's, or named runs. */
export const REPORT_KINDS = ['lecture', 'quick', 'runs'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

/** The kind of report a result belongs in. */
export const kindOf = (r: Pick<StudyResult, 'profile' | 'name'>): ReportKind => (r.name !== null ? 'runs' : r.profile);

export { formatValue } from './format.js';

export interface ReportStudy {
  name: string;
  id: string;
  title: string;
  description: string;
}

export interface ReportEntry {
  /** Result file name, relative to the report. */
  file: string;
  result: StudyResult;
  /** Figures drawn for it, paths relative to the report (PNG; SVG and spec when drawn) with a caption. */
  figures: { png: string; svg?: string; spec?: string; caption: string }[];
}

export interface ReportInput {
  kind: ReportKind;
  /** Every known study in lecture order (those without a result are listed as not run). */
  studies: ReportStudy[];
  entries: ReportEntry[];
  /** Files in the folder that were not read, with the reason. */
  skipped: { file: string; reason: string }[];
}

/**
 * A run's own work (ms): its seeds' wall time less the time spent waiting for worker processes
 * shared with other studies, plus its units' compute time. Files without it: the wall time.
 */
export function workMsOf(r: Pick<StudyResult, 'runs' | 'durationMs'>): number {
  const work = r.runs.map((run) => run.timings.workMs);
  return work.every((w) => typeof w === 'number') ? work.reduce((a, b) => a + b!, 0) : r.durationMs;
}

/** Markdown table cells: no pipe, no line break, no HTML (src/markdown.ts). */
const cell = mdCell;

function seedsText(r: StudyResult): string {
  return r.seeds.length === 1 ? `seed ${r.seeds[0]}` : `${r.seeds.length} seeds (${r.seeds.join(', ')}); claims hold only if they hold for every seed`;
}

/** Rounds every float in a JSON value to 4 significant digits (for the config/summary blocks). */
function rounded(v: unknown): unknown {
  if (typeof v === 'number') return Number.isInteger(v) || !Number.isFinite(v) ? v : Number(v.toPrecision(4));
  if (Array.isArray(v)) return v.map(rounded);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, rounded(x)]));
  return v;
}

/** JSON with short arrays of scalars kept on one line, so a config reads as a config. */
function prettyJson(v: unknown): string {
  return JSON.stringify(rounded(v), null, 2).replace(/\[\s*([^[\]{}]*?)\s*\]/g, (_m, inner: string) => `[${inner.split(/,\s*/).join(', ')}]`);
}

const SUMMARY_LIMIT = 8000;

function claimsTable(claims: Claim[]): string[] {
  if (claims.length === 0) return ['No claims were checked in this run.', ''];
  const lines = ['| verdict | lecture claim (as checked) | our numbers |', '|---|---|---|'];
  for (const c of claims) lines.push(`| ${c.verdict === 'FAILS' ? '**FAILS**' : c.verdict === 'inconclusive' ? '*inconclusive*' : 'holds'} | ${cell(c.text)} | ${cell(`${c.reason ? `${c.reason}. ` : ''}${formatNumbers(c.numbers)}`)} |`);
  return [...lines, ''];
}

/** A word as a POSIX shell reads it back: plain when it is safe, else single-quoted. */
const shellWord = (w: string): string => (/^[A-Za-z0-9_.,:/=+@%-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);

/** The command that makes this result again. */
function regenerate(r: StudyResult): string {
  const seeds = r.seeds.length > 1 ? ` --seed ${r.seeds[0]} --seeds ${r.seeds.length}` : r.seeds[0] !== 0 ? ` --seed ${r.seeds[0]}` : '';
  const sets = Object.entries(r.overrides).map(([k, [, v]]) => ` --set ${shellWord(`${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)}`);
  return `npm run experiment -- ${r.study}${r.profile === 'quick' ? ' --profile quick' : ''}${seeds}${sets.join('')}${r.name !== null ? ` --name ${r.name}` : ''}`;
}

/** Where the wall time is far from the run's own work (it shared workers with other studies), both. */
function timeNote(r: StudyResult): string {
  const work = workMsOf(r);
  return Math.abs(work - r.durationMs) > 0.2 * r.durationMs ? ` (work ${formatDuration(work)}: it shared the worker processes with other studies)` : '';
}

/** A study section's heading as text (escaped where it is written). */
function heading(study: ReportStudy, r: StudyResult): string {
  return `${study.id} ${study.name}: ${study.title}${r.name !== null ? ` (run ${r.name})` : ''}`;
}

function studySection(study: ReportStudy, entry: ReportEntry): string[] {
  const r = entry.result;
  const env = r.environment;
  const out: string[] = [`## ${mdText(heading(study, r))}`, '', mdText(study.description), ''];
  const changes = Object.entries(r.overrides).map(([k, [was, now]]) => `${mdCode(k)} ${mdText(JSON.stringify(was) ?? 'null')} → ${mdText(JSON.stringify(now) ?? 'null')}`);
  if (changes.length > 0) out.push(`**Changed from the ${r.profile} profile:** ${changes.join('; ')}.`, '');
  if (env.gitDirty) out.push('**The working tree had uncommitted changes when this ran**: the code is not exactly the commit named below.', '');
  for (const f of entry.figures) {
    const links = [f.svg ? `[SVG](${mdHref(f.svg)})` : null, f.spec ? `[Vega-Lite spec](${mdHref(f.spec)})` : null].filter((x) => x !== null);
    out.push(`![${mdText(`${study.id} ${f.caption}`)}](${mdHref(f.png)})`, '', `*${mdText(f.caption)}*${links.length ? ` (${links.join(', ')})` : ''}`, '');
  }
  if (entry.figures.length === 0) out.push('*(no figure drawn for this study)*', '');
  const t = tally(r.claims);
  const undecided = t.inconclusive ? `, ${t.inconclusive} inconclusive` : '';
  out.push(`**Claims: ${t.holds} of ${t.total} hold${undecided}.**`, '', ...claimsTable(r.claims));
  out.push(
    `**Run:** ${mdText(`${r.profile} profile, ${seedsText(r)}; backend ${env.backend} (tfjs ${env.tfjsVersion}, Node ${env.nodeVersion}, ` +
      `${env.platform}, ${env.cpuCount} x ${env.cpu}); commit ${env.gitCommit ? env.gitCommit.slice(0, 10) : 'unknown'}; ` +
      `started ${r.startedAt}; wall time ${formatDuration(r.durationMs)}${timeNote(r)}.`)} Result file: ${mdLink(entry.file, entry.file)}. ` +
      `Regenerate: ${mdCode(regenerate(r))} then \`npm run figures\`.`,
    '',
  );
  const config = prettyJson(r.config);
  out.push('<details><summary>Config</summary>', '', `${mdFence(config)}json`, config, mdFence(config), '', '</details>', '');
  const summary = prettyJson(r.summary);
  out.push('<details><summary>Summary</summary>', '');
  if (summary.length <= SUMMARY_LIMIT) out.push(`${mdFence(summary)}json`, summary, mdFence(summary));
  else out.push(`The summary is ${Math.round(summary.length / 1000)} kB: see \`summary\` in ${mdLink(entry.file, entry.file)}.`);
  out.push('', '</details>', '');
  return out;
}

const KIND_TEXT: Record<ReportKind, { title: string; files: string }> = {
  lecture: { title: '', files: 'lecture-scale' },
  quick: { title: ' (quick profile)', files: 'quick-profile' },
  runs: { title: ' (named runs)', files: 'named-run' },
};

export function buildReport(input: ReportInput): string {
  const byStudy = new Map<string, ReportEntry[]>();
  for (const e of input.entries) byStudy.set(e.result.study, [...(byStudy.get(e.result.study) ?? []), e]);
  const quick = input.kind === 'quick';
  const out: string[] = [
    `# Results${KIND_TEXT[input.kind].title}`,
    '',
    `Generated by \`npm run figures\` from the ${KIND_TEXT[input.kind].files} result files in this folder; do not edit by hand. ` +
      'Each study: its figure, the lecture claims with their verdicts (holds, FAILS, or inconclusive when the run cannot decide, with the reason) and the numbers behind them, and how it was run. ' +
      'Timings come from a shared 2-core machine unless the run says otherwise.',
    '',
    '| study | claims holding | seeds | backend | work time |',
    '|---|---|---|---|---|',
  ];
  for (const s of input.studies) {
    const entries = byStudy.get(s.name) ?? [];
    if (entries.length === 0 && input.kind !== 'runs') out.push(`| ${cell(`${s.id} ${s.name}`)} | not run | | | |`);
    for (const e of entries) {
      const r = e.result;
      const verdict = tallyText(r.claims, (x) => `**${x}**`);
      const label = `${s.id} ${s.name}${r.name !== null ? ` (${r.name})` : ''}`;
      out.push(`| [${cell(label)}](#${mdHref(anchor(heading(s, r)))}) | ${verdict} | ${r.seeds.length} | ${cell(r.environment.backend)} | ${formatDuration(workMsOf(r))} |`);
    }
  }
  out.push('');
  for (const s of input.studies) for (const e of byStudy.get(s.name) ?? []) out.push(...studySection(s, e));
  const missing = input.kind === 'runs' ? [] : input.studies.filter((s) => !byStudy.has(s.name));
  if (missing.length > 0) {
    out.push('## Not run yet', '');
    for (const s of missing) out.push(`- ${mdText(`${s.id} ${s.name}`)}: ${mdCode(`npm run experiment -- ${s.name}${quick ? ' --profile quick' : ''}`)}`);
    out.push('');
  }
  if (input.skipped.length > 0) {
    out.push('## Files skipped', '');
    for (const k of input.skipped) out.push(`- ${mdCode(k.file)}: ${mdText(k.reason)}`);
    out.push('');
  }
  return out.join('\n');
}

/** GitHub's heading anchor for a section heading. */
function anchor(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}
