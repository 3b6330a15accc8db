/**
 * `npm run figures [-- <study...>]` : draws every study's figures from its result JSON into
 * the folder's figures/ as SVG, PNG and the Vega-Lite spec (and CSV with --csv), and rewrites
 * the folder's reports. It reads three kinds of result:
 *   - lecture:    <out>/<study>.json        -> <out>/figures/,        <out>/REPORT.md, <out>/index.html
 *   - quick:      <out>/<study>.quick.json  -> <out>/figures/quick/,  <out>/REPORT.quick.md, <out>/index.quick.html
 *   - named runs: <out>/runs/<study>.<name>.json -> <out>/runs/figures/, <out>/runs/REPORT.md, <out>/runs/index.html
 * (index*.html: the report as an interactive page, see src/page.ts.)
 * A file that is not a result of a known study, or is malformed, is reported by name and
 * skipped; the rest is still drawn, and the exit code is 1.
 * Before drawing, every result's claims are re-judged with the current rules from its stored
 * series (results/rejudge.ts) and a file whose claims changed is rewritten.
 */
import { existsSync, lstatSync, readdirSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UserError } from '../errors.js';
import { dataRows, fileInTheWay, writeFigure, FIGURE_FORMATS, type Figure, type FigureFormat } from '../plot/render.js';
import { buildPage, vendorScripts, type PageFigure } from '../page.js';
import { compareFigure } from '../plot/compare.js';
import { REPORT_KINDS, buildReport, kindOf, type ReportEntry, type ReportKind, type ReportStudy } from '../report.js';
import type { StudyResult } from '../results/schema.js';
import { rejudge } from '../results/rejudge.js';
import { RUNS_DIR, ensureWritableDir, readResult, resultFileName, writeResults } from '../results/store.js';
import { writeFilesAtomic } from '../store/atomic-set.js';
import { typedResult } from '../study.js';
import type { AnyStudy } from '../study.js';
import { STUDIES } from '../../experiments/index.js';
import { commandDefaults, oneOf, strictFlags } from './args.js';
import { runMain } from './main.js';

export interface Skipped {
  /** Relative to the results folder. */
  file: string;
  reason: string;
  /** The report its name puts it in; none for a foreign file name. */
  kind?: ReportKind;
}

const lstatOk = (path: string): boolean => {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
};

export interface FoundResult {
  /** Relative to the results folder: "x.json", "x.quick.json", "runs/x.name.json". */
  file: string;
  result: StudyResult;
}

/**
 * <study>.json is the lecture profile, <study>.quick.json the quick one; in runs/,
 * <study>.<name>.json a named run. Anything else is foreign.
 */
export function classifyFileName(file: string, known: string[]): { study: string; kind: ReportKind; name: string | null } | null {
  const inRuns = file.startsWith(`${RUNS_DIR}/`);
  const base = inRuns ? file.slice(RUNS_DIR.length + 1) : file;
  for (const study of known) {
    if (!inRuns) {
      if (base === resultFileName(study, 'lecture')) return { study, kind: 'lecture', name: null };
      if (base === resultFileName(study, 'quick')) return { study, kind: 'quick', name: null };
    } else if (base.startsWith(`${study}.`) && base.endsWith('.json')) {
      const name = base.slice(study.length + 1, -'.json'.length);
      if (/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(name)) return { study, kind: 'runs', name };
    }
  }
  return null;
}

/**
 * The largest result file drawn. The committed lecture results are at most 0.33 MB; a 24 MB
 * series once made the SVG renderer run for 48 s and take 5 GB before failing, so a file this
 * much larger than any study writes is refused by its size before the renderer starts.
 */
export const MAX_RESULT_BYTES = 8 * 1024 * 1024;

/** *.json names in a folder; a name that is a folder is passed over, a dangling link is kept (and skipped with its reason later). */
const jsonFiles = (dir: string): string[] => {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  return readdirSync(dir)
    .filter((f) => {
      if (!f.endsWith('.json')) return false;
      try {
        return !statSync(join(dir, f)).isDirectory();
      } catch {
        return true;
      }
    })
    .sort();
};

/**
 * Reads every result file of these kinds in `dir` (and its runs/ folder). Files of other
 * kinds are passed over quietly; foreign, unreadable or mismatched files are returned as
 * skipped, with the reason.
 */
export function collectResults(dir: string, kinds: readonly ReportKind[], known: string[]): { found: FoundResult[]; skipped: Skipped[] } {
  const found: FoundResult[] = [];
  const skipped: Skipped[] = [];
  const files = [...jsonFiles(dir), ...(kinds.includes('runs') ? jsonFiles(join(dir, RUNS_DIR)).map((f) => `${RUNS_DIR}/${f}`) : [])];
  for (const file of files) {
    const kind = classifyFileName(file, known);
    if (!kind) {
      const expected = file.startsWith(`${RUNS_DIR}/`) ? `${RUNS_DIR}/<study>.<name>.json` : '<study>.json or <study>.quick.json';
      skipped.push({ file, reason: `not a result file name of a known study (${expected}; studies: ${known.join(', ')})` });
      continue;
    }
    if (!kinds.includes(kind.kind)) continue;
    let size: number;
    try {
      size = statSync(join(dir, file)).size;
    } catch (err) {
      skipped.push({ file, kind: kind.kind, reason: `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}${lstatOk(join(dir, file)) ? ': a link to nothing' : ''})` });
      continue;
    }
    if (size > MAX_RESULT_BYTES) {
      skipped.push({ file, kind: kind.kind, reason: `is ${(size / 1e6).toFixed(1)} MB, more than the ${MAX_RESULT_BYTES / 1024 / 1024} MiB a result is drawn from (no study writes one this large; is it a result of this suite?)` });
      continue;
    }
    let result: StudyResult;
    try {
      result = readResult(join(dir, file));
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      // readResult names the full path; the report lists files by name.
      skipped.push({ file, kind: kind.kind, reason: err.message.replace(`${join(dir, file)}: `, '') });
      continue;
    }
    if (result.study !== kind.study || kindOf(result) !== kind.kind || (kind.name !== null && result.name !== kind.name)) {
      const home = resultFileName(result.study, result.profile, result.name);
      skipped.push({ file, kind: kind.kind, reason: `holds study '${result.study}' (${result.name ?? `${result.profile} profile`}), which belongs in ${home}` });
      continue;
    }
    found.push({ file, result });
  }
  return { found, skipped };
}

/** Where a kind's figures and report go, relative to the results folder. */
export const figureDir = (out: string, kind: ReportKind): string =>
  kind === 'lecture' ? join(out, 'figures') : kind === 'quick' ? join(out, 'figures', 'quick') : join(out, RUNS_DIR, 'figures');
export const reportPath = (out: string, kind: ReportKind): string =>
  kind === 'lecture' ? join(out, 'REPORT.md') : kind === 'quick' ? join(out, 'REPORT.quick.md') : join(out, RUNS_DIR, 'REPORT.md');

export const pagePath = (out: string, kind: ReportKind): string =>
  kind === 'lecture' ? join(out, 'index.html') : kind === 'quick' ? join(out, 'index.quick.html') : join(out, RUNS_DIR, 'index.html');

/** A result's figures, drawn by its study; a named run's files carry its name. */
export function figuresFor(result: StudyResult, studies: AnyStudy[] = STUDIES): Figure[] {
  const study = studies.find((s) => s.name === result.study);
  if (!study) throw new Error(`no study '${result.study}'`);
  const figures = study.figures(typedResult(study, result));
  return result.name === null ? figures : figures.map((f) => ({ ...f, name: `${result.name}.${f.name}` }));
}

/** How many points a result's curves hold (first seed): none means its series hold nothing to draw. */
function curvePoints(result: StudyResult, studies: AnyStudy[]): number {
  const study = studies.find((s) => s.name === result.study)!;
  const typed = typedResult(study, result);
  return study.curves(typed.runs[0]!, typed.config).reduce((n, p) => n + p.lines.reduce((m, l) => m + l.y.filter((v) => v !== null).length, 0), 0);
}

/**
 * A result's figures, or why it cannot be drawn: series not the shape its study records, or a
 * shape that would draw a figure with nothing in it (refused, never drawn empty). `compare`
 * asks the same of every run it overlays.
 */
export function figuresOrWhyNot(result: StudyResult, studies: AnyStudy[] = STUDIES): Figure[] | string {
  let figures: Figure[];
  let points: number;
  try {
    figures = figuresFor(result, studies);
    points = curvePoints(result, studies);
  } catch (err) {
    return `cannot be drawn: its series are not what ${result.study} records (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`;
  }
  const empty = figures.filter((fig) => dataRows(fig) === 0).map((fig) => `figure ${fig.name} has no data`);
  if (points === 0) empty.push('no curve has a point');
  return empty.length > 0 ? `cannot be drawn: its series are not what ${result.study} records (${empty.join('; ')})` : figures;
}

export interface Planned extends FoundResult {
  figures: Figure[];
}

/**
 * Every result of these kinds in `dir` with the figures it gets. A result whose series are
 * not the shape its figure expects joins the skipped files.
 */
export function planFigures(dir: string, kinds: readonly ReportKind[], known: string[], studies: AnyStudy[] = STUDIES): { planned: Planned[]; skipped: Skipped[] } {
  const { found, skipped } = collectResults(dir, kinds, known);
  const planned: Planned[] = [];
  for (const f of found) {
    const drawn = figuresOrWhyNot(f.result, studies);
    if (typeof drawn === 'string') {
      skipped.push({ file: f.file, kind: kindOf(f.result), reason: drawn });
      continue;
    }
    planned.push({ ...f, figures: drawn });
  }
  return { planned, skipped };
}

/**
 * The report of one kind as `npm run figures` writes it: every planned result with those of
 * its figures that are on disk. Depends on the folder's files only (the test that the committed
 * REPORT.md is current rebuilds it with this).
 */
export function reportFor(out: string, kind: ReportKind, plan: { planned: Planned[]; skipped: Skipped[] }, studies: AnyStudy[] = STUDIES): string {
  const dir = figureDir(out, kind);
  const home = kind === 'runs' ? join(out, RUNS_DIR) : out;
  const rel = (name: string, ext: string) => relative(home, join(dir, `${name}.${ext}`)).split('\\').join('/');
  const has = (name: string, ext: string) => existsSync(join(dir, `${name}.${ext}`));
  const entries: ReportEntry[] = plan.planned
    .filter((p) => kindOf(p.result) === kind)
    .map(({ file, result, figures }) => ({
      file: relative(home, join(out, file)).split('\\').join('/'),
      result,
      figures: figures
        .filter((fig) => has(fig.name, 'png'))
        .map((fig) => ({
          png: rel(fig.name, 'png'),
          svg: has(fig.name, 'svg') ? rel(fig.name, 'svg') : undefined,
          spec: has(fig.name, 'vl.json') ? rel(fig.name, 'vl.json') : undefined,
          caption: fig.caption,
        })),
    }));
  const listed: ReportStudy[] = studies.map((s) => ({ name: s.name, id: s.id, title: s.title, description: s.description }));
  return buildReport({ kind, studies: listed, entries, skipped: plan.skipped.filter((s) => !s.kind || s.kind === kind) });
}

/**
 * The interactive page of one kind (src/page.ts): every planned result with its figures drawn
 * live, links to the files of each figure that are on disk, and, for named runs, the runs of
 * each study with two or more overlaid as `compare` draws them. Like reportFor, it depends on
 * the folder's files only (and the vega builds it inlines).
 */
export function pageFor(out: string, kind: ReportKind, plan: { planned: Planned[]; skipped: Skipped[] }, studies: AnyStudy[] = STUDIES): string {
  const dir = figureDir(out, kind);
  const home = kind === 'runs' ? join(out, RUNS_DIR) : out;
  const rel = (path: string) => relative(home, path).split('\\').join('/');
  const mine = plan.planned.filter((p) => kindOf(p.result) === kind);
  const links = (name: string) =>
    (['svg', 'png', 'vl.json', 'csv'] as const)
      .filter((ext) => existsSync(join(dir, `${name}.${ext}`)))
      .map((ext) => ({ label: ext === 'vl.json' ? 'Vega-Lite spec' : ext.toUpperCase(), href: rel(join(dir, `${name}.${ext}`)) }));
  const comparisons: PageFigure[] = [];
  if (kind === 'runs') {
    for (const study of studies) {
      const runs = mine.filter((p) => p.result.study === study.name);
      if (runs.length < 2) continue;
      const fig = compareFigure(study, runs.map((p) => ({ file: rel(join(out, p.file)), result: p.result })), `compare-${study.name}`);
      comparisons.push({ ...fig, links: [] });
    }
  }
  return buildPage(
    {
      kind,
      studies: studies.map((s) => ({ name: s.name, id: s.id, title: s.title, description: s.description })),
      entries: mine.map(({ file, result, figures }) => ({
        file: rel(join(out, file)),
        result,
        figures: figures.map((fig) => ({ ...fig, links: links(fig.name) })),
      })),
      comparisons,
      skipped: plan.skipped.filter((s) => !s.kind || s.kind === kind),
    },
    vendorScripts(),
  );
}

/**
 * Every result's claims recomputed with the current rules from its stored series (see
 * results/rejudge.ts); a file whose claims changed is rewritten before the reports are built,
 * so they never show a verdict the current rules would not give.
 */
export function rejudgePlanned(out: string, planned: Planned[], studies: AnyStudy[] = STUDIES): void {
  const changed: { p: Planned; again: ReturnType<typeof rejudge> }[] = [];
  for (const p of planned) {
    const study = studies.find((s) => s.name === p.result.study);
    if (!study) continue;
    let again: ReturnType<typeof rejudge>;
    try {
      again = rejudge(study, p.result);
    } catch (err) {
      process.stderr.write(`${join(out, p.file)}: cannot be re-judged with the current rules (${err instanceof Error ? err.message.split('\n')[0] : String(err)}): its claims are as the run judged them; run it again\n`);
      continue;
    }
    if (again.changed) changed.push({ p, again });
  }
  // One set: the folder's results are re-judged all together or (on a failure) not at all.
  writeResults(out, changed.map((c) => c.again.result));
  for (const { p, again } of changed) {
    p.result = again.result;
    const what = again.verdictChanges.length ? again.verdictChanges.join('; ') : 'wording or numbers only, no verdict changed';
    process.stdout.write(`re-judged ${join(out, p.file)} with the current rules: ${what}\n`);
  }
}

/**
 * Before anything is written (re-judged results, figures, reports): every figure folder can be
 * a folder, and no report or page path is a folder. A file named `figures` where the folder
 * belongs would otherwise fail once per figure while the reports were still rewritten.
 */
function checkWritePaths(out: string, kinds: readonly ReportKind[], report: boolean): void {
  for (const kind of kinds) {
    const blocker = fileInTheWay(figureDir(out, kind));
    if (blocker !== null) throw new UserError(`${blocker} is a file, not a folder, where the ${kind} figures go: move it away or choose another --out (nothing was written)`);
    if (!report) continue;
    for (const path of [reportPath(out, kind), pagePath(out, kind)]) {
      if (existsSync(path) && statSync(path).isDirectory()) throw new UserError(`${path} is a folder, where the ${kind} report goes: move it away or choose another --out (nothing was written)`);
    }
  }
}

interface FiguresArgs {
  studies?: string[];
  out: string;
  profile: ReportKind | 'all';
  report: boolean;
  rejudge: boolean;
  scale: number;
  format: FigureFormat;
  csv: boolean;
}

async function figuresCommand(a: FiguresArgs, studies: AnyStudy[]): Promise<number> {
  const known = studies.map((s) => s.name);
  const wanted = a.studies && a.studies.length > 0 ? a.studies : null;
  for (const n of wanted ?? []) if (!known.includes(n)) throw new UserError(`unknown study '${n}' (known: ${known.join(', ')})`);
  if (existsSync(a.out) && !statSync(a.out).isDirectory()) throw new UserError(`--out ${a.out} is a file, not a folder: give the results folder`);
  if (!existsSync(a.out)) throw new UserError(`--out ${a.out}: no such folder (run \`npm run experiment -- <study>\` first)`);
  ensureWritableDir(a.out);
  const kinds: ReportKind[] = a.profile === 'all' ? [...REPORT_KINDS] : [a.profile];
  const plan = planFigures(a.out, kinds, known, studies);
  for (const s of plan.skipped) process.stderr.write(`skipped ${join(a.out, s.file)}: ${s.reason}\n`);
  checkWritePaths(a.out, kinds.filter((k) => plan.planned.some((p) => kindOf(p.result) === k)), a.report);
  if (a.rejudge) rejudgePlanned(a.out, plan.planned, studies);

  let drawn = 0;
  for (const kind of kinds) {
    const mine = plan.planned.filter((p) => kindOf(p.result) === kind);
    if (mine.length === 0) continue;
    for (const { result, figures } of mine) {
      if (wanted && !wanted.includes(result.study)) continue;
      for (const fig of figures) {
        const t0 = performance.now();
        try {
          const paths = await writeFigure(figureDir(a.out, kind), fig, { scale: a.scale, format: a.format, csv: a.csv });
          drawn++;
          const what = [paths.png, paths.svg].filter((p) => p !== undefined).join(', ');
          process.stdout.write(`drew ${what}${a.csv ? ' (+ .csv)' : ''} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
        } catch (err) {
          // One figure that cannot be drawn or written stops nothing else; the report still follows.
          const reason = `figure ${fig.name} not drawn: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
          const file = plan.planned.find((p) => p.result === result)!.file;
          plan.skipped.push({ file, kind, reason });
          process.stderr.write(`skipped ${join(a.out, file)}: ${reason}\n`);
        }
      }
    }
    // The report covers every result of its kind; a study not redrawn this time keeps the figure on disk.
    if (a.report) {
      // The report and its page are one set: both new, or both as they were.
      const path = reportPath(a.out, kind);
      const page = pagePath(a.out, kind);
      writeFilesAtomic([
        { path, data: reportFor(a.out, kind, plan, studies) },
        { path: page, data: pageFor(a.out, kind, plan, studies) },
      ]);
      process.stdout.write(`wrote ${path}, ${page}\n`);
    }
  }
  if (drawn === 0 && plan.skipped.length === 0) {
    const looked = kinds.map((k) => (k === 'lecture' ? '<study>.json' : k === 'quick' ? '<study>.quick.json' : `${RUNS_DIR}/<study>.<name>.json`)).join(', ');
    const hint = a.profile === 'all' ? 'run `npm run experiment -- <study>` first' : 'try --profile all';
    throw new UserError(`nothing to draw in ${a.out} (looked for ${looked}${wanted ? ` of ${wanted.join(', ')}` : ''}): ${hint}`, 1);
  }
  if (plan.skipped.length > 0) {
    process.stderr.write(`${plan.skipped.length} file(s) skipped: ${plan.skipped.map((s) => basename(s.file)).join(', ')}\n`);
    return 1;
  }
  return 0;
}

/** `npm run figures`; `studies`: the studies it knows (tests hand it their own). */
export async function figuresCli(argv: string[], studies: AnyStudy[] = STUDIES): Promise<number> {
  let exit: Promise<number> = Promise.resolve(0);
  await commandDefaults(strictFlags(yargs(argv)))
    .scriptName('npm run figures --')
    .usage('$0 [study...]  [options]\n\nDraws each study\'s figures from its result JSON (SVG, PNG and the Vega-Lite spec) and rewrites the reports.')
    .command(
      '$0 [studies..]',
      'draw the figures of these studies (default: every result file found)',
      (y) =>
        y
          .positional('studies', { describe: 'study names (see `npm run experiment -- list`)', type: 'string', array: true })
          .option('out', { describe: 'results folder: reads <out>/*.json and <out>/runs/*.json, writes figures/ and REPORT.md beside them', default: 'results', type: 'string' })
          .option('profile', {
            describe: 'which results: lecture (<study>.json), quick (<study>.quick.json), runs (named runs in runs/), or all that are there',
            default: 'all',
            coerce: oneOf('profile', [...REPORT_KINDS, 'all'] as const),
          })
          .option('scale', { describe: 'PNG size as a multiple of the SVG\'s (1 to 8)', default: 2, coerce: (v: unknown) => scaleOf(v) })
          .option('format', { describe: 'svg, png or both (the Vega-Lite spec is written with svg)', default: 'both', coerce: oneOf('format', FIGURE_FORMATS) })
          .option('csv', { describe: 'also write each figure\'s data as a tidy CSV table (<figure>.csv)', type: 'boolean', default: false })
          .option('report', { describe: 'rewrite the reports and their pages (--no-report to skip)', type: 'boolean', default: true })
          .option('rejudge', { describe: 'recompute every result\'s claims with the current rules and rewrite the files whose claims changed (--no-rejudge to draw them as written)', type: 'boolean', default: true })
          .option('verbose', { describe: 'stack traces on errors', type: 'boolean', default: false }),
      (args) => {
        exit = figuresCommand(args as unknown as FiguresArgs, studies);
      },
    )
    .example('$0', 'every result in results/ -> results/figures/, results/REPORT.md (quick and named runs beside them)')
    .example('$0 optimizers-mnist --scale 4 --format png', 'only S2\'s figure, as a PNG four times the SVG\'s size')
    .example('$0 --out results/runs --csv', 'named runs of another folder, with their data as CSV')
    .parseAsync();
  return exit;
}

/** --scale: a number from 1 to 8. */
export function scaleOf(value: unknown): number {
  const text = Array.isArray(value) ? String(value[value.length - 1]) : String(value);
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || n < 1 || n > 8) throw new UserError(`--scale must be a number from 1 to 8, got '${text}'`);
  return n;
}

if (import.meta.url === `file://${process.argv[1]}`) await runMain(() => figuresCli(hideBin(process.argv)));
