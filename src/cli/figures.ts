/**
 * `npm run figures [-- <study...>]` : draws every study's figures from its result JSON
 * (results/<study>.json) into results/figures/ as SVG, PNG and the Vega-Lite spec, and
 * rewrites results/REPORT.md. A file that is not a result of a known study, or is malformed,
 * is reported by name and skipped; the rest is still drawn, and the exit code is 1.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UserError } from '../errors.js';
import { figuresFor } from '../plot/index.js';
import { writeFigure, type Figure } from '../plot/render.js';
import { buildReport, type ReportEntry, type ReportStudy } from '../report.js';
import { PROFILES, type Profile, type StudyResult } from '../results/schema.js';
import { ensureWritableDir, readResult, resultFileName } from '../results/store.js';
import { writeFileAtomic } from '../store/atomic.js';
import { STUDIES } from '../../experiments/index.js';
import { oneOf, strictFlags } from './args.js';
import { runMain } from './main.js';

export interface Skipped {
  file: string;
  reason: string;
  /** The profile its name claims; none for a foreign file name. */
  profile?: Profile;
}

export interface FoundResult {
  file: string;
  result: StudyResult;
}

/** <study>.json is the lecture profile, <study>.<profile>.json another; anything else is foreign. */
export function classifyFileName(file: string, known: string[]): { study: string; profile: Profile } | null {
  for (const study of known) for (const profile of PROFILES) if (resultFileName(study, profile) === file) return { study, profile };
  return null;
}

/**
 * Reads every *.json in `dir` of the given profiles. Files of other profiles are passed over
 * quietly; foreign, unreadable or mismatched files are returned as skipped, with the reason.
 */
export function collectResults(dir: string, profiles: Profile[], known: string[]): { found: FoundResult[]; skipped: Skipped[] } {
  const found: FoundResult[] = [];
  const skipped: Skipped[] = [];
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json') && statSync(join(dir, f)).isFile())
    .sort();
  for (const file of files) {
    const kind = classifyFileName(file, known);
    if (!kind) {
      skipped.push({ file, reason: `not a result file name of a known study (<study>.json or <study>.quick.json; studies: ${known.join(', ')})` });
      continue;
    }
    if (!profiles.includes(kind.profile)) continue;
    let result: StudyResult;
    try {
      result = readResult(join(dir, file));
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      // readResult names the full path; the report lists files by name.
      skipped.push({ file, profile: kind.profile, reason: err.message.replace(`${join(dir, file)}: `, '') });
      continue;
    }
    if (result.study !== kind.study || result.profile !== kind.profile) {
      skipped.push({ file, profile: kind.profile, reason: `holds study '${result.study}' (${result.profile} profile), which belongs in ${resultFileName(result.study, result.profile)}` });
      continue;
    }
    found.push({ file, result });
  }
  return { found, skipped };
}

interface FiguresArgs {
  studies?: string[];
  out: string;
  profile: Profile | 'all';
  report: boolean;
}

/** Figures of the quick profile go to their own folder, so they never overwrite the lecture's. */
export const figureDir = (out: string, profile: Profile): string => (profile === 'lecture' ? join(out, 'figures') : join(out, 'figures', profile));
export const reportPath = (out: string, profile: Profile): string => join(out, profile === 'lecture' ? 'REPORT.md' : `REPORT.${profile}.md`);

export interface Planned extends FoundResult {
  figures: Figure[];
}

/**
 * Every result of these profiles in `dir` with the figures it gets. A result whose series are
 * not the shape its figure expects, or whose study has no figure yet, joins the skipped files.
 */
export function planFigures(dir: string, profiles: Profile[], known: string[]): { planned: Planned[]; skipped: Skipped[] } {
  const { found, skipped } = collectResults(dir, profiles, known);
  const planned: Planned[] = [];
  for (const f of found) {
    let figures: Figure[] | null;
    try {
      figures = figuresFor(f.result);
    } catch (err) {
      skipped.push({ file: f.file, profile: f.result.profile, reason: `cannot be drawn: ${err instanceof Error ? err.message : String(err)}` });
      continue;
    }
    if (figures === null) {
      skipped.push({ file: f.file, profile: f.result.profile, reason: `no figure is defined for study '${f.result.study}' yet` });
      figures = [];
    }
    planned.push({ ...f, figures });
  }
  return { planned, skipped };
}

/**
 * The report of one profile as `npm run figures` writes it: every planned result with those of
 * its figures that are on disk. Depends on the folder's files only (the test that the committed
 * REPORT.md is current rebuilds it with this).
 */
export function reportFor(out: string, profile: Profile, plan: { planned: Planned[]; skipped: Skipped[] }): string {
  const dir = figureDir(out, profile);
  const rel = (name: string, ext: string) => relative(out, join(dir, `${name}.${ext}`)).split('\\').join('/');
  const entries: ReportEntry[] = plan.planned
    .filter((p) => p.result.profile === profile)
    .map(({ file, result, figures }) => ({
      file,
      result,
      figures: figures
        .filter((fig) => existsSync(join(dir, `${fig.name}.png`)))
        .map((fig) => ({ png: rel(fig.name, 'png'), svg: rel(fig.name, 'svg'), spec: rel(fig.name, 'vl.json'), caption: fig.caption })),
    }));
  const studies: ReportStudy[] = STUDIES.map((s) => ({ name: s.name, id: s.id, title: s.title, description: s.description }));
  return buildReport({ profile, studies, entries, skipped: plan.skipped.filter((s) => !s.profile || s.profile === profile) });
}

async function figuresCommand(a: FiguresArgs): Promise<number> {
  const known = STUDIES.map((s) => s.name);
  const wanted = a.studies && a.studies.length > 0 ? a.studies : null;
  for (const n of wanted ?? []) if (!known.includes(n)) throw new UserError(`unknown study '${n}' (known: ${known.join(', ')})`);
  if (!existsSync(a.out) || !statSync(a.out).isDirectory()) throw new UserError(`--out ${a.out}: no such folder (run \`npm run experiment -- <study>\` first)`);
  ensureWritableDir(a.out);
  const profiles: Profile[] = a.profile === 'all' ? [...PROFILES] : [a.profile];
  const plan = planFigures(a.out, profiles, known);
  for (const s of plan.skipped) process.stderr.write(`skipped ${join(a.out, s.file)}: ${s.reason}\n`);

  for (const profile of profiles) {
    const mine = plan.planned.filter((p) => p.result.profile === profile);
    if (mine.length === 0) process.stdout.write(`no ${profile} results in ${a.out}/\n`);
    for (const { result, figures } of mine) {
      if (wanted && !wanted.includes(result.study)) continue;
      for (const fig of figures) {
        const t0 = performance.now();
        const paths = await writeFigure(figureDir(a.out, profile), fig);
        process.stdout.write(`drew ${paths.png} (+ .svg, .vl.json) in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
      }
    }
    // The report covers every result; a study not redrawn this time keeps the figure on disk.
    if (a.report) {
      const path = reportPath(a.out, profile);
      writeFileAtomic(path, reportFor(a.out, profile, plan));
      process.stdout.write(`wrote ${path}\n`);
    }
  }
  if (plan.skipped.length > 0) {
    process.stderr.write(`${plan.skipped.length} file(s) skipped: ${plan.skipped.map((s) => basename(s.file)).join(', ')}\n`);
    return 1;
  }
  return 0;
}

export async function figuresCli(argv: string[]): Promise<number> {
  let exit: Promise<number> = Promise.resolve(0);
  await strictFlags(yargs(argv))
    .scriptName('npm run figures --')
    .usage('$0 [study...]  [options]\n\nDraws each study\'s figures from its result JSON (SVG, PNG and the Vega-Lite spec) and rewrites REPORT.md.')
    .command(
      '$0 [studies..]',
      'draw the figures of these studies (default: every result file found)',
      (y) =>
        y
          .positional('studies', { describe: 'study names (see `npm run experiment -- list`)', type: 'string', array: true })
          .option('out', { describe: 'results folder: reads <out>/*.json, writes <out>/figures/ and <out>/REPORT.md', default: 'results', type: 'string' })
          .option('profile', {
            describe: 'which result files: lecture (<study>.json), quick (<study>.quick.json -> figures/quick/, REPORT.quick.md), or all',
            default: 'lecture',
            coerce: oneOf('profile', [...PROFILES, 'all'] as const),
          })
          .option('report', { describe: 'rewrite REPORT.md (--no-report to skip)', type: 'boolean', default: true })
          .option('verbose', { describe: 'stack traces on errors', type: 'boolean', default: false }),
      (args) => {
        exit = figuresCommand(args as unknown as FiguresArgs);
      },
    )
    .example('$0', 'every lecture-scale result in results/ -> results/figures/, results/REPORT.md')
    .example('$0 optimizers-mnist', 'only S2\'s figure (REPORT.md is still rewritten from every result)')
    .example('$0 --profile quick', 'the quick runs -> results/figures/quick/, results/REPORT.quick.md')
    .strict()
    .help()
    .alias('h', 'help')
    .version(false)
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .fail((msg, err) => {
      if (err instanceof UserError) throw err;
      throw new UserError(msg ?? err?.message ?? 'bad arguments');
    })
    .parseAsync();
  return exit;
}

if (import.meta.url === `file://${process.argv[1]}`) await runMain(() => figuresCli(hideBin(process.argv)));
