/**
 * The sharding examples of docs/sharding/ are run, not just written: each file is parsed (the
 * manifest and the workflow as YAML, the Slurm scripts' #SBATCH lines), and its command lines
 * are run here with the variables its scheduler would set, one shard after another, then its
 * merge; the merged results must equal one unsharded run number for number.
 *
 * One substitution, the same for every example, so that this takes seconds: the lecture suite
 * (`all`) becomes S1 (`optimizer-paths`) at `--profile quick`, with `--workers 1 --quiet`. The
 * seeds (5) and shards (8) are the examples' own. Paths in the commands (--out, merge's
 * folders) are taken inside a scratch folder: the Kubernetes volume, each GitHub runner's
 * workspace, the Slurm submit folder. GitHub's artifact steps are done by copying folders.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse } from 'yaml';
import { captured, numbersOf } from './helpers/shard.js';

const docs = join(import.meta.dirname, '..', 'docs', 'sharding');
const scratch = mkdtempSync(join(tmpdir(), 'sharding-examples-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const LECTURE = ['all', '--seeds', '5'];
const SMALL = ['optimizer-paths', '--profile', 'quick', '--seeds', '5', '--workers', '1', '--quiet'];
const reference = join(scratch, 'reference');

/** Words of a command line, with $VAR and ${VAR} from `env`; anything else of the shell is refused. */
function words(line: string, env: Record<string, string>): string[] {
  if (/[|;&<>`]|\$\(/.test(line)) throw new Error(`not a plain command line: ${line}`);
  const expanded = line.replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, a?: string, b?: string) => env[(a ?? b)!] ?? '');
  return [...expanded.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

/**
 * Runs `npm run experiment -- ...` as the example gives it, with the substitution above and the
 * paths under `root`, and with `env` set as the scheduler would.
 */
async function runExample(argv: string[], env: Record<string, string>, root: string): Promise<void> {
  expect(argv.slice(0, 4)).toEqual(['npm', 'run', 'experiment', '--']);
  let args = argv.slice(4);
  if (args[0] !== 'merge') {
    expect(args.slice(0, 3)).toEqual(LECTURE);
    args = [...SMALL, ...args.slice(3)];
  }
  const local = (p: string) => join(root, isAbsolute(p) ? p.slice(1) : p);
  // --out's value, and merge's folders (its words that are neither flags nor a flag's value).
  args = args.map((a, k) => {
    const isPath = args[k - 1] === '--out' || (args[0] === 'merge' && k > 0 && !a.startsWith('--') && !args[k - 1]!.startsWith('--'));
    return isPath ? local(a) : a;
  });
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const r = await captured(args);
    expect(r.code, r.err).toBe(0);
  } finally {
    for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

const sameAsOneRun = (dir: string) => expect(numbersOf(join(dir, 'optimizer-paths.quick.json'))).toEqual(numbersOf(join(reference, 'optimizer-paths.quick.json')));

beforeAll(async () => {
  const r = await captured([...SMALL, '--out', reference]);
  expect(r.code, r.err).toBe(0);
});

describe('the sharding examples run as written', () => {
  it('Kubernetes: an Indexed Job of 8 pods, then the merge Job', async () => {
    const [shards, merge] = parseAllDocuments(readFileSync(join(docs, 'kubernetes-job.yaml'), 'utf8')).map((d) => d.toJS());
    expect(shards.kind).toBe('Job');
    expect(shards.spec.completionMode).toBe('Indexed');
    const n = shards.spec.completions as number;
    expect(n).toBe(8);
    const container = shards.spec.template.spec.containers[0];
    const env = Object.fromEntries(container.env.map((e: { name: string; value: string }) => [e.name, e.value]));
    expect(env.EXPERIMENT_SHARD_COUNT).toBe(String(n));
    const volume = join(scratch, 'k8s');
    for (let index = 0; index < n; index++) await runExample(container.command, { ...env, JOB_COMPLETION_INDEX: String(index) }, volume);
    await runExample(merge.spec.template.spec.containers[0].command, {}, volume);
    sameAsOneRun(join(volume, 'results', 'merged'));
  });

  it('GitHub Actions: a matrix of 8 jobs, their artifacts, then the merge job', async () => {
    const wf = parse(readFileSync(join(docs, 'github-actions.yml'), 'utf8'));
    const shard = wf.jobs.shard;
    const matrix = shard.strategy.matrix.shard as number[];
    expect(matrix).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(wf.jobs.merge.needs).toBe('shard');
    const commands = (job: { steps: { run?: string }[] }) => job.steps.map((s) => s.run).filter((r): r is string => r?.startsWith('npm run experiment') ?? false);
    const upload = shard.steps.find((s: { uses?: string }) => s.uses?.startsWith('actions/upload-artifact'));
    const download = wf.jobs.merge.steps.find((s: { uses?: string }) => s.uses?.startsWith('actions/download-artifact'));
    expect(download.with.pattern).toBe('shard-*');
    const mergeJob = join(scratch, 'gha', 'merge');
    for (const k of matrix) {
      const ctx = (text: string) => String(text).replace(/\$\{\{\s*matrix\.shard\s*\}\}/g, String(k));
      const env = Object.fromEntries(Object.entries(shard.env as Record<string, unknown>).map(([key, v]) => [key, ctx(String(v))]));
      const workspace = join(scratch, 'gha', `shard-${k}`);
      for (const line of commands(shard)) await runExample(words(line, env), env, workspace);
      // upload-artifact name shard-k, path out/shards/ -> download-artifact pattern shard-* into shards/shard-k/
      cpSync(join(workspace, upload.with.path), join(mergeJob, download.with.path, ctx(upload.with.name)), { recursive: true });
    }
    for (const line of commands(wf.jobs.merge)) await runExample(words(line, {}), {}, mergeJob);
    sameAsOneRun(join(mergeJob, 'results'));
  });

  it('Slurm: an array of 8 tasks, then the merge job', async () => {
    const script = (name: string) => readFileSync(join(docs, name), 'utf8').split('\n');
    const shards = script('slurm-shards.sh');
    const array = /^#SBATCH --array=(\d+)-(\d+)$/.exec(shards.find((l) => l.startsWith('#SBATCH --array='))!)!;
    const [min, max] = [Number(array[1]), Number(array[2])];
    expect(max - min + 1).toBe(8);
    const commands = (lines: string[]) => lines.filter((l) => l.startsWith('npm run experiment'));
    const submitDir = join(scratch, 'slurm');
    mkdirSync(submitDir, { recursive: true });
    for (let id = min; id <= max; id++) {
      const env = { SLURM_ARRAY_TASK_ID: String(id), SLURM_ARRAY_TASK_COUNT: String(max - min + 1), SLURM_ARRAY_TASK_MIN: String(min), SLURM_ARRAY_TASK_MAX: String(max), SLURM_ARRAY_TASK_STEP: '1' };
      for (const line of commands(shards)) await runExample(words(line, env), env, submitDir);
    }
    for (const line of commands(script('slurm-merge.sh'))) await runExample(words(line, {}), {}, submitDir);
    sameAsOneRun(join(submitDir, 'runs', 'seeds5', 'merged'));
  });
});
