/**
 * `npm run compare -- <result.json|folder>...` : two or more runs of one study side by side:
 * one figure with every run's curves overlaid (labelled by what differs), and a table of the
 * settings that differ, the key numbers and the claims' verdicts, run by run.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { changesHash } from '../config.js';
import { UserError } from '../errors.js';
import { formatValue } from '../format.js';
import { compareFigure, comparedCurves, differences, runLabels, type ComparedRun } from '../plot/compare.js';
import { fileInTheWay, writeFigure, FIGURE_FORMATS, type FigureFormat } from '../plot/render.js';
import { keyNumbersOf } from '../regression.js';
import { RUNS_DIR, readResult } from '../results/store.js';
import { findStudy } from '../../experiments/index.js';
import { commandDefaults, oneOf, strictFlags } from './args.js';
import { figuresOrWhyNot, MAX_RESULT_BYTES, scaleOf } from './figures.js';
import { runMain } from './main.js';

/** A result file no larger than figures draws (a huge series would hold the renderer for minutes). */
function readSized(file: string): ComparedRun['result'] {
  let size = 0;
  try {
    size = statSync(file).size;
  } catch {
    // readResult says why it cannot be read
  }
  if (size > MAX_RESULT_BYTES) throw new UserError(`${file}: is ${(size / 1e6).toFixed(1)} MB, more than the ${MAX_RESULT_BYTES / 1024 / 1024} MiB a result is drawn from (no study writes one this large; is it a result of this suite?)`);
  return readResult(file);
}

/** Every result file named, or found in a named folder (and its runs/). */
export function readRuns(inputs: string[]): ComparedRun[] {
  const runs: ComparedRun[] = [];
  for (const input of inputs) {
    if (!existsSync(input)) throw new UserError(`${input}: no such file or folder`);
    if (statSync(input).isDirectory()) {
      // Every result file in the folder and its runs/, whatever its name (a runs/ folder itself included).
      const files = [input, join(input, RUNS_DIR)].flatMap((d) =>
        existsSync(d) && statSync(d).isDirectory() ? readdirSync(d).filter((f) => f.endsWith('.json')).sort().map((f) => join(d, f)) : [],
      );
      const found = files.flatMap((file) => {
        try {
          return [{ file, result: readSized(file) }];
        } catch (err) {
          if (!(err instanceof UserError)) throw err;
          process.stderr.write(`skipped ${err.message}\n`);
          return [];
        }
      });
      if (found.length === 0) throw new UserError(`${input}: no result files in this folder`);
      runs.push(...found);
    } else {
      runs.push({ file: input, result: readSized(input) });
    }
  }
  return runs;
}

/** A plain-text table, columns padded. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) => cells.map((x, c) => x.padEnd(widths[c]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

interface CompareArgs {
  inputs: string[];
  out: string;
  scale: number;
  format: FigureFormat;
  csv: boolean;
}

/** --out must be a folder, or a path where one can be made: checked before any run is read. */
function checkOutFolder(out: string): void {
  const blocker = fileInTheWay(out);
  if (blocker === null) return;
  throw new UserError(blocker === resolve(out) ? `--out ${out} is a file, not a folder; choose a folder for the figure` : `--out ${out}: ${blocker} is a file, not a folder; choose another --out`);
}

async function compareCommand(a: CompareArgs): Promise<number> {
  checkOutFolder(a.out);
  const runs = readRuns(a.inputs);
  if (runs.length < 2) throw new UserError(`compare needs two or more runs of one study; found ${runs.length} (${runs.map((r) => r.file).join(', ') || 'none'})`);
  const studies = [...new Set(runs.map((r) => r.result.study))];
  if (studies.length > 1) throw new UserError(`compare takes runs of one study; these are of ${studies.join(', ')} (${runs.map((r) => `${r.file}: ${r.result.study}`).join('; ')})`);
  const study = findStudy(studies[0]!);
  if (!study) throw new UserError(`${runs[0]!.file}: study '${studies[0]}' is not in this suite`);
  // A run that `figures` would refuse to draw is refused here too, never left out of the figure unsaid.
  for (const r of runs) {
    const why = figuresOrWhyNot(r.result, [study]);
    if (typeof why === 'string') throw new UserError(`${r.file}: ${why}`);
  }
  const { panels, curves } = comparedCurves(study, runs);
  if (panels.length === 0) {
    throw new UserError(`nothing in common to draw: the runs of ${study.name} share no panel (${curves.map((c, i) => `${runs[i]!.file}: ${c.map((p) => p.panel).join(', ')}`).join('; ')})`);
  }
  const labels = runLabels(runs);
  const diff = differences(runs);
  const head = ['', ...labels.map((_, i) => `run ${i + 1}`)];
  const out: string[] = [`${study.id} ${study.name}: ${runs.length} runs`, ...runs.map((r, i) => `  run ${i + 1}: ${labels[i]}  (${r.file})`), ''];
  out.push('settings that differ', Object.keys(diff).length ? table(head, Object.entries(diff).map(([p, vs]) => [p, ...vs.map(formatValue)])) : '  (none: the runs share their config)', '');
  const numbers = runs.map((r) => keyNumbersOf(study, r.result));
  const names = [...new Set(numbers.flatMap((n) => Object.keys(n)))];
  out.push('key numbers', table(head, names.map((n) => [n, ...numbers.map((k) => (k[n] ? formatValue(k[n]!.value) : '-'))])), '');
  const claimIds = [...new Set(runs.flatMap((r) => r.result.claims.map((c) => c.id)))];
  const verdict = (r: ComparedRun, id: string) => {
    const c = r.result.claims.find((x) => x.id === id);
    return c ? c.verdict : '-';
  };
  out.push('claims', table(head, claimIds.map((id) => [id, ...runs.map((r) => verdict(r, id))])), '');
  process.stdout.write(out.join('\n') + '\n');

  const name = `compare-${study.name}-${changesHash(Object.fromEntries(runs.map((r, i) => [r.file, [i, r.result.startedAt]])))}`;
  const figure = compareFigure(study, runs, name);
  const paths = await writeFigure(a.out, figure, { scale: a.scale, format: a.format, csv: a.csv });
  process.stdout.write(`drew ${[paths.png, paths.svg].filter(Boolean).join(', ')}${paths.csv ? ` and ${paths.csv}` : ''}\n`);
  return 0;
}

export async function compareCli(argv: string[]): Promise<number> {
  let exit: Promise<number> = Promise.resolve(0);
  await commandDefaults(strictFlags(yargs(argv)))
    .scriptName('npm run compare --')
    .usage('$0 <result.json|folder> <result.json|folder>...  [options]\n\nOverlays two or more runs of one study and tabulates what differs between them.')
    .command(
      '$0 <inputs..>',
      false,
      (y) =>
        y
          .positional('inputs', { describe: 'result files, or folders of them', type: 'string', array: true })
          .option('out', { describe: 'folder for the figure', default: join('results', 'compare'), type: 'string' })
          .option('scale', { describe: 'PNG size as a multiple of the SVG\'s (1 to 8)', default: 2, coerce: scaleOf })
          .option('format', { describe: 'svg, png or both', default: 'both', coerce: oneOf('format', FIGURE_FORMATS) })
          .option('csv', { describe: 'also write the overlaid curves as a tidy CSV table', type: 'boolean', default: false })
          .option('verbose', { describe: 'stack traces on errors', type: 'boolean', default: false }),
      (args) => {
        exit = compareCommand(args as unknown as CompareArgs);
      },
    )
    .example('$0 results/optimizers-mnist.json results/runs/optimizers-mnist.lecture-9e20bb78.json', 'SGD at lr 0.01 against lr 0.1')
    .parseAsync();
  return exit;
}

if (import.meta.url === `file://${process.argv[1]}`) await runMain(() => compareCli(hideBin(process.argv)));
