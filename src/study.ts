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
export interface UnitTask {
  unit: string;
  /** Unique within a run, e.g. "1:37" (stage 1, trial 37). */
  key: string;
  input: unknown;
}

export interface UnitRunner {
  /**
   * Every task's record, in the tasks' order: read from the journal when it holds the key,
   * else computed (in a worker when there is a pool) and journaled. `onDone` sees each as it
   * becomes available.
   */
  run<R>(tasks: UnitTask[], onDone?: (record: R, task: UnitTask, fromJournal: boolean) => void): Promise<R[]>;
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

export interface StudyContext {
  seed: number;
  profile: Profile;
  /** MNIST, read once per process and shared (subsets are taken by the study). */
  mnist(): Mnist;
  /** Starts a progress counter of `total` steps. */
  progress(label: string, total: number): ProgressTicker;
  /** A line for the user (stderr), e.g. what a stage found. */
  log(line: string): void;
  /**
   * Runs a study's independent units of work (see src/train/units.ts): journaled as each one
   * finishes, resumed from the journal, spread over worker processes when there are several.
   */
  units: UnitRunner;
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

/** A unit of work a study can hand to the unit runner (and so to worker processes). */
export type UnitFunction<C> = (config: C, task: UnitTask, ctx: UnitContext) => unknown;

export interface Study<C extends object, S extends object, M extends object> {
  /** Command-line name, e.g. "optimizer-paths". */
  name: string;
  /** The study's label in docs/STUDIES.md, e.g. "S1". */
  id: string;
  title: string;
  /** One line for `list`. */
  description: string;
  needsMnist: boolean;
  /** What a config may hold: `--set` and `--config` are checked against it. */
  configSchema: z.ZodType<C>;
  profiles: Record<Profile, C>;
  /** Extra flags this study takes (e.g. --variant); shown in --help. */
  flags?: StudyFlag<C>[];
  /** Named units of work (e.g. one search trial) that may run in a worker process. */
  units?: Record<string, UnitFunction<C>>;
  run(config: C, ctx: StudyContext): Promise<SeedOutput<S, M>> | SeedOutput<S, M>;
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
  /** The y range to draw (what goes outside is clipped), e.g. the lecture's 0..1 for S2's loss. */
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
export type AnyStudy = Study<any, any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export function defineStudy<C extends object, S extends object, M extends object>(study: Study<C, S, M>): Study<C, S, M> {
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
