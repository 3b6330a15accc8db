/**
 * The unit runner: a study's independent units of work (a search's trials, say) run through here.
 *
 * - Each finished unit goes to a JSON-lines journal next to the result (fsync'd line by line,
 *   src/exec/journal.ts), so a killed run loses only the units in progress; `--resume`
 *   continues it and reads the finished ones back instead of training them again.
 * - With several workers, units run in worker processes (src/exec/pool.ts); a unit depends
 *   only on its study's config, the seed and its own input (its random streams are named by
 *   them), so it gives the same numbers wherever and in whatever order it runs.
 * - `checkpoint(key, value)` records a value the run derives along the way (a stage's ranges);
 *   on resume it must come out the same, or the journal is refused.
 *
 * The journal is opened on first use, so studies without units never write one, and it is
 * removed once the study's result file has been written: from then on the result holds it all.
 */
import { rmSync } from 'node:fs';
import { z } from 'zod';
import { UserError } from '../errors.js';
import type { UnitContext, UnitRunner, UnitTask } from '../study.js';
import { asJson, canonicalJson } from '../store/json.js';
import { Journal } from './journal.js';
import type { RunSink } from './events.js';
import type { RunDescription } from './plan.js';
import type { WorkerPool } from './pool.js';

/** What a resumed journal must match: a journal of another study, config, seed or backend is refused. */
export interface JournalHeader {
  journal: string;
  format: 2;
  seed: number;
  profile: string;
  backend: string;
  config: unknown;
}

/** Every line after the header: checked line by line when a journal is resumed. */
const JournalRecordSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('session'), gitCommit: z.string().nullable(), startedAt: z.string(), resumed: z.boolean() }),
  z.strictObject({ kind: z.literal('unit'), key: z.string(), value: z.custom<unknown>((v) => v !== null && v !== undefined, 'a unit needs a value') }),
  z.strictObject({ kind: z.literal('checkpoint'), key: z.string(), value: z.unknown() }),
]);
type JournalRecord = z.infer<typeof JournalRecordSchema>;

/** What a user can do about a damaged or foreign journal. */
const START_OVER = 'delete it or run with --fresh to start over';

export interface UnitRunnerOptions extends Pick<RunDescription, 'study' | 'config' | 'profile' | 'resume' | 'fresh'> {
  seed: number;
  /** The seed's journal (see journalBeside); `resume` continues it, else an existing one stops the run (see open()) unless `fresh`. */
  journalPath: string;
  /** The backend the units run on: a journal of another backend is refused on resume. */
  backend: string;
  gitCommit: string | null;
  /** Runs units in worker processes; null: in this process. */
  pool: WorkerPool | null;
  /** The study's expected duration (ms): a pool shared by several studies starts longer work first. */
  expectedMs?: number;
  /** Context for units run in this process. */
  context: UnitContext;
  /** Log lines and finished units go here. */
  sink: RunSink;
}

/** The journal of one seed's units, beside the file its run writes (a result file or a shard file). */
export function journalBeside(file: string, seed: number): string {
  return file.replace(/\.json$/, `.seed${seed}.journal.jsonl`);
}

/** Yields to the event loop: training is synchronous, and timers or worker messages must not starve. */
const breathe = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));


export class JournaledUnits implements UnitRunner {
  private journal: Journal<JournalRecord> | null = null;
  /** Set once this run has a journal on disk (created or resumed). */
  private opened = false;
  private readonly done = new Map<string, unknown>();
  private readonly checkpoints = new Map<string, unknown>();
  readonly times = { unitMs: 0, waitMs: 0 };

  private readonly header: JournalHeader;

  constructor(private readonly o: UnitRunnerOptions) {
    this.header = { journal: o.study.name, format: 2, seed: o.seed, profile: o.profile, backend: o.backend, config: o.config };
  }

  private log(line: string): void {
    this.o.sink({ kind: 'log', study: this.o.study.name, line });
  }

  /** Opens (or resumes) the journal the first time a unit or checkpoint needs it. */
  private open(): Journal<JournalRecord> {
    if (this.journal) return this.journal;
    if (this.opened) throw new Error(`journal ${this.o.journalPath} is closed`);
    this.opened = true;
    const { journalPath: path } = this.o;
    const header = this.header;
    let previous: JournalRecord[] = [];
    if (Journal.exists(path) && this.o.resume) {
      const r = Journal.resume<JournalHeader, JournalRecord>(path, header, { record: JournalRecordSchema, startOver: START_OVER });
      this.journal = r.journal;
      previous = r.records;
      if (r.tornTail) this.log(`journal ${path}: dropped an incomplete last line (the run was cut off mid-write)`);
      const units = previous.filter((x) => x.kind === 'unit').length;
      this.log(`resuming ${path}: ${units} finished unit(s)`);
    } else {
      if (Journal.exists(path) && !this.o.fresh) {
        throw new UserError(`${path} holds finished work of an earlier run of ${this.o.study.name}: add --resume to continue it, or --fresh to discard it and start over`);
      }
      if (this.o.resume) this.log(`no journal at ${path}: starting from the beginning`);
      this.journal = Journal.create<JournalHeader, JournalRecord>(path, header);
    }
    const sessions = previous.filter((x): x is Extract<JournalRecord, { kind: 'session' }> => x.kind === 'session');
    const last = sessions[sessions.length - 1];
    if (last && last.gitCommit !== this.o.gitCommit) {
      // Not refused: the commit may not touch training. But the result mixes code versions.
      this.log(`warning: the journal's units so far ran at commit ${last.gitCommit ?? 'unknown'}, this run is at ${this.o.gitCommit ?? 'unknown'}; use --fresh if the training code changed`);
    }
    for (const r of previous) {
      if (r.kind === 'unit' && !this.done.has(r.key)) this.done.set(r.key, r.value);
      else if (r.kind === 'checkpoint') this.checkpoints.set(r.key, r.value);
    }
    this.journal.append({ kind: 'session', gitCommit: this.o.gitCommit, startedAt: new Date().toISOString(), resumed: previous.length > 0 });
    return this.journal;
  }

  checkpoint<T>(key: string, value: T): T {
    const journal = this.open();
    if (this.checkpoints.has(key)) {
      if (canonicalJson(this.checkpoints.get(key)) !== canonicalJson(value)) {
        throw new UserError(`journal ${this.o.journalPath}: '${key}' differs from the value recomputed from its units; run with --fresh`);
      }
    } else {
      this.checkpoints.set(key, value);
      journal.append({ kind: 'checkpoint', key, value });
    }
    return value;
  }

  async run<R>(tasks: UnitTask[], onDone?: (record: R, task: UnitTask, fromJournal: boolean) => void): Promise<R[]> {
    const journal = this.open();
    const out = new Array<R>(tasks.length);
    const pending: number[] = [];
    tasks.forEach((task, i) => {
      if (this.done.has(task.key)) {
        out[i] = this.done.get(task.key) as R;
        this.unitDone(task, true);
        onDone?.(out[i]!, task, true);
      } else {
        pending.push(i);
      }
    });
    const finish = (i: number, value: unknown): void => {
      const record = asJson(value) as R;
      const task = tasks[i]!;
      journal.append({ kind: 'unit', key: task.key, value: record });
      this.done.set(task.key, record);
      out[i] = record;
      this.unitDone(task, false);
      onDone?.(record, task, false);
    };
    const { pool } = this.o;
    // With a pool, even one unit goes to a worker: training here would hold up the main
    // process, which hands out the work of every study sharing the pool.
    if (pool && pending.length > 0) {
      const w0 = performance.now();
      await pool.runUnits(
        pending.map((i) => ({ study: this.o.study.name, config: this.o.config, seed: this.o.seed, task: tasks[i]! })),
        (k, value, ms) => {
          this.times.unitMs += ms;
          finish(pending[k]!, value);
        },
        // Each unit's expected share of its study's time.
        (this.o.expectedMs ?? 0) / tasks.length,
      );
      this.times.waitMs += performance.now() - w0;
    } else {
      for (const i of pending) {
        const task = tasks[i]!;
        const fn = this.o.study.units?.[task.unit];
        if (!fn) throw new Error(`${this.o.study.name} has no unit '${task.unit}'`);
        const t0 = performance.now();
        const value = fn(this.o.config, task, this.o.context);
        const ms = performance.now() - t0;
        // Counted as the unit's compute time and as waiting: the run's own work is the rest.
        this.times.unitMs += ms;
        this.times.waitMs += ms;
        finish(i, value);
        // A hard kill between units loses nothing; give waiting timers and messages a turn.
        await breathe();
      }
    }
    return out;
  }

  private unitDone(task: UnitTask, fromJournal: boolean): void {
    this.o.sink({ kind: 'unit', study: this.o.study.name, seed: this.o.seed, key: task.key, fromJournal });
  }

  /** Closes the journal; with `remove`, deletes it (the result file now holds everything). */
  close(remove: boolean): void {
    this.journal?.close();
    this.journal = null;
    if (remove && this.opened) rmSync(this.o.journalPath, { force: true });
  }
}

/** Values a run's units share (evaluation tensors, data splits), disposed when the run ends. */
export class UnitCache {
  private readonly values = new Map<string, { value: unknown; dispose?: (value: unknown) => void }>();

  get<T>(key: string, make: () => T, dispose?: (value: T) => void): T {
    const hit = this.values.get(key);
    if (hit) return hit.value as T;
    const value = make();
    this.values.set(key, { value, dispose: dispose as ((value: unknown) => void) | undefined });
    return value;
  }

  clear(): void {
    for (const { value, dispose } of this.values.values()) dispose?.(value);
    this.values.clear();
  }
}
