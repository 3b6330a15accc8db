/**
 * The worker pool: a fixed set of long-lived child processes (src/train/worker.ts), each given
 * one job at a time over Node's IPC channel. One pool serves both kinds of parallel work:
 *   - whole studies (`all` with --workers N: each study runs in a worker exactly as alone);
 *   - a study's units (S7's trials), whose results come back as they finish.
 * The single-threaded wasm backend cannot use a second core by itself (DESIGN notes); processes
 * can, each with its own backend. A job's numbers do not depend on which worker runs it.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { UserError } from '../errors.js';
import type { BackendName } from '../backend.js';
import type { UnitTask } from './units.js';

export interface WorkerSetup {
  backend: BackendName;
  mnistDir: string;
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
  study: string;
  request: {
    profile: string;
    seed: number;
    seeds: number;
    outDir: string;
    config: unknown;
    name: string | null;
    overrides: Record<string, [unknown, unknown]>;
    resume: boolean;
    fresh: boolean;
    quiet: boolean;
  };
}

export type Job = UnitJob | StudyJob;

/** A job's value, or why it failed: an error it threw, or its worker process dying under it. */
export type Outcome = { ok: true; value: unknown } | { ok: false; error: string; userError: boolean; died?: boolean };

interface Reply {
  id: number;
  outcome: Outcome;
}

const WORKER = join(import.meta.dirname, 'worker.ts');
/** The TypeScript loader, by absolute URL: workers start from any working directory. */
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

class Worker {
  readonly child: ChildProcess;
  private pending: { id: number; resolve: (o: Outcome) => void } | null = null;
  private lastStderr = '';
  label = '';

  constructor(setup: WorkerSetup, onStderr: (line: string, label: string) => void) {
    this.child = fork(WORKER, [JSON.stringify(setup)], { execArgv: ['--import', TSX_LOADER], stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
    createInterface({ input: this.child.stderr! }).on('line', (line) => {
      if (line.trim()) this.lastStderr = line.trim();
      onStderr(line, this.label);
    });
    this.child.on('message', (m: Reply) => {
      const p = this.pending;
      if (p && m.id === p.id) {
        this.pending = null;
        p.resolve(m.outcome);
      }
    });
    this.child.on('exit', (code, signal) => {
      const p = this.pending;
      this.pending = null;
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      p?.resolve({ ok: false, userError: false, died: true, error: `a worker process ${how}${this.lastStderr ? ` (its last words: ${this.lastStderr})` : ''}` });
    });
  }

  send(id: number, job: Job): Promise<Outcome> {
    return new Promise((resolve) => {
      this.pending = { id, resolve };
      this.child.send({ id, job });
    });
  }
}

export class WorkerPool {
  private workers: Worker[] = [];
  private nextId = 0;

  constructor(
    readonly size: number,
    private readonly setup: WorkerSetup,
    /** Each line a worker writes to stderr (progress, warnings), with the label of its current job. */
    private readonly onStderr: (line: string, label: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {}

  /**
   * Runs every job, `size` at a time, and hands each outcome to `onOutcome` as it arrives. If
   * `onOutcome` throws, no further job is started and the error is rethrown once the running
   * ones have finished.
   */
  async run(jobs: { job: Job; label: string }[], onOutcome: (index: number, outcome: Outcome) => void): Promise<void> {
    while (this.workers.length < Math.min(this.size, jobs.length)) this.workers.push(new Worker(this.setup, this.onStderr));
    let next = 0;
    let failure: unknown = null;
    await Promise.all(
      this.workers.map(async (w) => {
        while (failure === null && next < jobs.length) {
          const k = next++;
          w.label = jobs[k]!.label;
          const outcome = await w.send(this.nextId++, jobs[k]!.job);
          try {
            onOutcome(k, outcome);
          } catch (err) {
            failure ??= err;
          }
        }
      }),
    );
    if (failure !== null) throw failure;
  }

  /** Units of one study; each value goes to `onValue` as it arrives; a failed unit fails the run. */
  async runUnits(jobs: Omit<UnitJob, 'type'>[], onValue: (index: number, value: unknown) => void): Promise<void> {
    await this.run(
      jobs.map((j) => ({ job: { type: 'unit', ...j }, label: `${j.study} ${j.task.key}` })),
      (k, outcome) => {
        if (outcome.ok) return onValue(k, outcome.value);
        // A worker killed under a unit (out of memory, a signal) is not a bug of ours: say what
        // happened and that the finished units are kept.
        if (outcome.died) throw new UserError(`${outcome.error} while running ${jobs[k]!.study} ${jobs[k]!.task.key}; the units finished so far are in the journal: run again with --resume`, 1);
        throw outcome.userError ? new UserError(outcome.error) : new Error(outcome.error);
      },
    );
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
  }
}
