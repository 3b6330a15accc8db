/**
 * The study contract. A study is one typed unit, `Study<Config, Series, Summary>`: its configs
 * (the lecture's full scale and a quick profile), a run() for one seed that records series and
 * a summary, the lecture's claims checked on them, the numbers CI guards, and its figures. All
 * of them share the three types, so a study and its figure cannot drift apart unnoticed.
 *
 * A study lives in experiments/<name>/ and is added to the suite by one line in
 * experiments/index.ts. Everything a study needs from outside (MNIST, progress, logging, a
 * journal of finished units, worker processes) comes through the context; studies never see
 * the command line.
 */
import type { z } from 'zod';
import type { Mnist } from './data/mnist.js';
import type { Figure } from './plot/render.js';
import type { Claim, Profile, StudyResult } from './results/schema.js';

export type ClaimCheck = Omit<Claim, 'perSeed'>;

/** What run() returns for one seed. Timings (wall-clock figures) are kept apart: they differ run to run. */
export interface SeedOutput<S, M> {
  series: S;
  summary: M;
  timings?: Record<string, number>;
}

/** One unit of work: which of the study's unit functions, a key naming it, and its input. */
export interface UnitTask<I = unknown, K extends string = string> {
  unit: K;
  /** Unique within a run, e.g. "1:37" (stage 1, trial 37). */
  key: string;
  input: I;
}

/**
 * A study's units of work by name, each a function of the study's config, a task and the
 * unit's context. The input type of a unit's task and the record it returns are declared once,
 * by the function's types; the unit runner's tasks and records follow from them.
 */
export type UnitMap<C> = Record<string, UnitFunction<C, any, unknown>>; // eslint-disable-line @typescript-eslint/no-explicit-any

type InputOf<F> = F extends (config: any, task: UnitTask<infer I>, ctx: any) => unknown ? I : never; // eslint-disable-line @typescript-eslint/no-explicit-any
type OutputOf<F> = F extends (...args: any[]) => infer O ? O : never; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A task for one of the units of U, its input typed by that unit's function. */
export type TaskOf<U> = { [K in keyof U & string]: UnitTask<InputOf<U[K]>, K> }[keyof U & string];
/** What the units of U give back (as JSON: a NaN comes back from a journal or a worker as null). */
export type RecordOf<U> = { [K in keyof U & string]: OutputOf<U[K]> }[keyof U & string];

export interface UnitRunner<U = any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  /**
   * Every task's record, in the tasks' order: read from the journal when it holds the key,
   * else computed (in a worker when there is a pool) and journaled. `onDone` sees each as it
   * becomes available.
   */
  run(tasks: TaskOf<U>[], onDone?: (record: RecordOf<U>, task: TaskOf<U>, fromJournal: boolean) => void): Promise<RecordOf<U>[]>;
  /** Records `value` under `key` (first run) or checks it equals the journaled one (resume). */
  checkpoint<T>(key: string, value: T): T;
  /**
   * Time spent: the units' own compute time (wherever they ran) and the time this process
   * waited for worker processes. A run's work is its wall time less the waiting plus the units'
   * compute time: with a pool shared by several studies, waiting includes other studies' turns.
   */
  readonly times: { unitMs: number; waitMs: number };
}

/** A progress counter for one loop: the CLI shows it as a bar with ETA (see src/exec/events.ts). */
export interface ProgressTicker {
  /** `n` more steps done; `values`: numbers worth watching live (e.g. the latest loss), passed on with the count. */
  tick(n?: number, values?: Record<string, number>): void;
  done(): void;
}

/** The context of a study's run(); U, the study's units (see UnitMap), types ctx.units. */
export interface StudyContext<U = any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  seed: number;
  profile: Profile;
  /** MNIST, read once per process and shared (subsets are taken by the study). */
  mnist(): Mnist;
  /** Starts a progress counter of `total` steps. */
  progress(label: string, total: number): ProgressTicker;
  /** A line for the user (stderr), e.g. what a stage found. */
  log(line: string): void;
  /**
   * Runs a study's independent units of work (see src/exec/units.ts): journaled as each one
   * finishes, resumed from the journal, spread over worker processes when there are several.
   */
  units: UnitRunner<U>;
}

/** A flag a study adds to the command line, declared as data; src/cli turns it into a yargs option. */
export type StudyFlag<C> =
  | { kind: 'integer'; name: string; describe: string; min: number; apply(config: C, value: number): C }
  | { kind: 'choice'; name: string; describe: string; choices: readonly string[]; default: string; apply(config: C, value: string): C };

/** The context a unit of work runs with, in the main process or a worker process. */
export interface UnitContext {
  seed: number;
  mnist(): Mnist;
  /**
   * A value kept for the rest of the process's life (or the current run in the main process),
   * e.g. a study's evaluation tensors shared by all its units.
   */
  cached<T>(key: string, make: () => T, dispose?: (value: T) => void): T;
}

/** A unit of work a study can hand to the unit runner (and so to worker processes): its task's input I, its record O. */
export type UnitFunction<C, I = unknown, O = unknown> = (config: C, task: UnitTask<I>, ctx: UnitContext) => O;

/** Another study's result file that a study reads. */
export interface StudyRead<C> {
  /** The study that writes it, and at which profile. */
  study: string;
  profile: Profile;
  /** Where this run reads it (relative to the working directory), from its config. */
  path(config: C): string;
}

/** A unit from a function of the config, the task's input (its type declared by the function) and the context. */
export function unit<C, I, O>(fn: (config: C, input: I, ctx: UnitContext, key: string) => O): UnitFunction<C, I, O> {
  return (config, task, ctx) => fn(config, task.input, ctx, task.key);
}

/** A study; U, its units (see UnitMap), is given when it has any. */
export interface Study<C extends object, S extends object, M extends object, U extends UnitMap<C> = any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Command-line name, e.g. "optimizer-paths". */
  name: string;
  /** The study's label in docs/STUDIES.md ("S" and its number). */
  id: string;
  title: string;
  /** One line for `list`. */
  description: string;
  needsMnist: boolean;
  /**
   * Result files of other studies this one reads. Declared so that a command running both runs
   * the writer first, a missing file stops the command before any work (one line), and a
   * sharded run refuses to read a file it only writes at its merge.
   */
  reads?: StudyRead<C>[];
  /** What a config may hold: `--set` and `--config` are checked against it. */
  configSchema: z.ZodType<C>;
  profiles: Record<Profile, C>;
  /** Extra flags this study takes (e.g. --variant); shown in --help. */
  flags?: StudyFlag<C>[];
  /** Named units of work (e.g. one search trial) that may run in a worker process. */
  units?: U;
  run(config: C, ctx: StudyContext<U>): Promise<SeedOutput<S, M>> | SeedOutput<S, M>;
  claims(run: SeedOutput<S, M>, config: C): ClaimCheck[];
  /**
   * The numbers CI guards against committed baselines, each with its tolerance (absolute,
   * in the number's own unit).
   */
  keyNumbers(run: SeedOutput<S, M>, config: C): Record<string, KeyNumber>;
  /** The figures of a result of this study (several seeds: result.runs). */
  figures(result: TypedResult<C, S, M>): Figure[];
  /** One seed's curves as panels of named lines: overlaid by `compare`, exported as CSV. */
  curves(run: SeedOutput<S, M>, config: C): CurvePanel[];
}

/** A panel of named lines (y per x; x defaults to 0, 1, 2, ...). */
export interface CurvePanel {
  panel: string;
  x: string;
  y: string;
  /** The y range to draw (what goes outside is clipped), e.g. the lecture's 0..1 for a loss. */
  yDomain?: [number, number];
  lines: { name: string; y: (number | null)[]; x?: number[] }[];
}

export interface KeyNumber {
  value: number;
  /** Allowed absolute deviation from the baseline. */
  tolerance: number;
}

/** A result file of one study, with that study's types for its config, series and summary. */
export interface TypedResult<C, S, M> extends Omit<StudyResult, 'config' | 'runs' | 'summary'> {
  config: C;
  runs: (Omit<StudyResult['runs'][number], 'series' | 'summary'> & { series: S; summary: M })[];
  /** One seed: that run's summary; several: numbers replaced by their spread (see results/aggregate.ts). */
  summary: unknown;
}

/** Lets a registry hold studies of different types. */
export type AnyStudy = Study<any, any, any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function defineStudy<C extends object, S extends object, M extends object, U extends UnitMap<C> = any>(study: Study<C, S, M, U>): Study<C, S, M, U> {
  return study;
}

/**
 * A validated result file as the result of `study`: the one place where a file's contents are
 * taken to have the study's types. The envelope (claims, runs, seeds) was checked by the schema
 * when the file was read; the series are the study's own, written by its run().
 */
export function typedResult<C extends object, S extends object, M extends object>(_study: Study<C, S, M>, result: StudyResult): TypedResult<C, S, M> {
  return result as unknown as TypedResult<C, S, M>;
}
