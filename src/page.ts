/**
 * results/index.html: the report as an interactive page. Every study's figures are drawn live
 * by vega-embed from the same Vega-Lite specs as the committed SVGs, made interactive here only
 * (`interactive`): a tooltip with the data of the point under the pointer, a click on a legend
 * entry shows that series alone (shift-click adds more, double-click shows all again), and the
 * wheel or a drag zooms and pans the x axis. Beside them: the claims with their verdicts and their
 * numbers, the config and environment of the run, links to the result JSON (and CSV) files.
 *
 * The page is one self-contained file that opens from the file system with no network: the
 * specs are inlined as JSON (their data tables packed by column: src/page-data.ts) and vega,
 * vega-lite and vega-embed are inlined from our own node_modules (their minified builds), never
 * loaded from a CDN. Like REPORT.md, its text depends only on the result files and those
 * dependencies.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { formatDuration, formatNumbers, tally, tallyText } from './format.js';
import { packSpecData, UNPACK_JS } from './page-data.js';
import type { ReportKind, ReportStudy } from './report.js';
import type { StudyResult } from './results/schema.js';

export interface PageFigure {
  /** Figure name (file stem); the chart's id in the page. */
  name: string;
  caption: string;
  spec: TopLevelSpec;
  /** Files of this figure on disk, relative to the page (e.g. "figures/x.svg"). */
  links: { label: string; href: string }[];
}

export interface PageEntry {
  /** Result file, relative to the page. */
  file: string;
  result: StudyResult;
  figures: PageFigure[];
}

export interface PageInput {
  kind: ReportKind;
  studies: ReportStudy[];
  entries: PageEntry[];
  /** Named runs of one study overlaid (compareFigure), one per study with 2+ runs. */
  comparisons: PageFigure[];
  skipped: { file: string; reason: string }[];
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const LEGEND_CHANNELS = ['color', 'strokeDash', 'shape', 'fill'] as const;

/** The nominal fields a unit shows in a legend (color, dash, shape). */
function legendFields(unit: Json): string[] {
  const enc = (unit.encoding ?? {}) as Json;
  const out: string[] = [];
  for (const ch of LEGEND_CHANNELS) {
    const def = enc[ch];
    if (isObj(def) && typeof def.field === 'string' && def.type === 'nominal' && def.legend !== null && !out.includes(def.field)) out.push(def.field);
  }
  return out;
}

/** Whether a unit's rows carry `field` (it encodes it, or a calculate reads it). */
function carries(unit: Json, field: string): boolean {
  const enc = (unit.encoding ?? {}) as Json;
  if (Object.values(enc).some((d) => isObj(d) && d.field === field)) return true;
  return JSON.stringify(unit.transform ?? []).includes(`datum[${JSON.stringify(JSON.stringify(field)).slice(1, -1)}]`);
}

/**
 * The figure spec made interactive for the page (the spec itself is not changed). Per layer
 * group (a layer, or a unit on its own; facets and concats are walked into):
 *  - a legend-bound point selection per legend field, and an opacity condition on every mark
 *    carrying that field: unselected series are hidden (opacity 0);
 *  - x zoom and pan (an interval selection bound to the scales) where a line is drawn over a
 *    quantitative x (iterations, epochs) whose ticks are not fixed, with its marks clipped to the plot;
 *  - tooltips with the datum's fields: on points, bars and rects directly, and on lines through
 *    an invisible point on every vertex (a line is one path: hovering it cannot tell its points apart).
 */
export function interactive(spec: TopLevelSpec): TopLevelSpec {
  const copy = structuredClone(spec) as unknown as Json;
  let n = 0;
  const group = (units: Json[]): Json[] => {
    const out = [...units];
    const params: Json[] = [];
    const selections: { name: string; field: string }[] = [];
    for (const u of units) {
      for (const field of legendFields(u)) {
        if (selections.some((s) => s.field === field)) continue;
        const name = `series${++n}`;
        selections.push({ name, field });
        params.push({ owner: u, param: { name, select: { type: 'point', fields: [field] }, bind: 'legend' } });
      }
    }
    const timeLine = units.find((u) => {
      const x = (u.encoding as Json | undefined)?.x;
      // An axis with fixed tick values (S1's plane) is a fixed frame, not a time axis to zoom into.
      return markType(u) === 'line' && isObj(x) && x.type === 'quantitative' && !(isObj(x.axis) && Array.isArray(x.axis.values));
    });
    const lineOverX = timeLine !== undefined;
    for (const u of units) {
      const mark = (isObj(u.mark) ? { ...u.mark } : { type: u.mark }) as Json;
      const type = mark.type as string;
      const enc = { ...((u.encoding ?? {}) as Json) };
      const mine = selections.filter((s) => carries(u, s.field));
      if (mine.length > 0) {
        const shown = typeof mark.opacity === 'number' ? mark.opacity : 1;
        const condition = mine.length === 1 ? { param: mine[0]!.name, value: shown } : { test: { and: mine.map((s) => ({ param: s.name })) }, value: shown };
        enc.opacity = { condition, value: 0 };
      }
      if (lineOverX) mark.clip = true;
      if (['point', 'circle', 'square', 'bar', 'rect', 'tick'].includes(type)) mark.tooltip = { content: 'data' };
      u.mark = mark;
      u.encoding = enc;
      if (type === 'line' && isObj(enc.x) && isObj(enc.y)) {
        // Hidden series lose their tooltips too: the hover points keep only the selected rows.
        const filters = mine.map((s) => ({ filter: { param: s.name } }));
        const hover: Json = {
          mark: { type: 'point', opacity: 0, size: 70, clip: lineOverX, tooltip: { content: 'data' } },
          encoding: { x: enc.x, y: enc.y },
          transform: [...((u.transform as Json[] | undefined) ?? []), ...filters],
        };
        if (u.data) hover.data = u.data;
        out.push(hover);
      }
    }
    if (timeLine) params.push({ owner: timeLine, param: { name: `zoom${++n}`, select: { type: 'interval', encodings: ['x'] }, bind: 'scales' } });
    for (const { owner, param } of params as { owner: Json; param: Json }[]) owner.params = [...((owner.params as Json[] | undefined) ?? []), param];
    return out;
  };
  const walk = (node: Json): void => {
    if (Array.isArray(node.layer)) {
      (node.layer as Json[]).forEach((l) => (isObj(l) && (l.layer || l.spec || l.concat) ? walk(l) : undefined));
      const units = (node.layer as Json[]).filter((l) => isObj(l) && l.mark !== undefined);
      const rest = (node.layer as Json[]).filter((l) => !units.includes(l));
      node.layer = [...group(units), ...rest];
    } else if (node.mark !== undefined) {
      // A unit on its own becomes a layer so it can take a hover layer beside it.
      const { mark, encoding, transform, params, ...outer } = node;
      const unit: Json = { mark, encoding, ...(transform ? { transform } : {}), ...(params ? { params } : {}) };
      for (const k of Object.keys(node)) delete node[k];
      Object.assign(node, outer, { layer: group([unit]) });
    }
    if (isObj(node.spec)) walk(node.spec);
    for (const k of ['concat', 'hconcat', 'vconcat']) if (Array.isArray(node[k])) (node[k] as Json[]).forEach((c) => isObj(c) && walk(c));
  };
  walk(copy);
  return copy as unknown as TopLevelSpec;
}

const markType = (u: Json): string => (isObj(u.mark) ? (u.mark.type as string) : (u.mark as string));

/** The minified builds of vega, vega-lite and vega-embed from our node_modules, in load order. */
export function vendorScripts(): { name: string; text: string }[] {
  const require = createRequire(import.meta.url);
  return ['vega', 'vega-lite', 'vega-embed'].map((pkg) => {
    const file = join(pkg, 'build', `${pkg}.min.js`);
    const dir = (require.resolve.paths(pkg) ?? []).find((p) => existsSync(join(p, file)));
    if (!dir) throw new Error(`cannot find ${file} in node_modules (npm install)`);
    // A "</script" inside the code would end the inline script early.
    const text = readFileSync(join(dir, file), 'utf8').replace(/<\/script/gi, '<\\/script').replace(/\n\/\/# sourceMappingURL=.*$/m, '');
    return { name: pkg, text };
  });
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** JSON safe inside a <script> element. */
const scriptJson = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c');
const slug = (s: string): string => s.replace(/[^A-Za-z0-9_-]+/g, '-');

const KIND_TITLE: Record<ReportKind, string> = { lecture: 'Results', quick: 'Results (quick profile)', runs: 'Results (named runs)' };
const KIND_REPORT: Record<ReportKind, string> = { lecture: 'REPORT.md', quick: 'REPORT.quick.md', runs: 'REPORT.md' };

function figureHtml(f: PageFigure): string {
  const links = f.links.map((l) => `<a href="${esc(l.href)}">${esc(l.label)}</a>`).join(' · ');
  return [
    `<figure>`,
    `<div class="chart" id="chart-${slug(f.name)}" data-figure="${esc(f.name)}"></div>`,
    `<script type="application/json" id="spec-${slug(f.name)}">${scriptJson(packSpecData(interactive(f.spec)))}</script>`,
    `<figcaption>${esc(f.caption)}${links ? ` <span class="links">(${links})</span>` : ''}</figcaption>`,
    `</figure>`,
  ].join('\n');
}

function sectionHtml(study: ReportStudy, e: PageEntry): string {
  const r = e.result;
  const env = r.environment;
  const t = tally(r.claims);
  const out: string[] = [`<section id="${slug(sectionId(study, r))}">`, `<h2>${esc(`${study.id} ${study.name}: ${study.title}${r.name !== null ? ` (run ${r.name})` : ''}`)}</h2>`, `<p>${esc(study.description)}</p>`];
  const changes = Object.entries(r.overrides).map(([k, [was, now]]) => `<code>${esc(k)}</code> ${esc(JSON.stringify(was))} → ${esc(JSON.stringify(now))}`);
  if (changes.length > 0) out.push(`<p><b>Changed from the ${r.profile} profile:</b> ${changes.join('; ')}.</p>`);
  if (env.gitDirty) out.push('<p class="warn"><b>The working tree had uncommitted changes when this ran</b>: the code is not exactly the commit named below.</p>');
  for (const f of e.figures) out.push(figureHtml(f));
  if (e.figures.length === 0) out.push('<p><i>(no figure drawn for this study)</i></p>');
  out.push(`<h3>Claims: ${t.holds} of ${t.total} hold${t.inconclusive ? `, ${t.inconclusive} inconclusive` : ''}</h3>`);
  if (r.claims.length === 0) out.push('<p>No claims were checked in this run.</p>');
  else {
    out.push('<table class="claims"><thead><tr><th>verdict</th><th>lecture claim (as checked)</th><th>our numbers</th></tr></thead><tbody>');
    for (const c of r.claims) out.push(`<tr class="${VERDICT_CLASS[c.verdict]}"><td>${esc(c.verdict)}</td><td>${esc(c.text)}</td><td>${c.reason ? `<i>${esc(c.reason)}</i><br>` : ''}${esc(formatNumbers(c.numbers))}</td></tr>`);
    out.push('</tbody></table>');
  }
  out.push(
    `<p class="run"><b>Run:</b> ${r.profile} profile, ${r.seeds.length === 1 ? `seed ${r.seeds[0]}` : `${r.seeds.length} seeds (${r.seeds.join(', ')})`}; ` +
      `started ${esc(r.startedAt)}; wall time ${formatDuration(r.durationMs)}. Result file: <a href="${esc(e.file)}">${esc(e.file)}</a>.</p>`,
  );
  const envRows = Object.entries(env).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(String(v))}</td></tr>`);
  out.push(`<details><summary>Environment</summary><table class="env">${envRows.join('')}</table></details>`);
  out.push(`<details><summary>Config</summary><pre>${esc(JSON.stringify(r.config, null, 2))}</pre></details>`);
  out.push('</section>');
  return out.join('\n');
}

const VERDICT_CLASS = { holds: 'holds', FAILS: 'fails', inconclusive: 'inconclusive' } as const;

const sectionId = (study: ReportStudy, r: StudyResult): string => `${study.name}${r.name !== null ? `.${r.name}` : ''}`;

/** The page's script: draws every chart, and keeps the views in window.vegaViews (the browser test reads them). */
const BOOT = `${UNPACK_JS}
window.vegaViews = {};
window.pageReady = Promise.all([...document.querySelectorAll('.chart')].map(async (el) => {
  const name = el.dataset.figure;
  try {
    const spec = unpackData(JSON.parse(document.getElementById('spec-' + el.id.slice('chart-'.length)).textContent));
    const { view } = await vegaEmbed(el, spec, { renderer: 'svg', actions: { export: true, source: false, compiled: false, editor: false } });
    window.vegaViews[name] = view;
  } catch (err) {
    el.textContent = 'This figure could not be drawn: ' + err.message;
    console.error('figure ' + name + ':', err);
  }
}));
`;

const STYLE = `
body { font-family: "DejaVu Sans", system-ui, sans-serif; margin: 0 auto; max-width: 1280px; padding: 0 1.5em 3em; color: #222; }
h1 { margin-top: 1em; } h2 { border-top: 1px solid #ccc; padding-top: 1em; margin-top: 2em; }
main table { border-collapse: collapse; margin: .5em 0; } main th, main td { border: 1px solid #ddd; padding: .3em .6em; text-align: left; vertical-align: top; font-size: 14px; }
table.claims td:first-child { font-weight: bold; white-space: nowrap; }
tr.holds td:first-child { color: #1a7f37; } tr.fails td:first-child { color: #c0392b; } tr.inconclusive td:first-child { color: #8a6d00; }
table.claims td:last-child { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; }
figure { margin: 1em 0; } figcaption { font-style: italic; color: #444; } .links { font-style: normal; font-size: 13px; }
.warn { color: #c0392b; } pre { background: #f6f6f6; padding: .6em; overflow: auto; max-height: 30em; font-size: 12px; }
.hint { color: #555; font-size: 14px; }
body #vg-tooltip-element.light-theme { background-color: #fff; border: 1px solid #999; font-size: 13px; box-shadow: 2px 2px 6px rgba(0, 0, 0, 0.25); }
body #vg-tooltip-element td.value { font-family: "DejaVu Sans Mono", monospace; }
`;

export function buildPage(input: PageInput, scripts: { name: string; text: string }[]): string {
  const byStudy = new Map<string, PageEntry[]>();
  for (const e of input.entries) byStudy.set(e.result.study, [...(byStudy.get(e.result.study) ?? []), e]);
  const rows: string[] = [];
  for (const s of input.studies) {
    const entries = byStudy.get(s.name) ?? [];
    if (entries.length === 0 && input.kind !== 'runs') rows.push(`<tr><td>${esc(`${s.id} ${s.name}`)}</td><td>not run</td><td></td><td></td><td></td></tr>`);
    for (const e of entries) {
      const r = e.result;
      const verdict = tallyText(r.claims, (x) => `<b class="warn">${x}</b>`);
      rows.push(
        `<tr><td><a href="#${slug(sectionId(s, r))}">${esc(`${s.id} ${s.name}${r.name !== null ? ` (${r.name})` : ''}`)}</a></td><td>${verdict}</td><td>${r.seeds.length}</td><td>${esc(r.environment.backend)}</td><td>${formatDuration(r.durationMs)}</td></tr>`,
      );
    }
  }
  const body: string[] = [
    `<h1>${KIND_TITLE[input.kind]}</h1>`,
    `<p>Generated by <code>npm run figures</code> from the result files in this folder; do not edit by hand. The same content as <a href="${KIND_REPORT[input.kind]}">${KIND_REPORT[input.kind]}</a>, with live figures.</p>`,
    '<p class="hint">Hover a point or a line for its values. Click a legend entry to show that series alone, shift-click to add or remove more, double-click the chart to show all again. On charts over iterations or epochs, scroll to zoom the x axis and drag to pan; double-click to reset.</p>',
    '<table class="index"><thead><tr><th>study</th><th>claims holding</th><th>seeds</th><th>backend</th><th>wall time</th></tr></thead><tbody>',
    ...rows,
    '</tbody></table>',
  ];
  if (input.comparisons.length > 0) {
    body.push('<h2 id="compared">Runs of one study compared</h2>');
    for (const f of input.comparisons) body.push(figureHtml(f));
  }
  for (const s of input.studies) for (const e of byStudy.get(s.name) ?? []) body.push(sectionHtml(s, e));
  const missing = input.kind === 'runs' ? [] : input.studies.filter((s) => !byStudy.has(s.name));
  if (missing.length > 0) {
    body.push('<h2>Not run yet</h2><ul>');
    for (const s of missing) body.push(`<li>${esc(`${s.id} ${s.name}`)}: <code>npm run experiment -- ${esc(s.name)}${input.kind === 'quick' ? ' --profile quick' : ''}</code></li>`);
    body.push('</ul>');
  }
  if (input.skipped.length > 0) {
    body.push('<h2>Files skipped</h2><ul>');
    for (const k of input.skipped) body.push(`<li><code>${esc(k.file)}</code>: ${esc(k.reason)}</li>`);
    body.push('</ul>');
  }
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${KIND_TITLE[input.kind]}: nn-training-lab</title>`,
    `<style>${STYLE}</style>`,
    ...scripts.map((s) => `<script>/* ${s.name} (inlined from node_modules) */\n${s.text}\n</script>`),
    '</head><body><main>',
    ...body,
    '</main>',
    `<script>${BOOT}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}
