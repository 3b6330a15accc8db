/**
 * `npm run baselines [-- <study...>]`: regenerates, on purpose, the committed baselines that
 * CI's regression suite compares against (results/baselines/quick/<study>.json): each study's
 * quick profile with seed 0, its key numbers and their tolerances. `--backend tensorflow` writes
 * that backend's own baselines (results/baselines/quick/tensorflow/).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { STUDIES, findStudy } from '../../experiments/index.js';
import { BACKEND_CHOICES, selectBackend, type BackendChoice } from '../backend.js';
import { resolveMnistDir } from '../data/mnist.js';
import { UserError } from '../errors.js';
import { BASELINE_SEED, baselineDirFor, baselineFrom, readBaseline, writeBaseline } from '../regression.js';
import { SILENT_SINK } from '../exec/events.js';
import { mnistFrom, runStudy } from '../exec/runner.js';
import type { StudyResult } from '../results/schema.js';
import type { AnyStudy } from '../study.js';
import { commandDefaults, oneOf, strictFlags } from './args.js';
import { runMain } from './main.js';

/** The quick profile of a study with the baseline seed, written to `outDir` (not results/). */
async function runQuickProfile(study: AnyStudy, outDir: string, mnistDir: string): Promise<StudyResult> {
  const { result } = await runStudy({
    study,
    profile: 'quick',
    seed: BASELINE_SEED,
    seeds: 1,
    outDir,
    mnistDir,
    config: study.profiles.quick,
    name: null,
    overrides: {},
    resume: false,
    fresh: false,
    pool: null,
    sink: SILENT_SINK,
  });
  return result;
}

async function baselines(argv: string[]): Promise<number> {
  const a = await commandDefaults(strictFlags(yargs(argv)))
    .scriptName('npm run baselines --')
    .usage('$0 [study...]\n\nReruns the quick profile (seed 0) of every study, or of those named, and rewrites results/baselines/quick/<study>.json (tensorflow: results/baselines/quick/tensorflow/<study>.json).')
    .command('$0 [studies..]', false, (y) => y.positional('studies', { type: 'string', array: true, describe: 'study names (default: all)' }))
    .option('backend', { default: 'wasm', coerce: oneOf('backend', BACKEND_CHOICES), describe: 'backend the baselines are measured on' })
    .option('mnist-dir', { type: 'string', describe: 'folder with the MNIST IDX files' })
    .option('verbose', { type: 'boolean', default: false })
    .parseAsync();
  const names = ((a.studies as string[] | undefined) ?? []).map(String);
  const studies = names.length === 0 ? STUDIES : names.map((n) => findStudy(n) ?? (() => { throw new UserError(`unknown study '${n}' (known: ${STUDIES.map((s) => s.name).join(', ')})`); })());
  const mnistDir = resolveMnistDir(a['mnist-dir']);
  if (studies.some((s) => s.needsMnist)) mnistFrom(mnistDir);
  const backend = await selectBackend(a.backend as BackendChoice);
  process.stdout.write(`backend: ${backend.name}\n`);
  const dir = baselineDirFor(backend.name);
  mkdirSync(dir, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'baselines-'));
  try {
    for (const study of studies) {
      const t0 = performance.now();
      const result = await runQuickProfile(study, scratch, mnistDir);
      const before = readBaseline(study.name, dir);
      const b = baselineFrom(study, result);
      const path = writeBaseline(b, dir);
      const failing = result.claims.filter((c) => c.verdict === 'FAILS').map((c) => c.id);
      const undecided = result.claims.filter((c) => c.verdict === 'inconclusive').map((c) => c.id);
      process.stdout.write(
        `${study.name}: ${Object.keys(b.numbers).length} numbers, ${((performance.now() - t0) / 1000).toFixed(1)} s -> ${path}` +
          `${before ? '' : ' (new)'}${failing.length ? `; claims FAIL at quick scale: ${failing.join(', ')}` : ''}` +
          `${undecided.length ? `; inconclusive at quick scale: ${undecided.join(', ')}` : ''}\n`,
      );
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return 0;
}

await runMain(() => baselines(hideBin(process.argv)));
