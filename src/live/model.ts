/**
 * What the live page knows about a run, built from the run's events (src/exec/events.ts) and the
 * studies' start and end: the studies and their state, every progress loop (done, total, times:
 * the page computes the ETA), the points of the curves that loops stream (`values` on a tick),
 * the last log lines, and each finished study's claims and figures. The page is sent what
 * changed since its last update (`since`), so a page opened late gets the whole run so far.
 */
import type { RunEvent } from '../exec/events.js';

export interface LiveStudy {
  name: string;
  /** "S2 optimizers-mnist" and the like. */
  title: string;
  status: 'waiting' | 'running' | 'done' | 'failed';
  startedMs: number | null;
  endedMs: number | null;
  /** Units of work finished (or read back from the journal). */
  unitsDone: number;
  error: string | null;
  rev: number;
}

export interface LiveLoop {
  id: string;
  study: string;
  seed: number;
  label: string;
  done: number;
  total: number;
  startedMs: number;
  updatedMs: number;
  finished: boolean;
  rev: number;
}

/** One point of a streamed curve: loop, x (iterations done), series name, value. */
export type LivePoint = [loop: string, x: number, series: string, y: number];

/** A finished study as the page shows it: its claims and figures (Vega-Lite specs). */
export interface LiveResult {
  study: string;
  file: string;
  claims: { verdict: 'holds' | 'FAILS' | 'inconclusive'; text: string; reason: string | null; numbers: string }[];
  figures: { name: string; caption: string; spec: unknown }[];
}

/** What the page is sent: everything changed after revision `from`, up to `rev`. */
export interface LiveDelta {
  rev: number;
  studies: LiveStudy[];
  loops: LiveLoop[];
  points: LivePoint[];
  logs: string[];
  results: LiveResult[];
}

/** Where a page has got to in each list. */
export interface Cursor {
  rev: number;
  points: number;
  logs: number;
  results: number;
}

/** Points kept per streamed loop at most: a loop of many iterations is thinned to every k-th. */
const POINTS_PER_LOOP = 2000;
const LOG_LINES = 200;

export class LiveModel {
  private rev = 0;
  private readonly studies = new Map<string, LiveStudy>();
  private readonly loops = new Map<string, LiveLoop & { every: number }>();
  private readonly points: LivePoint[] = [];
  private readonly logs: string[] = [];
  private readonly results: LiveResult[] = [];
  /** Log lines dropped from the front (only the last ones are kept). */
  private dropped = 0;

  /** The studies of the run, in the order they are listed, all waiting. */
  plan(studies: { name: string; title: string }[]): void {
    for (const s of studies) this.studies.set(s.name, { ...s, status: 'waiting', startedMs: null, endedMs: null, unitsDone: 0, error: null, rev: ++this.rev });
  }

  private study(name: string): LiveStudy {
    let s = this.studies.get(name);
    if (!s) this.studies.set(name, (s = { name, title: name, status: 'running', startedMs: null, endedMs: null, unitsDone: 0, error: null, rev: 0 }));
    s.rev = ++this.rev;
    return s;
  }

  started(name: string, at: number): void {
    const s = this.study(name);
    s.status = 'running';
    s.startedMs = at;
  }

  ended(name: string, at: number, error: string | null, result: LiveResult | null): void {
    const s = this.study(name);
    s.status = error === null ? 'done' : 'failed';
    s.endedMs = at;
    s.error = error;
    if (result) this.results.push(result);
  }

  /** One event of the run, received at `at` (ms since the epoch). */
  event(e: RunEvent, at: number): void {
    if (e.kind === 'log') {
      this.logs.push(`[${e.study}] ${e.line.trim()}`);
      if (this.logs.length > 2 * LOG_LINES) this.dropped += this.logs.splice(0, this.logs.length - LOG_LINES).length;
      this.rev++;
      return;
    }
    if (e.kind === 'unit') {
      this.study(e.study).unitsDone++;
      return;
    }
    const id = `${e.study}:${e.worker ?? 0}:${e.loop}`;
    let loop = this.loops.get(id);
    if (!loop || e.phase === 'start') {
      loop = { id, study: e.study, seed: e.seed, label: e.label, done: e.done, total: e.total, startedMs: at, updatedMs: at, finished: false, rev: 0, every: Math.max(1, Math.ceil(e.total / POINTS_PER_LOOP)) };
      this.loops.set(id, loop);
      const s = this.study(e.study);
      if (s.status === 'waiting') {
        s.status = 'running';
        s.startedMs = at;
      }
    }
    loop.done = e.done;
    loop.updatedMs = at;
    loop.finished = e.phase === 'end';
    loop.rev = ++this.rev;
    // The last point of a loop is always kept: its curve ends where training ended.
    if (e.values && (e.done % loop.every === 0 || e.done === e.total)) {
      for (const [series, y] of Object.entries(e.values)) if (Number.isFinite(y)) this.points.push([id, e.done, series, y]);
    }
  }

  /** Everything changed since `c`, and `c` moved past it. */
  since(c: Cursor): LiveDelta {
    const delta: LiveDelta = {
      rev: this.rev,
      studies: [...this.studies.values()].filter((s) => s.rev > c.rev),
      loops: [...this.loops.values()].filter((l) => l.rev > c.rev).map(({ every: _every, ...l }) => l),
      points: this.points.slice(c.points),
      logs: this.logs.slice(Math.max(0, c.logs - this.dropped)),
      results: this.results.slice(c.results),
    };
    c.rev = this.rev;
    c.points = this.points.length;
    c.logs = this.dropped + this.logs.length;
    c.results = this.results.length;
    return delta;
  }

  /** Whether anything changed after `c`. */
  changedSince(c: Cursor): boolean {
    return this.rev > c.rev || this.points.length > c.points || this.results.length > c.results;
  }
}
