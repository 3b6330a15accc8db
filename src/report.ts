/**
 * results/REPORT.md: every study's figure, its claims with holds/FAILS and the numbers, the
 * config, backend and wall time, generated from the result JSON files (never hand-edited).
 * The text depends only on the result files, so regenerating an unchanged folder changes nothing.
 */
import type { Claim, Profile, StudyResult } from './results/schema.js';

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
  /** Figures drawn for it, paths relative to the report (PNG) with a caption. */
  figures: { png: string; svg: string; spec: string; caption: string }[];
}

export interface ReportInput {
  profile: Profile;
  /** Every known study in lecture order (those without a result are listed as not run). */
  studies: ReportStudy[];
  entries: ReportEntry[];
  /** Files in the folder that were not read, with the reason. */
  skipped: { file: string; reason: string }[];
}

/** Numbers for a table cell: 4 significant digits, spreads as mean (min..max). */
export function formatValue(v: unknown): string {
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return String(v);
    const a = Math.abs(v);
    return a >= 1e-3 && a < 1e5 ? String(Number(v.toPrecision(4))) : v.toExponential(2);
  }
  if (v === null) return 'null';
  if (Array.isArray(v)) return `[${v.map(formatValue).join(', ')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if ('mean' in o && 'min' in o && 'max' in o) return `${formatValue(o.mean)} (${formatValue(o.min)}..${formatValue(o.max)})`;
    return `{${Object.entries(o).map(([k, x]) => `${k}: ${formatValue(x)}`).join(', ')}}`;
  }
  return String(v);
}

/** Markdown table cells cannot hold a pipe or a line break. */
const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

export function formatNumbers(numbers: Record<string, unknown>): string {
  return Object.entries(numbers)
    .map(([k, v]) => `${k} = ${formatValue(v)}`)
    .join('; ');
}

export function formatDuration(ms: number): string {
  const s = ms / 1000;
  if (s < 1) return `${ms.toFixed(0)} ms`;
  if (s < 120) return `${s.toFixed(1)} s`;
  if (s < 7200) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(2)} h`;
}

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
  for (const c of claims) lines.push(`| ${c.holds ? 'holds' : '**FAILS**'} | ${cell(c.text)} | ${cell(formatNumbers(c.numbers))} |`);
  return [...lines, ''];
}

function studySection(study: ReportStudy, entry: ReportEntry): string[] {
  const r = entry.result;
  const env = r.environment;
  const out: string[] = [`## ${study.id} ${study.name}: ${study.title}`, '', study.description, ''];
  for (const f of entry.figures) out.push(`![${study.id} ${f.caption}](${f.png})`, '', `*${f.caption}* ([SVG](${f.svg}), [Vega-Lite spec](${f.spec}))`, '');
  if (entry.figures.length === 0) out.push('*(no figure drawn for this study)*', '');
  const held = r.claims.filter((c) => c.holds).length;
  out.push(`**Claims: ${held} of ${r.claims.length} hold.**`, '', ...claimsTable(r.claims));
  out.push(
    `**Run:** ${r.profile} profile, ${seedsText(r)}; backend ${env.backend} (tfjs ${env.tfjsVersion}, Node ${env.nodeVersion}, ` +
      `${env.platform}, ${env.cpuCount} x ${env.cpu}); commit ${env.gitCommit ? env.gitCommit.slice(0, 10) : 'unknown'}; ` +
      `started ${r.startedAt}; wall time ${formatDuration(r.durationMs)}. Result file: [${entry.file}](${entry.file}). ` +
      `Regenerate: \`npm run experiment -- ${r.study}${r.profile === 'quick' ? ' --profile quick' : ''}${r.seeds.length > 1 ? ` --seed ${r.seeds[0]} --seeds ${r.seeds.length}` : r.seeds[0] !== 0 ? ` --seed ${r.seeds[0]}` : ''}\` then \`npm run figures\`.`,
    '',
  );
  out.push('<details><summary>Config</summary>', '', '```json', prettyJson(r.config), '```', '', '</details>', '');
  const summary = prettyJson(r.summary);
  out.push('<details><summary>Summary</summary>', '');
  if (summary.length <= SUMMARY_LIMIT) out.push('```json', summary, '```');
  else out.push(`The summary is ${Math.round(summary.length / 1000)} kB: see \`summary\` in [${entry.file}](${entry.file}).`);
  out.push('', '</details>', '');
  return out;
}

export function buildReport(input: ReportInput): string {
  const byStudy = new Map(input.entries.map((e) => [e.result.study, e]));
  const quick = input.profile === 'quick';
  const out: string[] = [
    `# Results${quick ? ' (quick profile)' : ''}`,
    '',
    `Generated by \`npm run figures${quick ? ' -- --profile quick' : ''}\` from the ${quick ? 'quick-profile' : 'lecture-scale'} result files in this folder; do not edit by hand. ` +
      'Each study: its figure, the lecture claims with holds/FAILS and the numbers behind them, and how it was run. ' +
      'Timings come from a shared 2-core machine unless the run says otherwise.',
    '',
    '| study | claims holding | seeds | backend | wall time |',
    '|---|---|---|---|---|',
  ];
  for (const s of input.studies) {
    const e = byStudy.get(s.name);
    if (!e) {
      out.push(`| ${s.id} ${s.name} | not run | | | |`);
      continue;
    }
    const r = e.result;
    const held = r.claims.filter((c) => c.holds).length;
    const verdict = held === r.claims.length ? `${held}/${r.claims.length}` : `${held}/${r.claims.length} (**${r.claims.length - held} FAIL**)`;
    out.push(`| [${s.id} ${s.name}](#${anchor(s)}) | ${verdict} | ${r.seeds.length} | ${r.environment.backend} | ${formatDuration(r.durationMs)} |`);
  }
  out.push('');
  for (const s of input.studies) {
    const e = byStudy.get(s.name);
    if (e) out.push(...studySection(s, e));
  }
  const missing = input.studies.filter((s) => !byStudy.has(s.name));
  if (missing.length > 0) {
    out.push('## Not run yet', '');
    for (const s of missing) out.push(`- ${s.id} ${s.name}: \`npm run experiment -- ${s.name}${quick ? ' --profile quick' : ''}\``);
    out.push('');
  }
  if (input.skipped.length > 0) {
    out.push('## Files skipped', '');
    for (const k of input.skipped) out.push(`- \`${k.file}\`: ${k.reason}`);
    out.push('');
  }
  return out.join('\n');
}

/** GitHub's heading anchor for a study section. */
function anchor(s: ReportStudy): string {
  return `${s.id} ${s.name}: ${s.title}`
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}
