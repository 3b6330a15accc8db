/**
 * The live page: one HTML file, served by the live server (src/live/thread.ts), that listens to
 * the run's changes (server-sent events on /events) and draws them: every study with its state,
 * its loops' progress (done, to do, ETA), the curves loops stream (a Vega-Lite chart per loop,
 * growing as points arrive), the log's last lines, and, when a study finishes, its claims with
 * their verdicts and its figures, drawn as the report page draws them (src/page.ts). vega,
 * vega-lite and vega-embed are inlined from node_modules: the page makes no request but to the
 * server that sent it. Text from the run is put into the page as text nodes, never as markup.
 */
import type { TopLevelSpec } from 'vega-lite';
import { interactive, vendorScripts } from '../page.js';
import { packSpecData, UNPACK_JS } from '../page-data.js';
import { CONFIG, PALETTE, SCHEMA_URL } from '../plot/common.js';

/** The chart of one streaming loop; the page sets its title and feeds its `points` dataset. */
export function liveCurveSpec(): TopLevelSpec {
  const x = { field: 'x', type: 'quantitative', title: 'iterations' };
  // Log scale: a loss that starts high (a diverging net) does not flatten the others.
  const y = { field: 'y', type: 'quantitative', title: 'loss on the latest batch', scale: { type: 'log' } };
  const color = { field: 'series', type: 'nominal', title: null, scale: { range: PALETTE } };
  return {
    $schema: SCHEMA_URL,
    width: 560,
    height: 300,
    // The axes and legend grow as points arrive: the layout follows them.
    autosize: { type: 'pad', resize: true },
    data: { name: 'points' },
    mark: { type: 'line', strokeWidth: 1.5, clip: true },
    encoding: { x, y, color, tooltip: [{ field: 'series', type: 'nominal' }, x, y] },
    config: CONFIG,
  } as unknown as TopLevelSpec;
}

/** A finished study's figure as the page draws it: made interactive and packed like the report page's. */
export const pageSpec = (spec: TopLevelSpec): unknown => packSpecData(interactive(spec));

/** JSON safe inside a <script> element. */
const scriptJson = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c');

const STYLE = `
body { font-family: "DejaVu Sans", system-ui, sans-serif; margin: 0 auto; max-width: 1280px; padding: 0 1.5em 3em; color: #222; }
h1 { margin-top: 1em; } h2 { border-top: 1px solid #ccc; padding-top: 1em; margin-top: 2em; }
table { border-collapse: collapse; margin: .5em 0; } th, td { border: 1px solid #ddd; padding: .3em .6em; text-align: left; vertical-align: top; font-size: 14px; }
table.claims td:first-child { font-weight: bold; white-space: nowrap; }
tr.holds td:first-child { color: #1a7f37; } tr.fails td:first-child { color: #c0392b; } tr.inconclusive td:first-child { color: #8a6d00; }
table.claims td:last-child { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; }
.bar { display: inline-block; width: 160px; height: 10px; background: #eee; border: 1px solid #bbb; vertical-align: middle; }
.bar > span { display: block; height: 100%; background: #1f77b4; }
.status-done { color: #1a7f37; } .status-failed { color: #c0392b; } .status-running { color: #1f77b4; }
#conn { color: #555; } pre { background: #f6f6f6; padding: .6em; overflow: auto; max-height: 20em; font-size: 12px; }
figure { margin: 1em 0; } figcaption { font-style: italic; color: #444; }
body #vg-tooltip-element.light-theme { background-color: #fff; border: 1px solid #999; font-size: 13px; }
`;

/** The page's script: applies each delta to the page; window.vegaViews and window.liveDrawn let a test see what is drawn. */
const CLIENT = `${UNPACK_JS}
const CURVE = JSON.parse(document.getElementById('curve-spec').textContent);
const studies = new Map(), loops = new Map(), charts = new Map();
window.vegaViews = {}; window.liveDrawn = {}; window.liveEnded = false;
const slug = (s) => String(s).replace(/[^A-Za-z0-9_-]+/g, '-');
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return e;
}
const secs = (s) => !isFinite(s) ? '?' : s < 60 ? Math.round(s) + ' s' : Math.floor(s / 60) + ' min ' + String(Math.round(s % 60)).padStart(2, '0') + ' s';
function eta(l) {
  if (l.finished || l.done >= l.total) return 0;
  if (l.done === 0) return Infinity;
  const perStep = (l.updatedMs - l.startedMs) / l.done;
  return Math.max(0, (perStep * (l.total - l.done) - (Date.now() - l.updatedMs)) / 1000);
}
function section(name) {
  let s = document.getElementById('study-' + slug(name));
  if (!s) {
    s = el('section', { id: 'study-' + slug(name) }, el('h2', {}, name), el('table', { class: 'loops' }), el('div', { class: 'charts' }), el('div', { class: 'result' }));
    document.getElementById('studies').append(s);
  }
  return s;
}
function drawStudies() {
  const body = document.querySelector('#overview tbody');
  body.replaceChildren();
  let done = 0;
  for (const s of studies.values()) {
    if (s.status === 'done' || s.status === 'failed') done++;
    const mine = [...loops.values()].filter((l) => l.study === s.name);
    const steps = mine.reduce((n, l) => n + l.done, 0), total = mine.reduce((n, l) => n + l.total, 0);
    const left = mine.length ? Math.max(...mine.map(eta)) : Infinity;
    body.append(el('tr', {}, el('td', {}, s.title), el('td', { class: 'status-' + s.status }, s.status + (s.error ? ': ' + s.error : '')),
      el('td', {}, steps + ' of ' + total + ' steps'), el('td', {}, String(s.unitsDone)), el('td', {}, s.status === 'running' ? secs(left) : '')));
    section(s.name).querySelector('h2').textContent = s.title + ' (' + s.status + ')';
  }
  document.getElementById('summary').textContent = done + ' of ' + studies.size + ' studies finished';
}
function drawLoops() {
  for (const s of studies.values()) {
    const rows = [...loops.values()].filter((l) => l.study === s.name);
    const t = section(s.name).querySelector('table.loops');
    t.replaceChildren(...rows.map((l) => el('tr', { 'data-loop': l.id }, el('td', {}, l.label + ' (seed ' + l.seed + ')'),
      el('td', {}, el('span', { class: 'bar' }, el('span', { style: 'width:' + (100 * l.done / Math.max(1, l.total)).toFixed(1) + '%' }))),
      el('td', {}, l.done + ' done, ' + (l.total - l.done) + ' to do'), el('td', {}, l.finished ? 'finished' : 'ETA ' + secs(eta(l))))));
  }
}
function chart(loopId) {
  let c = charts.get(loopId);
  if (c) return c;
  const l = loops.get(loopId);
  const div = el('div', { class: 'chart', 'data-loop': loopId });
  section(l.study).querySelector('.charts').append(div);
  const spec = structuredClone(CURVE);
  spec.title = { text: l.study + ': ' + l.label + ' (seed ' + l.seed + ')', subtitle: 'drawn as it trains' };
  c = { rows: [], view: null, div, spec, embedding: false };
  charts.set(loopId, c);
  window.liveDrawn[loopId] = 0;
  return c;
}
/** New points into a loop's chart; the chart is embedded with its first points (an empty one would have no extent). */
function feed(loopId) {
  const c = charts.get(loopId);
  if (c.rows.length === 0) return;
  if (!c.embedding) {
    c.embedding = true;
    const rows = c.rows; c.rows = [];
    c.spec.data = { name: 'points', values: rows };
    vegaEmbed(c.div, c.spec, { renderer: 'svg', actions: false }).then(({ view }) => {
      c.view = view; window.vegaViews[loopId] = view; window.liveDrawn[loopId] += rows.length; feed(loopId);
    }).catch((err) => { c.div.textContent = 'This chart could not be drawn: ' + err.message; console.error(err); });
    return;
  }
  if (!c.view) return;
  const rows = c.rows; c.rows = [];
  c.view.insert('points', rows).runAsync().then(() => { window.liveDrawn[loopId] += rows.length; });
}
function drawResult(r) {
  const box = section(r.study).querySelector('.result');
  box.replaceChildren();
  const t = el('table', { class: 'claims' }, el('thead', {}, el('tr', {}, el('th', {}, 'verdict'), el('th', {}, 'lecture claim (as checked)'), el('th', {}, 'our numbers'))));
  const tb = el('tbody');
  for (const c of r.claims) tb.append(el('tr', { class: c.verdict === 'FAILS' ? 'fails' : c.verdict }, el('td', {}, c.verdict), el('td', {}, c.text), el('td', {}, ...(c.reason ? [el('i', {}, c.reason), el('br')] : []), c.numbers)));
  t.append(tb);
  box.append(el('h3', {}, 'Claims'), r.claims.length ? t : el('p', {}, 'No claims were checked in this run.'), el('p', {}, 'Result file: ', el('code', {}, r.file)));
  for (const f of r.figures) {
    const div = el('div', { class: 'chart', 'data-figure': f.name });
    box.append(el('figure', {}, div, el('figcaption', {}, f.caption)));
    vegaEmbed(div, unpackData(f.spec), { renderer: 'svg', actions: false }).then(({ view }) => { window.vegaViews[f.name] = view; })
      .catch((err) => { div.textContent = 'This figure could not be drawn: ' + err.message; console.error(err); });
  }
}
function apply(d) {
  // Sections in the run's order (the plan lists every study first), whichever sends points first.
  for (const s of d.studies) { studies.set(s.name, s); section(s.name); }
  for (const l of d.loops) loops.set(l.id, l);
  for (const [loop, x, series, y] of d.points) if (loops.has(loop)) chart(loop).rows.push({ x, series, y });
  for (const id of charts.keys()) feed(id);
  const log = document.getElementById('log');
  for (const line of d.logs) log.append(line + '\\n');
  for (const r of d.results) drawResult(r);
  drawStudies(); drawLoops();
}
const events = new EventSource('events');
const conn = document.getElementById('conn');
events.addEventListener('delta', (e) => { conn.textContent = 'connected: updates as the run goes'; apply(JSON.parse(e.data)); });
events.addEventListener('end', () => { events.close(); window.liveEnded = true; conn.textContent = 'the run has ended: this page shows it as it finished'; });
events.onerror = () => { if (!window.liveEnded) conn.textContent = 'connection lost: the run (or its server) has stopped'; events.close(); };
setInterval(() => { if (!window.liveEnded) { drawStudies(); drawLoops(); } }, 1000);
`;

/** The live page for a run described by `command` (what the user typed). */
export function buildLivePage(command: string, scripts: { name: string; text: string }[] = vendorScripts()): string {
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>Live: ${esc(command)}</title>`,
    `<style>${STYLE}</style>`,
    ...scripts.map((s) => `<script>/* ${s.name} (inlined from node_modules) */\n${s.text}\n</script>`),
    '</head><body><main>',
    '<h1>Live run</h1>',
    `<p><code>${esc(command)}</code></p>`,
    '<p><span id="summary"></span> · <span id="conn">connecting…</span></p>',
    '<table id="overview"><thead><tr><th>study</th><th>state</th><th>progress</th><th>units done</th><th>ETA</th></tr></thead><tbody></tbody></table>',
    '<div id="studies"></div>',
    '<details><summary>Log</summary><pre id="log"></pre></details>',
    '</main>',
    `<script type="application/json" id="curve-spec">${scriptJson(liveCurveSpec())}</script>`,
    `<script>${CLIENT}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}
