/**
 * A run's events: what a study reports (progress with its study, seed, count and total, and
 * values it streams; log lines; finished units) reaches a sink as typed events, in this process
 * and from a worker process over its IPC channel (not as stderr text).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultMnistDir } from '../src/data/mnist.js';
import { fanOut, progressEvents, type RunEvent } from '../src/exec/events.js';
import { toMessage } from '../src/exec/plan.js';
import { WorkerPool } from '../src/exec/pool.js';
import { TOY_REGISTRY } from './helpers/toy-registry.js';
import { toyWalks } from './helpers/toy-studies.js';

const scratch = mkdtempSync(join(tmpdir(), 'events-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('progress as events', () => {
  it('a counter is a start, its ticks (with any values the study streams) and an end, seen by every subscriber', () => {
    const a: RunEvent[] = [];
    const b: RunEvent[] = [];
    const ticker = progressEvents(fanOut((e) => a.push(e), (e) => b.push(e)), 'toy', 3, 'steps', 2);
    ticker.tick();
    ticker.tick(1, { loss: 0.5 });
    ticker.done();
    expect(a).toEqual(b);
    expect(a.map((e) => e.kind === 'progress' && [e.phase, e.done, e.total, e.seed, e.study, e.label, e.values ?? null])).toEqual([
      ['start', 0, 2, 3, 'toy', 'steps', null],
      ['tick', 1, 2, 3, 'toy', 'steps', null],
      ['tick', 2, 2, 3, 'toy', 'steps', { loss: 0.5 }],
      ['end', 2, 2, 3, 'toy', 'steps', null],
    ]);
  });

  it('a worker process sends its study\'s events over IPC, each marked with the worker it came from', async () => {
    const pool = new WorkerPool(1, { backend: 'cpu', mnistDir: defaultMnistDir(), registry: TOY_REGISTRY.module }, () => {});
    const events: RunEvent[] = [];
    try {
      const run = { study: toyWalks, config: toyWalks.profiles.quick, name: null, overrides: {}, profile: 'quick' as const, seed: 0, seeds: 1, resume: false, fresh: false, outDir: scratch, mnistDir: defaultMnistDir() };
      const outcome = await pool.submit({ type: 'study', run: toMessage(run) }, 'toy-walks', 0, undefined, (e) => events.push(e));
      expect(outcome.ok).toBe(true);
      const pid = pool.pids()[0];
      const units = events.filter((e) => e.kind === 'unit');
      expect(units.map((e) => e.kind === 'unit' && e.key)).toEqual(toyWalks.profiles.quick.lrs.map((lr) => `lr${lr}`));
      expect(events.every((e) => e.study === 'toy-walks' && e.worker !== undefined && (pid === undefined || e.worker === pid))).toBe(true);
    } finally {
      pool.close();
    }
  }, 60_000);
});
