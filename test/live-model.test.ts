/**
 * The live page's model of a run (src/live/model.ts): events in, what changed out, per page.
 */
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../src/exec/events.js';
import { LiveModel, type Cursor } from '../src/live/model.js';

const tick = (done: number, total: number, values?: Record<string, number>, phase: 'start' | 'tick' | 'end' = 'tick'): RunEvent => ({ kind: 'progress', study: 's', seed: 0, loop: 7, label: 'training', done, total, phase, ...(values ? { values } : {}) });
const fresh = (): Cursor => ({ rev: 0, points: 0, logs: 0, results: 0 });

describe('the live model', () => {
  it('sends each page what changed since its last update, and a late page everything', () => {
    const m = new LiveModel();
    m.plan([{ name: 's', title: 'S0 s' }]);
    const early = fresh();
    expect(m.since(early).studies.map((s) => s.status)).toEqual(['waiting']);
    m.event(tick(0, 3, undefined, 'start'), 1000);
    m.event(tick(1, 3, { a: 2.5, b: NaN }), 1100);
    const d1 = m.since(early);
    expect(d1.studies.map((s) => [s.status, s.startedMs])).toEqual([['running', 1000]]);
    expect(d1.loops.map((l) => [l.id, l.done, l.total, l.startedMs, l.updatedMs])).toEqual([['s:0:7', 1, 3, 1000, 1100]]);
    expect(d1.points).toEqual([['s:0:7', 1, 'a', 2.5]]);
    expect(m.changedSince(early)).toBe(false);
    m.event(tick(2, 3, { a: 2 }), 1200);
    m.event(tick(3, 3, undefined, 'end'), 1300);
    m.ended('s', 1400, null, { study: 's', file: 'x.json', claims: [], figures: [] });
    const d2 = m.since(early);
    expect(d2.points).toEqual([['s:0:7', 2, 'a', 2]]);
    expect(d2.loops[0]!.finished).toBe(true);
    expect(d2.results.map((r) => r.file)).toEqual(['x.json']);
    const late = m.since(fresh());
    expect(late.points.length).toBe(2);
    expect(late.studies[0]!.status).toBe('done');
  });

  it('thins a long loop to at most about 2000 points per series, keeping its last', () => {
    const m = new LiveModel();
    const total = 5001;
    m.event(tick(0, total, undefined, 'start'), 0);
    for (let i = 1; i <= total; i++) m.event(tick(i, total, { a: 1 / i }), i);
    const xs = m.since(fresh()).points.map((p) => p[1]);
    expect(xs.length).toBeLessThanOrEqual(2001);
    expect(xs.length).toBeGreaterThan(1500);
    expect(xs[xs.length - 1]).toBe(total);
  });

  it('keeps the last log lines; a page gets each line once', () => {
    const m = new LiveModel();
    const page = fresh();
    for (let i = 0; i < 250; i++) m.event({ kind: 'log', study: 's', line: `line ${i}` }, 0);
    expect(m.since(page).logs.length).toBe(250);
    for (let i = 250; i < 500; i++) m.event({ kind: 'log', study: 's', line: `line ${i}` }, 0);
    const next = m.since(page).logs;
    expect(next[0]).toBe('[s] line 250');
    expect(next.length).toBe(250);
    const late = m.since(fresh()).logs;
    expect(late.length).toBeLessThanOrEqual(400);
    expect(late[late.length - 1]).toBe('[s] line 499');
  });
});
