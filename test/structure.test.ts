/**
 * The suite's structure: imports go one way, src/cli (and src/live, which watches a run for
 * the command) -> src/exec -> studies (experiments/) ->
 * the shared code (numerics and core), read from the source files' import lines so a new file
 * is checked as soon as it exists; and the result files studies declare they read are there
 * for every profile CI runs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { STUDIES } from '../experiments/index.js';
import { experimentCli } from '../src/cli/experiment.js';
import { PROFILES } from '../src/results/schema.js';

const root = join(import.meta.dirname, '..');

function filesUnder(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? filesUnder(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Every relative import of a file, as a path from the repository's root. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => relative(root, resolve(dirname(join(root, file)), m[1]!)));
}

/**
 * The layer of a file; higher layers may import lower ones only. The numerics (src/train, nn,
 * optim) and the core count as one layer here: the config's schemas name the activations and
 * update rules, and a figure helper names the loop's series.
 */
function layer(path: string): number {
  if (path.startsWith('src/cli/') || path.startsWith('src/live/')) return 3;
  if (path.startsWith('src/exec/')) return 2;
  if (path.startsWith('experiments/')) return 1;
  return 0;
}

describe('imports go one way', () => {
  const files = [...filesUnder('src'), ...filesUnder('experiments')];

  it('no file imports a layer above its own', () => {
    const upward = files.flatMap((f) => importsOf(f).filter((i) => layer(i) > layer(f)).map((i) => `${f} imports ${i}`));
    expect(upward).toEqual([]);
  });

  it('only the CLI imports the registry', () => {
    const users = files.filter((f) => !f.startsWith('src/cli/') && f !== 'experiments/index.ts' && importsOf(f).some((i) => i === 'experiments/index.js'));
    expect(users).toEqual([]);
  });
});

describe('results a study reads', () => {
  it('are declared with a study of the suite, and there (committed) for every profile', () => {
    const names = STUDIES.map((s) => s.name);
    const reads = STUDIES.flatMap((s) => (s.reads ?? []).flatMap((r) => PROFILES.map((p) => ({ reader: s.name, writer: r.study, path: r.path(s.profiles[p]) }))));
    expect(reads.length).toBeGreaterThan(0);
    for (const r of reads) {
      expect(names, r.reader).toContain(r.writer);
      expect(existsSync(join(root, r.path)), `${r.reader} reads ${r.path}`).toBe(true);
    }
  });

  it('stop a run before any work when missing: one line saying what to run first', async () => {
    await expect(experimentCli(['search-strategies', '--profile', 'quick', '--set', 's7Result=nowhere/s7.json', '--out', join(root, 'never-written')])).rejects.toThrow(
      "S11 search-strategies reads hyperparameter-search's lecture result at nowhere/s7.json, which does not exist: make it first (npm run experiment -- hyperparameter-search) or point the config at one",
    );
    expect(existsSync(join(root, 'never-written'))).toBe(false);
  });
});
