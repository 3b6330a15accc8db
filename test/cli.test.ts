import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MNIST_FILES, defaultMnistDir } from '../src/data/mnist.js';
import { readResult } from '../src/results/store.js';
import { runCli } from './helpers/cli.js';

const scratch = mkdtempSync(join(tmpdir(), 'cli-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A bad input: exit code 2, exactly one line on stderr, nothing on stdout. */
async function expectOneLineError(args: string[], message: string, env: Record<string, string> = {}) {
  const r = await runCli('experiment.ts', args, env);
  expect(r.stderr).toBe(`error: ${message}\n`);
  expect(r.code).toBe(2);
  return r;
}

describe('experiment CLI', () => {
  it('lists the studies', async () => {
    const r = await runCli('experiment.ts', ['list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^S1 +optimizer-paths /m);
    expect(r.stdout).toMatch(/^S2 +optimizers-mnist /m);
  });

  it('--help names the flags', async () => {
    const r = await runCli('experiment.ts', ['--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--profile', '--seed', '--seeds', '--backend', '--out', '--mnist-dir']) expect(r.stdout).toContain(flag);
  });

  it('runs S1 end to end and writes a valid result whose claims hold (but the one the lecture\'s rates do not reproduce)', async () => {
    const out = join(scratch, 'run');
    const r = await runCli('experiment.ts', ['optimizer-paths', '--out', out, '--backend', 'wasm']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('backend: wasm');
    expect(r.stdout).toContain(`wrote ${join(out, 'optimizer-paths.json')}`);
    const result = readResult(join(out, 'optimizer-paths.json'));
    expect(result.environment.backend).toBe('wasm');
    expect(result.claims.length).toBeGreaterThan(0);
    // At the lecture's rates (SGD 0.95, Momentum 0.1) SGD is closer to the minimum in x after 30 steps.
    expect(result.claims.filter((c) => c.verdict !== 'holds').map((c) => [c.id, c.verdict])).toEqual([['momentum-faster-along-x', 'FAILS']]);
    expect(r.stdout).toContain('1 claim(s) FAIL');
    // atomic write: no temporary file left beside it
    expect(readdirSync(out)).toEqual(['optimizer-paths.json']);
  });

  it('unknown study', async () => {
    const listed = (await runCli('experiment.ts', ['list'])).stdout;
    await expectOneLineError(['nope'], "unknown study 'nope' (known: " + listed.split('\n').filter(Boolean).map((l) => l.split(/ +/)[1]).join(', ') + ", all; see 'list')");
  });

  it('negative, fractional and non-numeric seeds', async () => {
    await expectOneLineError(['optimizer-paths', '--seed', '-1'], "--seed must be a whole number >= 0, got '-1'");
    await expectOneLineError(['optimizer-paths', '--seed', '1.5'], "--seed must be a whole number >= 0, got '1.5'");
    await expectOneLineError(['optimizer-paths', '--seeds', '0'], "--seeds must be a whole number >= 1, got '0'");
    await expectOneLineError(['optimizer-paths', '--seed', 'abc'], "--seed must be a whole number >= 0, got 'abc'");
  });

  it('unknown backend and profile', async () => {
    await expectOneLineError(['optimizer-paths', '--backend', 'nope'], "--backend must be one of auto, tensorflow, wasm, cpu; got 'nope'");
    await expectOneLineError(['optimizer-paths', '--profile', 'x'], "--profile must be one of lecture, quick; got 'x'");
  });

  it('a backend that cannot load is an error', async () => {
    const r = await runCli('experiment.ts', ['optimizer-paths', '--backend', 'tensorflow', '--out', join(scratch, 'tf')]);
    if (r.code === 0) return; // tfjs-node is installed on this machine: nothing to check
    expect(r.stderr).toMatch(/^error: backend 'tensorflow' cannot be loaded: .+\n$/);
    expect(r.code).toBe(2);
  });

  it('a corrupt IDX file in --mnist-dir is named, and nothing is trained', async () => {
    const d = mkdtempSync(join(scratch, 'mnist-'));
    for (const f of Object.values(MNIST_FILES)) copyFileSync(join(defaultMnistDir(), f), join(d, f));
    const bad = readFileSync(join(d, MNIST_FILES.trainImages)).subarray(0, 5000);
    writeFileSync(join(d, MNIST_FILES.trainImages), bad);
    await expectOneLineError(
      ['optimizers-mnist', '--profile', 'quick', '--mnist-dir', d, '--out', join(scratch, 'x')],
      `MNIST file corrupt: ${join(d, MNIST_FILES.trainImages)}: header says 60000 images (47040016 bytes) but the file has 5000 bytes`,
    );
    // MNIST_DIR works the same way
    await expectOneLineError(['optimizers-mnist', '--out', join(scratch, 'x')], `MNIST file corrupt: ${join(d, MNIST_FILES.trainImages)}: header says 60000 images (47040016 bytes) but the file has 5000 bytes`, { MNIST_DIR: d });
  });

  it('an --out that is a file, or cannot be made, and the file is left alone', async () => {
    const file = join(scratch, 'a-file');
    writeFileSync(file, 'keep me');
    await expectOneLineError(['optimizer-paths', '--out', file], `--out ${file} is a file, not a folder`);
    expect(readFileSync(file, 'utf8')).toBe('keep me');
    await expectOneLineError(['optimizer-paths', '--out', join(file, 'sub')], `--out ${join(file, 'sub')} is not writable (ENOTDIR)`);
  });

  it('flags of single studies, a missing study name and an --out that cannot be made', async () => {
    await expectOneLineError(['hyperparameter-search', '--trials', '-1'], "--trials must be a whole number >= 1, got '-1'");
    await expectOneLineError(['hyperparameter-search', '--stages', '1.5'], "--stages must be a whole number >= 1, got '1.5'");
    await expectOneLineError(['overfit', '--variant', 'bogus'], "--variant must be one of plain, weight-decay, dropout, dropout-control, all; got 'bogus'");
    await expectOneLineError(['--seed', '3'], "name a study to run, or all (see 'list' and --help)");
    await expectOneLineError(['optimizer-paths', '--out', '/proc/nope'], '--out /proc/nope is not writable (ENOENT)');
  });

  it('an unknown flag', async () => {
    await expectOneLineError(['optimizer-paths', '--sede', '3'], 'Unknown argument: sede: study settings are changed with --set <path>=<value> (see --print-config for the paths; --help for flags)');
  });

  it('a failed run leaves the previous result intact', async () => {
    const out = join(scratch, 'keep');
    expect((await runCli('experiment.ts', ['optimizer-paths', '--out', out])).code).toBe(0);
    const before = readFileSync(join(out, 'optimizer-paths.json'), 'utf8');
    await runCli('experiment.ts', ['optimizer-paths', '--out', out, '--seed', 'x']);
    expect(existsSync(join(out, 'optimizer-paths.json'))).toBe(true);
    expect(readFileSync(join(out, 'optimizer-paths.json'), 'utf8')).toBe(before);
  });
});

describe('interruption', () => {
  it('Ctrl-C (SIGINT) mid-run ends the run at once; the previous result is intact, no temporary file', async () => {
    const { spawn } = await import('node:child_process');
    const out = join(scratch, 'sigint');
    const previous = await runCli('experiment.ts', ['optimizer-paths', '--out', out]);
    expect(previous.code).toBe(0);
    // a stand-in for an earlier lecture result: it must survive the interrupted run untouched
    writeFileSync(join(out, 'optimizers-mnist.quick.json'), '{"earlier": true}\n');
    const child = spawn(join(import.meta.dirname, '..', 'node_modules', '.bin', 'tsx'), [join(import.meta.dirname, '..', 'src', 'cli', 'experiment.ts'), 'optimizers-mnist', '--profile', 'quick', '--out', out], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    // wait until training has started, then interrupt
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (stdout.includes('S2 optimizers-mnist')) {
          clearInterval(timer);
          setTimeout(resolve, 1500);
        }
      }, 100);
    });
    // tsx forwards the signal to the node process it runs
    child.kill('SIGINT');
    const t0 = Date.now();
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
    expect(Date.now() - t0).toBeLessThan(5000);
    // ended by the signal: tsx reports it as 130 (128 + SIGINT), node itself as the signal
    expect(code === 130 || signal === 'SIGINT').toBe(true);
    expect(stdout).not.toContain('wrote');
    void stderr;
    expect(readFileSync(join(out, 'optimizers-mnist.quick.json'), 'utf8')).toBe('{"earlier": true}\n');
    expect(readdirSync(out).sort()).toEqual(['optimizer-paths.json', 'optimizers-mnist.quick.json']);
  });
});

describe('workers', () => {
  it('S7 trials spread over two worker processes give the same numbers as one process', async () => {
    const args = ['hyperparameter-search', '--profile', 'quick', '--trials', '3', '--stages', '1', '--name', 'small', '--quiet'];
    const one = join(scratch, 's7-w1');
    const two = join(scratch, 's7-w2');
    const r1 = await runCli('experiment.ts', [...args, '--out', one, '--workers', '1']);
    const r2 = await runCli('experiment.ts', [...args, '--out', two, '--workers', '2']);
    expect(r1.code).toBe(0);
    expect(r2.code).toBe(0);
    expect(r2.stderr).toContain('units run in 2 worker processes');
    const a = readResult(join(one, 'runs', 'hyperparameter-search.small.json'));
    const b = readResult(join(two, 'runs', 'hyperparameter-search.small.json'));
    expect(a.overrides).toEqual({ trials: [12, 3], stages: [2, 1] });
    expect(b.runs[0]!.series).toEqual(a.runs[0]!.series);
    expect(b.claims).toEqual(a.claims);
  });

  it('S5 scales and S6 variants as units in two worker processes give the same numbers as one process', async () => {
    const runs = [
      ['batchnorm', '--set', 'scales=[1,0.05,0.001]', '--set', 'epochs=3', '--set', 'trainSize=300'],
      ['overfit', '--set', 'specs.plain.epochs=3', '--set', 'specs.weight-decay.epochs=3', '--set', 'specs.dropout.epochs=4', '--set', 'specs.dropout-control.epochs=4', '--set', 'testSize=500'],
    ];
    for (const args of runs) {
      const one = join(scratch, `${args[0]}-w1`);
      const two = join(scratch, `${args[0]}-w2`);
      const r1 = await runCli('experiment.ts', [...args, '--profile', 'quick', '--name', 'u', '--quiet', '--out', one, '--workers', '1']);
      const r2 = await runCli('experiment.ts', [...args, '--profile', 'quick', '--name', 'u', '--quiet', '--out', two, '--workers', '2']);
      expect(r1.code, r1.stderr).toBe(0);
      expect(r2.code, r2.stderr).toBe(0);
      expect(r2.stderr).toContain('units run in 2 worker processes');
      const a = readResult(join(one, 'runs', `${args[0]}.u.json`));
      const b = readResult(join(two, 'runs', `${args[0]}.u.json`));
      expect(b.runs[0]!.series).toEqual(a.runs[0]!.series);
      expect(b.runs[0]!.summary).toEqual(a.runs[0]!.summary);
    }
  });

  it('several studies in two worker processes give the same numbers as one process', async () => {
    const one = join(scratch, 'w1');
    const two = join(scratch, 'w2');
    const studies = ['optimizer-paths', 'init-activations'];
    const r1 = await runCli('experiment.ts', [...studies, '--out', one, '--workers', '1']);
    const r2 = await runCli('experiment.ts', [...studies, '--out', two, '--workers', '2']);
    expect(r1.code).toBe(0);
    expect(r2.code).toBe(0);
    expect(r2.stdout).toContain('running 2 studies over 2 worker processes');
    for (const s of studies) {
      const a = readResult(join(one, `${s}.json`));
      const b = readResult(join(two, `${s}.json`));
      expect(b.runs[0]!.series).toEqual(a.runs[0]!.series);
      expect(b.claims).toEqual(a.claims);
    }
  });
});
