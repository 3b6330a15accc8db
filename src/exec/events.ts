/**
 * What a run reports while it goes, as one stream of typed events. The runner turns a study's
 * progress counters, log lines and finished units into events and hands each to a sink; the
 * console (src/cli/progress.ts), a worker process's IPC channel (src/exec/worker.ts) or any
 * other consumer (a file, a page) subscribes by being that sink, or one of several (`fanOut`).
 */
import type { ProgressTicker } from '../study.js';

/** What every event says: which study, and which worker process it came from (set by the pool when it relays it). */
interface EventBase {
  study: string;
  worker?: number;
}

/** A counter of one loop: started, advanced, finished. `values` are numbers the study chose to stream (e.g. the latest loss). */
export interface ProgressEvent extends EventBase {
  kind: 'progress';
  /** The seed whose run this loop belongs to. */
  seed: number;
  /** Tells apart the loops of one process (and loops with the same label). */
  loop: number;
  label: string;
  done: number;
  total: number;
  /** First event of the loop (done 0), or its last (the loop called done()). */
  phase: 'start' | 'tick' | 'end';
  values?: Record<string, number>;
}

/** A line for the user (what a stage found, a warning). */
export interface LogEvent extends EventBase {
  kind: 'log';
  line: string;
}

/** A unit of work finished (or was read back from the journal). */
export interface UnitEvent extends EventBase {
  kind: 'unit';
  seed: number;
  key: string;
  fromJournal: boolean;
}

export type RunEvent = ProgressEvent | LogEvent | UnitEvent;

/** Whatever consumes a run's events. */
export type RunSink = (event: RunEvent) => void;

/** A sink that drops everything (baselines, probes). */
export const SILENT_SINK: RunSink = () => {};

/** Several consumers of one stream. */
export function fanOut(...sinks: RunSink[]): RunSink {
  return (event) => {
    for (const sink of sinks) sink(event);
  };
}

let nextLoop = 0;

/** A study's progress counter (the context's `progress`) as events on `sink`. */
export function progressEvents(sink: RunSink, study: string, seed: number, label: string, total: number): ProgressTicker {
  const loop = nextLoop++;
  let done = 0;
  const event = (phase: ProgressEvent['phase'], values?: Record<string, number>): ProgressEvent => ({ kind: 'progress', study, seed, loop, label, done, total, phase, ...(values ? { values } : {}) });
  sink(event('start'));
  return {
    tick(n = 1, values) {
      done += n;
      sink(event('tick', values));
    },
    done() {
      sink(event('end'));
    },
  };
}
