/**
 * Sharding: three shards run as separate processes and merged give, number for number, the
 * result files of one unsharded run (a study sharded by unit, one by seed because its second
 * stage depends on its first, and a real study without units); a missing, duplicated or
 * foreign shard is one line naming it and nothing is written; `--shard` values and the
 * schedulers' index variables are read as documented.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { experimentCli } from '../src/cli/experiment.js';
import { assignShards, parseShard, shardFromEnv } from '../src/exec/shard-file.js';
import { runCli } from './helpers/cli.js';
import { captured as capturedWith, numbersOf } from './helpers/shard.js';
import { TOY_REGISTRY, withStudies } from './helpers/toy-registry.js';
import { toyUnmarked } from './helpers/toy-studies.js';
import type { AnyStudy } from '../src/study.js';
import type { StudyRegistry } from '../src/exec/registry.js';

const scratch = mkdtempSync(join(tmpdir(), 'shard-test-'));
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** The CLI in this process, knowing the toy studies. */
const captured = (args: string[], registry: StudyRegistry = TOY_REGISTRY) => capturedWith(args, registry);

const STUDY_ARGS = ['toy-walks', 'toy-stages', 'optimizer-paths', '--profile', 'quick', '--seeds', '3', '--workers', '1', '--quiet'];
const TOYS = join(import.meta.dirname, 'helpers', 'experiment-with-toys.ts');
const shards = join(scratch, 'shards-out');
const single = join(scratch, 'single');
const merged = join(scratch, 'merged');
const files = () => readdirSync(join(shards, 'shards')).filter((f) => f.endsWith('.json'));

describe('three shards, each a process of its own, merged', () => {
  beforeAll(async () => {
    const runs = await Promise.all([1, 2, 3].map((i) => runCli(TOYS, [...STUDY_ARGS, '--shard', `${i}/3`, '--out', shards])));
    for (const r of runs) expect(r.stderr.split('\n').filter((l) => l.startsWith('error')), r.stderr).toEqual([]);
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0]);
  });

  it('split the work: toy-walks by unit, toy-stages and S1 by seed, every piece once', () => {
    expect(files().sort()).toEqual(
      ['optimizer-paths', 'toy-stages', 'toy-walks'].flatMap((s) => [1, 2, 3].map((i) => `${s}.quick.shard-${i}-of-3.json`)).sort(),
    );
    const walks = [1, 2, 3].map((i) => JSON.parse(readFileSync(join(shards, 'shards', `toy-walks.quick.shard-${i}-of-3.json`), 'utf8')));
    expect(walks.map((w) => w.units.length).reduce((a: number, b: number) => a + b)).toBe(18); // 6 rates x 3 seeds
    expect(walks.every((w) => w.seedRuns.length === 0 && w.units.length > 0)).toBe(true);
    const stages = [1, 2, 3].map((i) => JSON.parse(readFileSync(join(shards, 'shards', `toy-stages.quick.shard-${i}-of-3.json`), 'utf8')));
    expect(stages.flatMap((s) => s.seedRuns.map((r: { run: { seed: number } }) => r.run.seed)).sort()).toEqual([0, 1, 2]);
    // Journals are gone once a shard file holds their units.
    expect(readdirSync(join(shards, 'shards')).filter((f) => f.endsWith('.jsonl'))).toEqual([]);
  });

  it('gives every number of the unsharded run, claims included', async () => {
    const tensors = tf.memory().numTensors;
    const m = await captured(['merge', join(shards, 'shards'), '--out', merged]);
    expect(m.code, m.err).toBe(0);
    // The merge runs studies' code (toy-walks' seeds): it leaves no tensor behind.
    expect(tf.memory().numTensors).toBe(tensors);
    const s = await captured([...STUDY_ARGS, '--out', single]);
    expect(s.code, s.err).toBe(0);
    for (const study of ['toy-walks', 'toy-stages', 'optimizer-paths']) {
      const name = `${study}.quick.json`;
      expect(numbersOf(join(merged, name)), study).toEqual(numbersOf(join(single, name)));
    }
    expect(m.out).toContain('holds  some walk ends below 1e-3');
    // The seeds' work is recorded, summed over shards and merge for a seed split by unit.
    const walks = JSON.parse(readFileSync(join(merged, 'toy-walks.quick.json'), 'utf8'));
    expect(walks.runs.every((r: { timings: { workMs: number } }) => r.timings.workMs > 0)).toBe(true);
  });

  it('draws the same figures as the unsharded run', async () => {
    const { figuresCli } = await import('../src/cli/figures.js');
    for (const dir of [merged, single]) {
      const o = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
      try {
        expect(await figuresCli(['--out', dir, '--profile', 'quick', '--format', 'svg', '--no-report'], TOY_REGISTRY.studies)).toBe(0);
      } finally {
        o.mockRestore();
      }
    }
    for (const f of ['toy-walks.svg', 'toy-stages.svg', 'optimizer-paths.svg']) {
      expect(readFileSync(join(merged, 'figures', 'quick', f), 'utf8'), f).toBe(readFileSync(join(single, 'figures', 'quick', f), 'utf8'));
    }
  });

  it('is all or nothing: a result path that is a folder leaves every earlier result byte for byte, with one line', async () => {
    const out = join(scratch, 'half-merged');
    mkdirSync(out);
    const earlier = { 'toy-walks.quick.json': 'earlier walks\n', 'optimizer-paths.quick.json': 'earlier S1\n' };
    for (const [f, text] of Object.entries(earlier)) writeFileSync(join(out, f), text);
    mkdirSync(join(out, 'toy-stages.quick.json'));
    const tryMerge = captured(['merge', join(shards, 'shards'), '--out', out]);
    await expect(tryMerge).rejects.toThrow(
      new RegExp(`^cannot write ${join(out, 'toy-stages.quick.json')}: it is a folder \\(EISDIR\\); nothing was changed: the 3 files of the set are as they were`),
    );
    for (const [f, text] of Object.entries(earlier)) expect(readFileSync(join(out, f), 'utf8')).toBe(text);
    expect(readdirSync(out).sort()).toEqual(['optimizer-paths.quick.json', 'toy-stages.quick.json', 'toy-walks.quick.json']);
  });

  it('--resume keeps a shard\'s finished files', async () => {
    const before = files().map((f) => readFileSync(join(shards, 'shards', f), 'utf8'));
    const r = await captured([...STUDY_ARGS, '--shard', '2/3', '--out', shards, '--resume']);
    expect(r.code, r.err).toBe(0);
    expect(r.err.match(/kept .*shard-2-of-3\.json: this shard's share of .* was done \(--resume\)/g)).toHaveLength(3);
    expect(files().map((f) => readFileSync(join(shards, 'shards', f), 'utf8'))).toEqual(before);
  });

  describe('refuses shards that do not make one run, one line each, and writes nothing', () => {
    const attempt = async (name: string, arrange: (dir: string) => void) => {
      const dir = join(scratch, name);
      cpSync(join(shards, 'shards'), dir, { recursive: true });
      arrange(dir);
      const out = join(scratch, `${name}-out`);
      const r = await captured(['merge', dir, '--out', out]);
      expect(r.code).toBe(2);
      expect(existsSync(out)).toBe(false);
      const lines = r.err.trim().split('\n');
      expect(lines[lines.length - 1]).toMatch(/^error: the shards do not make one complete run \(\d+ problem\(s\) above\): nothing was written$/);
      return lines.slice(0, -1);
    };
    const edit = (path: string, change: (f: Record<string, any>) => void) => {
      const f = JSON.parse(readFileSync(path, 'utf8'));
      change(f);
      writeFileSync(path, JSON.stringify(f));
    };

    it('a missing shard', async () => {
      const lines = await attempt('missing', (dir) => rmSync(join(dir, 'toy-walks.quick.shard-2-of-3.json')));
      expect(lines).toEqual(['error: missing: shard 2/3 of toy-walks (toy-walks.quick.shard-2-of-3.json)']);
    });

    it('a duplicated shard', async () => {
      let copy = '';
      const lines = await attempt('duplicate', (dir) => {
        mkdirSync(join(dir, 'again'));
        copy = join(dir, 'again', 'toy-stages.quick.shard-3-of-3.json');
        cpSync(join(dir, 'toy-stages.quick.shard-3-of-3.json'), copy);
      });
      // Folders are searched in name order: the copy in again/ comes first, the other is the duplicate.
      expect(lines).toEqual([`error: ${join(scratch, 'duplicate', 'toy-stages.quick.shard-3-of-3.json')}: duplicate: shard 3/3 of toy-stages is also ${copy}`]);
    });

    it('a shard of another commit, another config, another run', async () => {
      const dir = join(scratch, 'foreign');
      const lines = await attempt('foreign', (d) => {
        edit(join(d, 'optimizer-paths.quick.shard-1-of-3.json'), (f) => (f.environment.gitCommit = 'abc123'));
        edit(join(d, 'toy-walks.quick.shard-3-of-3.json'), (f) => (f.config.steps = 21));
        edit(join(d, 'toy-stages.quick.shard-2-of-3.json'), (f) => (f.run.studies = ['toy-stages']));
      });
      expect(lines).toEqual([
        expect.stringMatching(new RegExp(`^error: ${join(dir, 'optimizer-paths.quick.shard-1-of-3.json')}: foreign shard: its commit is abc123, the other shards' [0-9a-f]{40}$`)),
        `error: ${join(dir, 'toy-stages.quick.shard-2-of-3.json')}: foreign shard: its studies is toy-stages, the other shards' toy-walks toy-stages optimizer-paths`,
        expect.stringMatching(new RegExp(`^error: ${join(dir, 'toy-walks.quick.shard-3-of-3.json')}: foreign shard: its config of toy-walks is [0-9a-f]{16}, the other shards' [0-9a-f]{16}$`)),
        // A foreign file does not count: its place is empty.
        'error: missing: shard 3/3 of toy-walks (toy-walks.quick.shard-3-of-3.json)',
        'error: missing: shard 2/3 of toy-stages (toy-stages.quick.shard-2-of-3.json)',
        'error: missing: shard 1/3 of optimizer-paths (optimizer-paths.quick.shard-1-of-3.json)',
      ]);
    });
  });
});

describe('a study whose second batch depends on the first, unmarked', () => {
  it('is split by its first batch, and the merge names the units no shard ran', async () => {
    const registry = withStudies(toyUnmarked as AnyStudy);
    const out = join(scratch, 'unmarked');
    for (const i of [1, 2]) expect((await captured(['toy-unmarked', '--profile', 'quick', '--workers', '1', '--quiet', '--shard', `${i}/2`, '--out', out], registry)).code).toBe(0);
    await expect(captured(['merge', join(out, 'shards'), '--out', join(out, 'merged')], registry)).rejects.toThrow(
      "toy-unmarked seed 0: no shard ran unit(s) 2:0.15: only the first batch of a seed's units is spread over shards; a study whose later units depend on earlier ones must call ctx.units.checkpoint before its first batch (it is then sharded by seed; see docs/SHARDING.md)",
    );
    expect(existsSync(join(out, 'merged'))).toBe(false);
  });
});

describe('--shard', () => {
  it('reads i/n, counted from 1', () => {
    expect(parseShard('1/3')).toEqual({ index: 1, count: 3 });
    expect(parseShard('3/3')).toEqual({ index: 3, count: 3 });
  });

  it('refuses what is not a shard with one clear line', async () => {
    expect(() => parseShard('0/3')).toThrow('--shard 0/3: shard 0 of 3 does not exist (shards are numbered 1..3)');
    expect(() => parseShard('4/3')).toThrow('--shard 4/3: shard 4 of 3 does not exist (shards are numbered 1..3)');
    expect(() => parseShard('abc')).toThrow("--shard must be i/n with 1 <= i <= n (1/3 is the first of three shards), or auto; got 'abc'");
    expect(() => parseShard('1/0')).toThrow('--shard 1/0: the shard count must be 1..10000, got 0');
    expect(() => parseShard('auto', {})).toThrow('--shard auto: no shard variables are set (looked for EXPERIMENT_SHARD_INDEX + EXPERIMENT_SHARD_COUNT, SLURM_ARRAY_TASK_ID + SLURM_ARRAY_TASK_COUNT, or JOB_COMPLETION_INDEX + EXPERIMENT_SHARD_COUNT)');
    // Through the command line, before any work.
    await expect(experimentCli(['optimizer-paths', '--shard', '4/3', '--out', join(scratch, 'never')])).rejects.toThrow('--shard 4/3: shard 4 of 3 does not exist');
    await expect(experimentCli(['optimizer-paths', '--print-plan', '--out', join(scratch, 'never')])).rejects.toThrow('--print-plan prints the plan of a sharded run: add --shard i/n');
    expect(existsSync(join(scratch, 'never'))).toBe(false);
  });

  it('auto: a CI matrix\'s pair, a Slurm array, a Kubernetes Indexed Job', () => {
    expect(shardFromEnv({ EXPERIMENT_SHARD_INDEX: '2', EXPERIMENT_SHARD_COUNT: '8' })).toMatchObject({ index: 2, count: 8 });
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_COUNT: '8', SLURM_ARRAY_TASK_MIN: '0' })).toMatchObject({ index: 1, count: 8 });
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '8', SLURM_ARRAY_TASK_COUNT: '8', SLURM_ARRAY_TASK_MIN: '1' })).toMatchObject({ index: 8, count: 8 });
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '14', SLURM_ARRAY_TASK_COUNT: '8', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_STEP: '2' })).toMatchObject({ index: 8, count: 8 });
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: '0', EXPERIMENT_SHARD_COUNT: '8' })).toMatchObject({ index: 1, count: 8 });
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: '7', EXPERIMENT_SHARD_COUNT: '8' })).toMatchObject({ index: 8, count: 8 });
    expect(() => shardFromEnv({ JOB_COMPLETION_INDEX: '8', EXPERIMENT_SHARD_COUNT: '8' })).toThrow('shard 9 of 8 does not exist');
    expect(() => shardFromEnv({ JOB_COMPLETION_INDEX: '3' })).toThrow('--shard auto: JOB_COMPLETION_INDEX (a Kubernetes Indexed Job; set EXPERIMENT_SHARD_COUNT to its completions) is set but EXPERIMENT_SHARD_COUNT is not');
    expect(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_MIN: '0' })).toThrow('SLURM_ARRAY_TASK_COUNT is not');
    expect(() => shardFromEnv({ EXPERIMENT_SHARD_INDEX: 'x1', EXPERIMENT_SHARD_COUNT: '8' })).toThrow("EXPERIMENT_SHARD_INDEX must be a whole number in plain digits, got 'x1'");
  });

  it('assigns the longest pieces first, each to the least loaded shard', () => {
    const items = [5, 4, 3, 3, 3].map((weight, k) => ({ study: 's', seed: 0, key: String(k), weight }));
    // 5 -> 1 (5, 0); 4 -> 2 (5, 4); 3 -> 2 (5, 7); 3 -> 1 (8, 7); 3 -> 2 (8, 10).
    expect(assignShards(items, 2)).toEqual([1, 2, 2, 1, 2]);
  });
});
