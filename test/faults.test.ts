/**
 * One test per fault of a run's inputs and files (besides the full disk, in atomic.test.ts): the fault, the
 * one line, the exit code, and the earlier files left as they were.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defaultLoaders, selectBackend, type BackendLoader, type BackendName } from '../src/backend.js';
import { checkJournalPath, checkResultPath, checkSeedRange } from '../src/exec/checks.js';
import { integerAtLeast } from '../src/cli/args.js';
import { MNIST_FILES, defaultMnistDir, loadMnist, resolveMnistDir } from '../src/data/mnist.js';
import { UserError } from '../src/errors.js';
import { Journal, readJournal } from '../src/exec/journal.js';
import { hyperparameterSearch } from '../experiments/hyperparameter-search/study.js';
import { runCli, type CliOutcome } from './helpers/cli.js';
import { testContext } from './helpers/context.js';

const root = join(import.meta.dirname, '..');
const scratch = mkdtempSync(join(tmpdir(), 'faults-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function oneLine(args: string[], message: string, env: Record<string, string> = {}): Promise<CliOutcome> {
  const r = await runCli('experiment.ts', args, env);
  expect(r.stderr).toBe(`error: ${message}\n`);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  return r;
}

describe('numbers parse one way everywhere (plain decimal digits)', () => {
  it("refuses ' 5', '0x10', '1e3' and '+5' alike, accepts '5'", () => {
    const seed = integerAtLeast('seed', 0);
    for (const text of [' 5', '0x10', '1e3', '+5']) {
      expect(() => seed(text)).toThrow(new UserError(`--seed must be a whole number >= 0 written in plain digits (like 5), got '${text}'`));
    }
    expect(seed('5')).toBe(5);
    expect(seed(0)).toBe(0); // a default
  });

  it('the CLI refuses all four before any work, with one line', async () => {
    for (const text of [' 5', '0x10', '1e3', '+5']) {
      await oneLine(['optimizer-paths', '--seed', text], `--seed must be a whole number >= 0 written in plain digits (like 5), got '${text}'`);
    }
  });
});

describe('a flag given twice', () => {
  it('--out A --out B and --mnist-dir A --mnist-dir B are one clear line', async () => {
    await oneLine(['optimizer-paths', '--out', 'A', '--out', 'B'], "--out given twice ('A', 'B'); give it once");
    await oneLine(['optimizer-paths', '--mnist-dir', 'A', '--mnist-dir', 'B'], "--mnist-dir given twice ('A', 'B'); give it once");
    await oneLine(['optimizer-paths', '--seed', '1', '--seed', '2'], "--seed given twice ('1', '2'); give it once");
    const f = await runCli('figures.ts', ['--out', 'A', '--out', 'B']);
    expect(f.stderr).toBe("error: --out given twice ('A', 'B'); give it once\n");
    expect(f.code).toBe(2);
  });
});

describe('checks before work starts', () => {
  it('--seed 9007199254740991 --seeds 2 and a seed beyond 32 bits', async () => {
    expect(() => checkSeedRange(4294967295, 1)).not.toThrow();
    await oneLine(
      ['optimizer-paths', '--seed', '9007199254740991', '--seeds', '2', '--out', join(scratch, 'seeds')],
      '--seed 9007199254740991 --seeds 2 asks for seeds 9007199254740991..9007199254740992, but seeds are 32-bit: each must be 0..4294967295 (use --seed 4294967294 or less)',
    );
    await oneLine(
      ['optimizer-paths', '--seed', '4294967295', '--seeds', '3', '--out', join(scratch, 'seeds')],
      '--seed 4294967295 --seeds 3 asks for seeds 4294967295..4294967297, but seeds are 32-bit: each must be 0..4294967295 (use --seed 4294967293 or less)',
    );
  });

  it('a result path that is a folder fails before the run, and the folder is left alone', async () => {
    const out = join(scratch, 'resdir');
    mkdirSync(join(out, 'optimizers-mnist.quick.json', 'inside'), { recursive: true });
    const t0 = Date.now();
    await oneLine(
      ['optimizers-mnist', '--profile', 'quick', '--out', out],
      `the result file ${join(out, 'optimizers-mnist.quick.json')} is a folder, not a file; move it away or choose another --out`,
    );
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(readdirSync(join(out, 'optimizers-mnist.quick.json'))).toEqual(['inside']);
    expect(() => checkResultPath(out, 'optimizers-mnist', 'quick')).toThrow(UserError);
  });

  it('a journal path that is a folder fails before the run', async () => {
    const out = join(scratch, 'jdir');
    const j = join(out, 'hyperparameter-search.quick.seed0.journal.jsonl');
    mkdirSync(j, { recursive: true });
    await oneLine(['hyperparameter-search', '--profile', 'quick', '--out', out], `journal ${j} is a folder, not a file; move it away or choose another --out`);
    expect(() => checkJournalPath(j)).toThrow(UserError);
    expect(() => Journal.create(j, { a: 1 })).toThrow(`journal ${j} is a folder, not a file; move it away or choose another --out`);
    expect(() => readJournal(j)).toThrow(`journal ${j} is a folder, not a file; move it away or choose another --out`);
  });
});

describe('journals validated line by line', () => {
  const Header = z.object({ seed: z.number() });
  const Rec = z.object({ i: z.number().int(), acc: z.array(z.number()) });
  const validation = { header: Header, record: Rec };
  const file = (text: string) => {
    const p = join(mkdtempSync(join(scratch, 'journal-')), 's.journal.jsonl');
    writeFileSync(p, text);
    return p;
  };

  it('a line that is null: one line naming the journal, the line number and what to do; the file unchanged', () => {
    const text = '{"seed":1}\n{"i":0,"acc":[0.5]}\nnull\n{"i":2,"acc":[]}\n';
    const p = file(text);
    expect(() => readJournal(p)).toThrow(`journal ${p}: line 3 (record) is null, not a JSON object (the file is damaged; delete it or run without --resume to start over)`);
    expect(() => Journal.resume(p, { seed: 1 })).toThrow(/line 3 \(record\) is null/);
    expect(readFileSync(p, 'utf8')).toBe(text);
    const h = file('null\n');
    expect(() => readJournal(h)).toThrow(`journal ${h}: line 1 (header) is null, not a JSON object`);
  });

  it('wrong types and non-finite numbers are refused by the validator the caller passes', () => {
    const p = file('{"seed":1}\n{"i":0,"acc":[0.5]}\n{"i":"one","acc":[0.5]}\n');
    expect(() => readJournal(p, validation)).toThrow(`journal ${p}: line 3 (record) is invalid: i: Invalid input: expected number, received string (the file is damaged; delete it or run without --resume to start over)`);
    // 1e999 is how an infinity reaches JSON; NaN cannot be written at all (not valid JSON).
    const q = file('{"seed":1}\n{"i":0,"acc":[1e999]}\n{"i":1,"acc":[]}\n');
    expect(() => readJournal(q, validation)).toThrow(/line 2 \(record\) is invalid: acc\.0: .*Infinity/);
    const n = file('{"seed":1}\n{"i":0,"acc":[NaN]}\n{"i":1,"acc":[]}\n');
    expect(() => readJournal(n, validation)).toThrow(/line 2 is not valid JSON/);
    // a function works as a validator too, and the hint can name the caller's own flag
    const f = file('{"seed":1}\n{"i":-1,"acc":[]}\n');
    expect(() => readJournal(f, { record: (v) => ((v as { i: number }).i < 0 ? 'i is negative' : null), startOver: 'delete it or run with --fresh' })).toThrow(
      `journal ${f}: line 2 (record) is invalid: i is negative (the file is damaged; delete it or run with --fresh)`,
    );
    expect(() => Journal.resume(p, { seed: 1 }, validation)).toThrow(UserError);
    expect(readJournal(file('{"seed":1}\n{"i":0,"acc":[0.5]}\n'), validation).records).toEqual([{ i: 0, acc: [0.5] }]);
  });

  it('S7 --resume with a null line in its journal: one line, exit 2, the journal unchanged', async () => {
    // The journal an interrupted `--trials 2 --stages 1 --name n` run leaves: made in this
    // process with the header the CLI writes, then damaged.
    const out = join(scratch, 's7null');
    const config = { ...hyperparameterSearch.profiles.quick, trials: 2, stages: 1 };
    const mnist = loadMnist(defaultMnistDir());
    const t = testContext({ study: hyperparameterSearch, config, mnist: () => mnist, outDir: out, name: 'n' });
    await t.ctx.units.run([{ unit: 'trial', key: '1:0', input: { stage: 1, trial: 0, hp: { lr: 1e-3, decay: 1e-6 } } }]);
    t.close();
    const j = t.journal;
    const damaged = readFileSync(j, 'utf8').replace(/\n(?=\{"kind":"unit")/, '\nnull\n');
    writeFileSync(j, damaged);
    const args = ['hyperparameter-search', '--profile', 'quick', '--trials', '2', '--stages', '1', '--name', 'n', '--out', out, '--quiet', '--workers', '1'];
    const r = await runCli('experiment.ts', [...args, '--resume']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n').pop()).toMatch(new RegExp(`^error: journal ${j.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: line \\d+ \\(record\\) is null, not a JSON object \\(the file is damaged; delete it or run with --fresh to start over\\)$`));
    expect(r.stderr).not.toContain('Cannot convert undefined or null to object');
    expect(readFileSync(j, 'utf8')).toBe(damaged);
    // without --resume or --fresh the finished trial is not thrown away either
    const again = await runCli('experiment.ts', args);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('holds finished work of an earlier run of hyperparameter-search: add --resume to continue it, or --fresh to discard it and start over');
  });
});

describe('MNIST headers checked exactly', () => {
  const dir = defaultMnistDir();
  function folderWith(file: string, bytes: Buffer): string {
    const d = mkdtempSync(join(scratch, 'mnist-'));
    for (const f of Object.values(MNIST_FILES)) if (f !== file) copyFileSync(join(dir, f), join(d, f));
    writeFileSync(join(d, file), bytes);
    return d;
  }
  const header = (magic: number, dims: number[]) => {
    const b = Buffer.alloc(4 + 4 * dims.length);
    b.writeUInt32BE(magic, 0);
    dims.forEach((v, i) => b.writeUInt32BE(v, 4 + 4 * i));
    return b;
  };

  it('a test set of 0 images (valid headers) is an error, before any work', async () => {
    const d = folderWith(MNIST_FILES.testImages, header(0x803, [0, 28, 28]));
    writeFileSync(join(d, MNIST_FILES.testLabels), header(0x801, [0]));
    expect(() => loadMnist(d)).toThrow(`MNIST file corrupt: ${join(d, MNIST_FILES.testImages)}: header says 0 images; a split needs at least one`);
    await oneLine(['optimizers-mnist', '--profile', 'quick', '--mnist-dir', d, '--out', join(scratch, 'm0')], `MNIST file corrupt: ${join(d, MNIST_FILES.testImages)}: header says 0 images; a split needs at least one`);
  });

  it('images of 784x1 are refused (not only rows*cols)', () => {
    const full = readFileSync(join(dir, MNIST_FILES.testImages));
    const bytes = Buffer.from(full);
    bytes.writeUInt32BE(784, 8);
    bytes.writeUInt32BE(1, 12);
    const d = folderWith(MNIST_FILES.testImages, bytes);
    expect(() => loadMnist(d)).toThrow(`MNIST file corrupt: ${join(d, MNIST_FILES.testImages)}: images are 784x1, expected 28x28`);
  });

  it('image and label counts must match', () => {
    const labels = readFileSync(join(dir, MNIST_FILES.testLabels));
    const fewer = Buffer.concat([header(0x801, [9999]), labels.subarray(8, 8 + 9999)]);
    const d = folderWith(MNIST_FILES.testLabels, fewer);
    expect(() => loadMnist(d)).toThrow(`MNIST files disagree: ${join(d, MNIST_FILES.testImages)} has 10000 images, ${join(d, MNIST_FILES.testLabels)} has 9999 labels`);
    // also when only the first N are kept
    expect(() => loadMnist(d, { testLimit: 50 })).toThrow(/MNIST files disagree/);
  });

  it("MNIST_DIR='' means the default folder", async () => {
    const before = process.env.MNIST_DIR;
    process.env.MNIST_DIR = '';
    try {
      expect(resolveMnistDir()).toBe(defaultMnistDir());
    } finally {
      if (before === undefined) delete process.env.MNIST_DIR;
      else process.env.MNIST_DIR = before;
    }
    const r = await runCli('experiment.ts', ['init-mnist', '--profile', 'quick', '--out', join(scratch, 'emptyenv'), '--quiet', '--seed', 'x'], { MNIST_DIR: '' });
    expect(r.stderr).not.toContain('MNIST folder not found');
  });
});

describe('the launcher', () => {
  /** `npm run -s experiment -- ...` exactly as a user types it. */
  function npmRun(args: string[], env: Record<string, string>): Promise<CliOutcome & { ms: number }> {
    const t0 = Date.now();
    return new Promise((resolve) => {
      execFile('npm', ['run', '-s', 'experiment', '--', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr, ms: Date.now() - t0 });
      });
    });
  }

  it('TMPDIR set to a file, or to /proc/nope: a working run with one warning line, within seconds', async () => {
    const file = join(scratch, 'tmp-is-a-file');
    writeFileSync(file, 'x');
    for (const tmp of [file, '/proc/nope']) {
      const out = join(scratch, `tmpdir-${readdirSync(scratch).length}`);
      const r = await npmRun(['optimizer-paths', '--out', out, '--quiet', '--backend', 'wasm'], { TMPDIR: tmp });
      expect(r.code).toBe(0);
      expect(r.ms).toBeLessThan(30_000);
      expect(r.stderr.split('\n')[0]).toMatch(new RegExp(`^warning: TMPDIR=${tmp.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is not a usable folder \\((not a folder|ENOENT)\\); using /tmp for this run$`));
      expect(r.stderr).not.toContain('node:internal');
      expect(r.stdout).toContain(`wrote ${join(out, 'optimizer-paths.json')}`);
    }
  });
});

describe('wasm without its memory', () => {
  it('a real `ulimit -v 4000000`: the run works on cpu and says why wasm was skipped', async () => {
    const out = join(scratch, 'ulimit');
    const r = await new Promise<CliOutcome>((resolve) => {
      // As on a machine without tfjs-node (which `auto` would take first, and which loads under this limit).
      const env = { ...process.env, NODE_OPTIONS: `--import ${join(root, 'test', 'helpers', 'no-native.mjs')} ${process.env.NODE_OPTIONS ?? ''}`.trim() };
      execFile('sh', ['-c', `ulimit -v 4000000 && npm run -s experiment -- optimizer-paths --quiet --out '${out}'`], { cwd: root, encoding: 'utf8', timeout: 120_000, env }, (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
      );
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^backend: cpu \(skipped .*wasm: wasm backend could not reserve its memory \(ulimit -v\? .*; using cpu instead\)$/m);
    expect(r.stderr).not.toContain('RangeError');
    expect(r.stdout).toContain(`wrote ${join(out, 'optimizer-paths.json')}`);
  });

  const oom: BackendLoader = async () => {
    throw new RangeError('WebAssembly.Memory(): could not allocate memory');
  };
  const loaders = (over: Partial<Record<BackendName, BackendLoader>>) => ({ ...defaultLoaders, ...over });

  it('auto says why wasm was skipped and which backend runs instead', async () => {
    const sel = await selectBackend('auto', loaders({ tensorflow: async () => { throw new Error('no tfjs-node'); }, wasm: oom }));
    expect(sel.name).toBe('cpu');
    expect(sel.skipped[1]).toEqual({
      name: 'wasm',
      reason: 'wasm backend could not reserve its memory (ulimit -v? WebAssembly needs about 10 GB of address space; raise or remove the limit): WebAssembly.Memory(): could not allocate memory; using cpu instead',
    });
  });

  it('--backend wasm is one line saying so', async () => {
    const err = await selectBackend('wasm', loaders({ wasm: oom })).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toBe(
      "backend 'wasm' cannot be loaded: wasm backend could not reserve its memory (ulimit -v? WebAssembly needs about 10 GB of address space; raise or remove the limit): WebAssembly.Memory(): could not allocate memory",
    );
  });
});

describe('figures draws every study it can', () => {
  const FIXTURES = join(import.meta.dirname, 'fixtures', 'results');

  it('a dangling link, a series of the wrong shape and an oversized file are each one skipped line; the rest is drawn and REPORT.md written', async () => {
    const { figuresCli } = await import('../src/cli/figures.js');
    const { MAX_RESULT_BYTES } = await import('../src/cli/figures.js');
    const { symlinkSync } = await import('node:fs');
    const dir = mkdtempSync(join(scratch, 'figs-'));
    copyFileSync(join(FIXTURES, 'init-mnist.json'), join(dir, 'init-mnist.json'));
    symlinkSync(join(dir, 'gone.json'), join(dir, 'batchnorm.json')); // a link to nothing, named like a result
    const paths = JSON.parse(readFileSync(join(FIXTURES, 'optimizer-paths.json'), 'utf8'));
    paths.runs[0].series.paths = 5;
    writeFileSync(join(dir, 'optimizer-paths.json'), JSON.stringify(paths));
    const big = JSON.parse(readFileSync(join(FIXTURES, 'overfit.json'), 'utf8'));
    big.runs[0].series.padding = 'x'.repeat(MAX_RESULT_BYTES);
    writeFileSync(join(dir, 'overfit.json'), JSON.stringify(big));
    const lines: string[] = [];
    const err = (await import('vitest')).vi.spyOn(process.stderr, 'write').mockImplementation((c) => (lines.push(String(c)), true));
    const out = (await import('vitest')).vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    let code: number;
    try {
      code = await figuresCli(['--out', dir]);
    } finally {
      err.mockRestore();
      out.mockRestore();
    }
    expect(code).toBe(1);
    const skipped = lines.filter((l) => l.startsWith('skipped '));
    expect(skipped.find((l) => l.includes('batchnorm.json'))).toMatch(/cannot be read \(ENOENT: a link to nothing\)/);
    expect(skipped.find((l) => l.includes('optimizer-paths.json'))).toMatch(/cannot be drawn: its series are not what optimizer-paths records \(no curve has a point\)/);
    expect(skipped.find((l) => l.includes('overfit.json'))).toMatch(/is 8\.\d MB, more than the 8 MiB a result is drawn from/);
    expect(readdirSync(join(dir, 'figures'))).toContain('init-mnist.png');
    expect(readdirSync(join(dir, 'figures')).some((f) => f.startsWith('optimizer-paths'))).toBe(false);
    const report = readFileSync(join(dir, 'REPORT.md'), 'utf8');
    expect(report).toContain('## Files skipped');
    expect(report).toContain('## S4 init-mnist');
  });
});

describe('a worker process that dies', () => {
  it('is one line saying how it stopped and that finished units are kept', async () => {
    const { WorkerPool } = await import('../src/exec/pool.js');
    const { SUITE } = await import('../src/cli/experiment.js');
    const pool = new WorkerPool(1, { backend: 'wasm', mnistDir: defaultMnistDir(), registry: SUITE.module }, () => {});
    const config = { ...hyperparameterSearch.profiles.quick, epochs: 200 };
    const job = { study: 'hyperparameter-search', config, seed: 0, task: { unit: 'trial', key: '1:0', input: { stage: 1, trial: 0, hp: { lr: 1e-3, decay: 1e-6 } } } };
    const running = pool.runUnits([job, { ...job, task: { ...job.task, key: '1:1' } }], () => {});
    // kill the worker once it is busy with the first trial
    await new Promise((r) => setTimeout(r, 3000));
    for (const pid of pool.pids()) process.kill(pid, 'SIGKILL');
    await expect(running).rejects.toThrow(/^a worker process was killed by SIGKILL while running hyperparameter-search 1:0; the units finished so far are in the journal: run again with --resume$/);
    pool.close();
  });
});

describe('bad files and folders given to compare and figures', () => {
  const fixture = join(root, 'test', 'fixtures', 'results', 'optimizer-paths.json');
  const variant = (name: string, change: (r: { runs: { series: Record<string, unknown> }[] }) => void): string => {
    const r = JSON.parse(readFileSync(fixture, 'utf8'));
    change(r);
    const path = join(scratch, name);
    writeFileSync(path, JSON.stringify(r));
    return path;
  };
  const refused = async (script: string, args: string[], line: string | RegExp) => {
    const r = await runCli(script, args);
    if (typeof line === 'string') expect(r.stderr).toBe(`error: ${line}\n`);
    else expect(r.stderr).toMatch(line);
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(r.stderr).not.toContain('internal error');
    expect(r.code).toBe(2);
  };

  it('compare --out naming a regular file, or a path through one: one line, nothing drawn', async () => {
    const file = join(scratch, 'not-a-folder');
    writeFileSync(file, 'mine\n');
    await refused('compare.ts', [fixture, fixture, '--out', file], `--out ${file} is a file, not a folder; choose a folder for the figure`);
    await refused('compare.ts', [fixture, fixture, '--out', join(file, 'sub')], `--out ${join(file, 'sub')}: ${file} is a file, not a folder; choose another --out`);
    expect(readFileSync(file, 'utf8')).toBe('mine\n');
  });

  it('compare of a run whose series is empty, or whose paths are empty: refused by name, as figures refuses it', async () => {
    const noSeries = variant('no-series.json', (r) => (r.runs[0]!.series = {}));
    const noPaths = variant('no-paths.json', (r) => (r.runs[0]!.series.paths = {}));
    const out = join(scratch, 'cmp-empty');
    await refused('compare.ts', [noSeries, fixture, '--out', out], new RegExp(`^error: ${noSeries}: cannot be drawn: its series are not what optimizer-paths records \\(`));
    await refused('compare.ts', [fixture, noPaths, '--out', out], `${noPaths}: cannot be drawn: its series are not what optimizer-paths records (no curve has a point)`);
    expect(existsSync(out)).toBe(false);
  });

  it('figures into a folder whose figures is a regular file: one line before anything is written', async () => {
    const dir = join(scratch, 'figures-file');
    mkdirSync(dir);
    copyFileSync(fixture, join(dir, 'optimizer-paths.json'));
    writeFileSync(join(dir, 'figures'), 'a file\n');
    writeFileSync(join(dir, 'REPORT.md'), 'earlier report\n');
    await refused('figures.ts', ['--out', dir], `${join(dir, 'figures')} is a file, not a folder, where the lecture figures go: move it away or choose another --out (nothing was written)`);
    expect(readFileSync(join(dir, 'REPORT.md'), 'utf8')).toBe('earlier report\n');
    expect(readdirSync(dir).sort()).toEqual(['REPORT.md', 'figures', 'optimizer-paths.json']);
  });
});

describe('more bad files, each one line naming it', () => {
  const fixture = join(root, 'test', 'fixtures', 'results', 'optimizer-paths.json');

  it('figures --out naming a file says it is a file; a result with a byte-order mark is read; compare refuses a result too large to draw', async () => {
    const file = join(scratch, 'results-file.json');
    copyFileSync(fixture, file);
    const f = await runCli('figures.ts', ['--out', file]);
    expect(f.stderr).toBe(`error: --out ${file} is a file, not a folder: give the results folder\n`);
    expect(f.code).toBe(2);
    const bom = join(scratch, 'bom-result.json');
    writeFileSync(bom, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), readFileSync(fixture)]));
    const { readResult } = await import('../src/results/store.js');
    expect(readResult(bom).study).toBe('optimizer-paths');
    const huge = join(scratch, 'huge-result.json');
    writeFileSync(huge, readFileSync(fixture, 'utf8').replace('{', `{"padding": "${'x'.repeat(9 * 1024 * 1024)}",`));
    const c = await runCli('compare.ts', [fixture, huge, '--out', join(scratch, 'cmp-huge')]);
    expect(c.stderr).toBe(`error: ${huge}: is 9.4 MB, more than the 8 MiB a result is drawn from (no study writes one this large; is it a result of this suite?)\n`);
    expect(c.code).toBe(2);
  });

  it('a result or shard nested hundreds of thousands deep: one line from figures, compare and merge, never a stack overflow', async () => {
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    const dir = join(scratch, 'deep');
    mkdirSync(join(dir, 'shards'), { recursive: true });
    const result = join(dir, 'optimizer-paths.json');
    writeFileSync(result, readFileSync(fixture, 'utf8').replace('"minimum"', `"deep": ${deep}, "minimum"`));
    const why = 'nested more than 64 levels deep, deeper than any result of this suite (not a result file of this suite)';
    const f = await runCli('figures.ts', ['--out', dir]);
    expect(f.stderr).toBe(`skipped ${result}: ${why}\n1 file(s) skipped: optimizer-paths.json\n`);
    expect(f.code).toBe(1);
    const c = await runCli('compare.ts', [result, fixture, '--out', join(dir, 'cmp')]);
    expect(c.stderr).toBe(`error: ${result}: ${why}\n`);
    expect(c.code).toBe(2);
    const shard = join(dir, 'shards', 'optimizer-paths.quick.shard-1-of-1.json');
    writeFileSync(shard, `{"kind": "shard", "x": ${deep}}`);
    const m = await runCli('experiment.ts', ['merge', join(dir, 'shards'), '--out', join(dir, 'merged')]);
    expect(m.stderr.split('\n')[0]).toBe(`error: ${shard}: nested more than 64 levels deep, deeper than any shard file of this suite (not a shard file)`);
    expect(m.stderr).not.toContain('internal error');
    expect(m.code).toBe(2);
  });
});
