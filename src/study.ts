/**
 * What a study file provides. A study reads like the lecture: its configs (lecture scale and
 * a quick profile), a run() for one seed that returns the recorded series and a summary, and
 * the lecture's claims checked against that run.
 */
import type { Options } from 'yargs';
import type { Mnist } from './data/mnist.js';
import type { Claim, Profile } from './results/schema.js';

export type ClaimCheck = Omit<Claim, 'perSeed'>;

export interface StudyRun {
  series: Record<string, unknown>;
  summary: Record<string, unknown>;
}

/** A progress counter for one loop: the CLI shows it as a bar with ETA. */
export interface ProgressTicker {
  tick(n?: number): void;
  done(): void;
}

export interface StudyContext {
  seed: number;
  profile: Profile;
  /** MNIST, read once per process and shared (subsets are taken by the study). */
  mnist(): Mnist;
  /** The folder MNIST is read from, for worker processes that read it themselves (absent in some tests). */
  mnistDir?: string;
  /** Starts a progress counter of `total` steps. */
  progress(label: string, total: number): ProgressTicker;
  /** A line for the user (stderr), e.g. what a stage found. */
  log(line: string): void;
  /** Folder the results go to (for studies that keep a journal next to their result). */
  outDir: string;
  /** The study's own CLI flags, as parsed. */
  args: Record<string, unknown>;
}

export interface Study<C extends object = object> {
  /** Command-line name, e.g. "optimizer-paths". */
  name: string;
  /** The STUDIES.md label, e.g. "S1". */
  id: string;
  title: string;
  /** One line for `list`. */
  description: string;
  needsMnist: boolean;
  profiles: Record<Profile, C>;
  /** Extra flags this study takes (e.g. --variant); shown in its --help. */
  options?: Record<string, Options>;
  /** Applies the study's own flags to a profile's config. */
  configure?(config: C, args: Record<string, unknown>): C;
  run(config: C, ctx: StudyContext): Promise<StudyRun> | StudyRun;
  claims(run: StudyRun, config: C): ClaimCheck[];
  /**
   * The numbers CI guards against committed baselines, each with its tolerance (absolute,
   * in the number's own unit). Without it, src/regression.ts picks the summary's final losses
   * and accuracies by name with default tolerances.
   */
  keyNumbers?(run: StudyRun, config: C): Record<string, KeyNumber>;
}

export interface KeyNumber {
  value: number;
  /** Allowed absolute deviation from the baseline. */
  tolerance: number;
}

/** Lets a registry hold studies of different config types. */
export type AnyStudy = Study<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export function defineStudy<C extends object>(study: Study<C>): Study<C> {
  return study;
}
