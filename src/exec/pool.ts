/**
 * The worker pool: a fixed set of long-lived child processes (src/exec/worker.ts), each given
 * one job at a time over Node's IPC channel. One pool serves both kinds of parallel work:
 *   - whole studies or seeds (`all` with --workers N: each study runs in a worker exactly as
 *     alone), whose progress and log lines come back as events (src/exec/events.ts);
 *   - a study's units (a search's trials), whose results come back as they finish.
 * The single-threaded wasm backend cannot use a second core by itself; processes can, each
 * with its own backend. A job's numbers do not depend on which worker runs it.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { UserError } from '../errors.js';
import type { BackendName } from '../backend.js';
import type { UnitTask } from '../study.js';
import type { RunEvent, RunSink } from './events.js';
import type { RunMessage } from './plan.js';

/** What a worker process starts with. */
export interface WorkerSetup {
  backend: BackendName;
  mnistDir: string;
  /** The URL of the registry module it finds studies in (see src/exec/registry.ts). */
  registry: string;
}

/** One unit of a study, run with that study's config and seed. */
export interface UnitJob {
  type: 'unit';
  study: string;
  config: unknown;
  seed: number;
  task: UnitTask;
}

/** A whole study run, as `runStudy` in the worker does it; the value is its printed report. */
export interface StudyJob {
  type: 'study';
  run: RunMessage;
}

/** One seed of a study, as `runSeed` does it (a shard's whole seed run); the value is its SeedOutcome. */
export interface SeedJob {
  type: 'seed';
  run: Pick<RunMessage, 'study' | 'profile' | 'config' | 'resume' | 'fresh'> & { seed: number; journalPath: string; gitCommit: string | null };
}

export type Job = UnitJob | StudyJob | SeedJob;

/** A job's value, or why it failed: an error it threw, or its worker process dying under it. */
export type Outcome = { ok: true; value: unknown; /** the job's own compute time in its worker */ ms?: number } | { ok: false; error: string; userError: boolean; died?: boolean };

/** What a worker sends: a job's outcome, or an event of the job it is running. */
export type WorkerMessage = { id: number; outcome: Outcome } | { event: RunEvent };

const WORKER = join(import.meta.dirname, 'worker.ts');
/** The TypeScript loader, by absolute URL: workers start from any working directory. */
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

class Worker {
  readonly child: ChildProcess;
  private pending: { id: number; resolve: (o: Outcome) => void; sink?: RunSink } | null = null;
  private lastStderr = '';
  label = '';
  dead = false;

  constructor(setup: WorkerSetup, onStderr: (line: string, label: string) => void) {
    this.child = fork(WORKER, [JSON.stringify(setup)], { execArgv: ['--import', TSX_LOADER], stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
    createInterface({ input: this.child.stderr! }).on('line', (line) => {
      if (line.trim()) this.lastStderr = line.trim();
      onStderr(line, this.label);
    });
    this.child.on('message', (m: WorkerMessage) => {
      const p = this.pending;
      if ('event' in m) {
        p?.sink?.({ ...m.event, worker: this.child.pid });
        return;
      }
      if (p && m.id === p.id) {
        this.pending = null;
        p.resolve(m.outcome);
      }
    });
    this.child.on('exit', (code, signal) => {
      this.dead = true;
      const p = this.pending;
      this.pending = null;
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      p?.resolve({ ok: false, userError: false, died: true, error: `a worker process ${how}${this.lastStderr ? ` (its last words: ${this.lastStderr})` : ''}` });
    });
  }

  get busy(): boolean {
    return this.pending !== null;
  }

  send(id: number, job: Job, sink?: RunSink): Promise<Outcome> {
    return new Promise((resolve) => {
      this.pending = { id, resolve, sink };
      this.child.send({ id, job });
    });
  }
}

interface Queued {
  job: Job;
  label: string;
  /** Expected duration: the longest waiting job starts first. */
  priority: number;
  order: number;
  /** Set when the run that queued it gave up: it is dropped instead of started. */
  cancelled: () => boolean;
  /** Where the job's events go. */
  sink?: RunSink;
  resolve: (o: Outcome) => void;
}

export class WorkerPool {
  private workers: Worker[] = [];
  private queue: Queued[] = [];
  private nextId = 0;
  private order = 0;

  constructor(
    readonly size: number,
    private readonly setup: WorkerSetup,
    /** Each line a worker writes to stderr (warnings, a crash's trace), with the label of its current job. */
    private readonly onStderr: (line: string, label: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {}

  /**
   * Queues one job; it starts on the first free worker, longest expected duration first (ties:
   * first queued). Several runs may queue into one pool at once: this is how `all` spreads
   * every study's units and whole studies over the same workers.
   */
  submit(job: Job, label: string, priority = 0, cancelled: () => boolean = () => false, sink?: RunSink): Promise<Outcome> {
    return new Promise((resolve) => {
      this.queue.push({ job, label, priority, order: this.order++, cancelled, sink, resolve });
      this.pump();
    });
  }

  private pump(): void {
    this.workers = this.workers.filter((w) => !w.dead);
    this.queue = this.queue.filter((q) => !q.cancelled());
    while (this.queue.length > 0) {
      let worker = this.workers.find((w) => !w.busy);
      if (!worker && this.workers.length < this.size) this.workers.push((worker = new Worker(this.setup, this.onStderr)));
      if (!worker) return;
      this.queue.sort((a, b) => b.priority - a.priority || a.order - b.order);
      const next = this.queue.shift()!;
      worker.label = next.label;
      const w = worker;
      void w.send(this.nextId++, next.job, next.sink).then((outcome) => {
        // A whole study (or seed) leaves its worker with that study's memory (the wasm heap only grows):
        // the next job gets a fresh process (a second or two to start, against minutes of work).
        if (next.job.type !== 'unit') this.retire(w);
        next.resolve(outcome);
        this.pump();
      });
    }
  }

  /**
   * Runs every job and hands each outcome to `onOutcome` as it arrives. If `onOutcome` throws,
   * this run's jobs not yet started are dropped and the error is rethrown once its running ones
   * have finished.
   */
  async run(jobs: { job: Job; label: string; priority?: number }[], onOutcome: (index: number, outcome: Outcome) => void): Promise<void> {
    let failure: unknown = null;
    const cancelled = () => failure !== null;
    await Promise.all(
      jobs.map(async (j, k) => {
        const outcome = await this.submit(j.job, j.label, j.priority ?? 0, cancelled);
        if (failure !== null) return;
        try {
          onOutcome(k, outcome);
        } catch (err) {
          failure ??= err;
        }
      }),
    );
    if (failure !== null) throw failure;
  }

  /** Units of one study; each value goes to `onValue` as it arrives; a failed unit fails the run. */
  async runUnits(jobs: Omit<UnitJob, 'type'>[], onValue: (index: number, value: unknown, ms: number) => void, priority = 0): Promise<void> {
    await this.run(
      jobs.map((j) => ({ job: { type: 'unit', ...j }, label: `${j.study} ${j.task.key}`, priority })),
      (k, outcome) => {
        if (outcome.ok) return onValue(k, outcome.value, outcome.ms ?? 0);
        // A worker killed under a unit (out of memory, a signal) is not a bug of ours: say what
        // happened and that the finished units are kept.
        if (outcome.died) throw new UserError(`${outcome.error} while running ${jobs[k]!.study} ${jobs[k]!.task.key}; the units finished so far are in the journal: run again with --resume`, 1);
        throw outcome.userError ? new UserError(outcome.error) : new Error(outcome.error);
      },
    );
  }

  private retire(w: Worker): void {
    w.dead = true;
    w.child.removeAllListeners('exit');
    if (w.child.connected) w.child.disconnect();
  }

  /** The worker processes' ids (for tests that kill one). */
  pids(): number[] {
    return this.workers.map((w) => w.child.pid!).filter((p) => p !== undefined);
  }

  close(): void {
    for (const w of this.workers) {
      w.child.removeAllListeners('exit');
      if (w.child.connected) w.child.disconnect();
      w.child.kill();
    }
    this.workers = [];
    for (const q of this.queue) q.resolve({ ok: false, userError: false, error: 'the pool was closed before this job started' });
    this.queue = [];
  }
}
