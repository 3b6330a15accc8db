/**
 * Input written to break the suite rather than to use it: config paths and files that reach
 * for object prototypes, configs too large or too deep, several --config files, a folder as a
 * config. Each is one line naming the flag and the problem, and nothing is polluted.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { optimizersMnist } from '../experiments/optimizers-mnist/study.js';
import { jsonDepth, MAX_CONFIG_BYTES, MAX_CONFIG_DEPTH } from '../src/config.js';
import { experimentCli } from '../src/cli/experiment.js';
import { planRuns } from '../src/exec/plan.js';
import type { AnyStudy } from '../src/study.js';
import { runCli } from './helpers/cli.js';

const scratch = mkdtempSync(join(tmpdir(), 'hostile-input-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const s2 = optimizersMnist as AnyStudy;
const plan = (sets: string[], extra: Record<string, unknown> = {}) => planRuns([s2], { profile: 'quick', set: sets, ...extra })[0]!;
const file = (name: string, text: string | Buffer): string => {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
};

describe('config paths and files never touch object prototypes', () => {
  it('--set through __proto__, constructor or prototype is refused by name, and no object gains a property', () => {
    for (const set of ['__proto__.steps=5', 'constructor.prototype.steps=5', 'lr.__proto__.polluted=1', 'prototype=1', 'lr.constructor=1']) {
      const bad = set.split('=')[0]!.split('.').find((p) => ['__proto__', 'constructor', 'prototype'].includes(p));
      expect(() => plan([set])).toThrow(`--set ${set}: '${bad}' names an object's prototype, not a setting`);
    }
    expect(() => plan(['lr={"__proto__": {"polluted": 1}}'])).toThrow(/--set lr=.*: the value's key '__proto__' names an object's prototype/);
    expect(({} as Record<string, unknown>).steps).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('inherited names (toString, hasOwnProperty) are not settings either', () => {
    expect(() => plan(['toString.x=1'])).toThrow("--set toString.x=1: 'toString' is not a setting");
  });

  it('a --config holding a prototype key at any depth is refused, naming where', () => {
    const top = file('proto-top.json', '{"__proto__": {"iterations": 5}}');
    expect(() => plan([], { config: top })).toThrow(`--config ${top}: '__proto__' names an object's prototype`);
    const deep = file('proto-deep.json', '{"lr": {"sgd": 0.1, "x": [{"constructor": {"prototype": 1}}]}}');
    expect(() => plan([], { config: deep })).toThrow(`--config ${deep}: 'lr.x.0.constructor' names an object's prototype`);
    expect(({} as Record<string, unknown>).iterations).toBeUndefined();
  });
});

describe('config size, depth and form', () => {
  it('depth is counted without recursion, strings skipped', () => {
    expect(jsonDepth('{"a": [1, {"b": "[[[{{{"}]}')).toBe(3);
    expect(jsonDepth('"\\"[["')).toBe(0);
    expect(jsonDepth('['.repeat(5_000_000), 40)).toBe(41);
  });

  it('a config nested deeper than the bound, and one larger than the bound, are one line each', () => {
    const deep = file('deep.json', `{"lr": ${'['.repeat(100)}${']'.repeat(100)}}`);
    expect(() => plan([], { config: deep })).toThrow(`--config ${deep}: nested more than ${MAX_CONFIG_DEPTH} levels deep`);
    const big = file('big.json', `{"lr": {"sgd": 0.1}, "pad": "${'x'.repeat(MAX_CONFIG_BYTES)}"}`);
    expect(() => plan([], { config: big })).toThrow(/--config .*big\.json: is 1\.0 MB, more than the 1 MiB a config file may be/);
    expect(() => plan([`lr=${'['.repeat(100)}${']'.repeat(100)}`])).toThrow(`nested more than ${MAX_CONFIG_DEPTH} levels deep`);
  });

  it('a config starting with a UTF-8 byte-order mark is read', () => {
    const bom = file('bom.json', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"iterations": 50, "tail": 10}')]));
    expect(plan([], { config: bom }).overrides).toEqual({ iterations: [300, 50], tail: [50, 10] });
  });

  it('--config given twice, or naming a folder, says exactly that', () => {
    const a = file('a.json', '{"iterations": 50, "tail": 10}');
    const b = file('b.json', '{"iterations": 60}');
    expect(() => plan([], { config: [a, b] })).toThrow(`--config given 2 times ('${a}', '${b}'): only one --config is allowed`);
    const folder = join(scratch, 'folder.json');
    mkdirSync(folder);
    expect(() => plan([], { config: folder })).toThrow(`--config ${folder}: is a folder, not a file; give a JSON file`);
    expect(() => plan([], { config: join(scratch, 'none.json') })).toThrow(`--config ${join(scratch, 'none.json')}: no such file`);
  });

  it('the command: a 20 MB config nested millions deep, --set __proto__, two --configs: one line each, exit 2, no internal error', async () => {
    const huge = file('huge.json', '['.repeat(20_000_000));
    const a = file('a2.json', '{}');
    const cases: [string[], RegExp][] = [
      [['optimizers-mnist', '--profile', 'quick', '--config', huge, '--print-config'], /^error: --config .*huge\.json: is 20\.0 MB, more than the 1 MiB a config file may be/],
      [['optimizers-mnist', '--profile', 'quick', '--set', '__proto__.steps=5', '--print-config'], /^error: --set __proto__\.steps=5: '__proto__' names an object's prototype, not a setting/],
      [['optimizers-mnist', '--profile', 'quick', '--config', a, '--config', a, '--print-config'], /^error: --config given 2 times .*only one --config is allowed/],
      [['optimizers-mnist', '--profile', 'quick', '--config', scratch, '--print-config'], /^error: --config .*: is a folder, not a file/],
    ];
    for (const [args, line] of cases) {
      const r = await runCli('experiment.ts', args);
      expect(r.stderr).toMatch(line);
      expect(r.stderr.split('\n').length).toBe(2);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
    }
  }, 120_000);
});

/** The experiment command in this process, its output captured. */
async function quietly(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c) => ((out += String(c)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c) => ((err += String(c)), true));
  try {
    return { code: await experimentCli(args), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('a named run is never replaced silently', () => {
  const out = join(scratch, 'named');
  const run = (...extra: string[]) => quietly(['optimizer-paths', '--out', out, '--workers', '1', '--quiet', ...extra]);
  const file = join(out, 'runs', 'optimizer-paths.mine.json');

  it('another config under a used --name is refused with one line, the earlier run byte for byte; --force replaces it', async () => {
    expect((await run('--set', 'lr.sgd=0.5', '--name', 'mine')).code).toBe(0);
    const first = readFileSync(file);
    await expect(run('--set', 'lr.sgd=0.95', '--name', 'mine')).rejects.toThrow(
      `run 'mine' of optimizer-paths already exists in ${file} and this run differs (config lr.sgd 0.5 -> 0.95): give another --name for a new run, or --force to replace it`,
    );
    await expect(run('--set', 'lr.sgd=0.5', '--name', 'mine', '--seed', '3')).rejects.toThrow(/differs \(seeds 0 -> 3\): give another --name/);
    expect(readFileSync(file).equals(first)).toBe(true);
    expect(readdirSync(join(out, 'runs'))).toEqual(['optimizer-paths.mine.json']);
    expect((await run('--set', 'lr.sgd=0.95', '--name', 'mine', '--force')).code).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8')).config.lr.sgd).toBe(0.95);
  });

  it('the same run again under its name replaces its file (a rerun, as a profile\'s result is rerun)', async () => {
    const r = await run('--set', 'lr.sgd=0.95', '--name', 'mine');
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8')).config.lr.sgd).toBe(0.95);
  });

  it('a file under the name that is not a result is not replaced either', async () => {
    writeFileSync(join(out, 'runs', 'optimizer-paths.notes.json'), 'my notes\n');
    await expect(run('--set', 'lr.sgd=0.5', '--name', 'notes')).rejects.toThrow(/^run 'notes' would replace .*optimizer-paths\.notes\.json, which is not a result this suite reads \(not valid JSON\): give another --name/);
    expect(readFileSync(join(out, 'runs', 'optimizer-paths.notes.json'), 'utf8')).toBe('my notes\n');
  });
});
