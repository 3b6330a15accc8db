/**
 * The result file of one run of one study: what was run (study, profile, seeds, full config),
 * where (backend, versions, CPU, commit), when and for how long, every recorded series, a
 * summary, and each lecture claim with holds/FAILS and the numbers behind it.
 */
import { z } from 'zod';

/**
 * 2: a seed's run keeps its wall-clock figures in `timings`, apart from the summary (version 1
 * mixed them into the summary).
 */
export const SCHEMA_VERSION = 2;
export const PROFILES = ['lecture', 'quick'] as const;
export type Profile = (typeof PROFILES)[number];

export const ClaimSchema = z.object({
  id: z.string(),
  /** The lecture's claim, stated as a checkable sentence with its threshold. */
  text: z.string(),
  holds: z.boolean(),
  /** The measured numbers the verdict rests on. */
  numbers: z.record(z.string(), z.unknown()),
  /** With --seeds N: the verdict and numbers of each seed (the claim holds only if it holds in all). */
  perSeed: z.array(z.object({ seed: z.number(), holds: z.boolean(), numbers: z.record(z.string(), z.unknown()) })).optional(),
});
export type Claim = z.infer<typeof ClaimSchema>;

export const EnvironmentSchema = z.object({
  backend: z.string(),
  tfjsVersion: z.string(),
  nodeVersion: z.string(),
  platform: z.string(),
  cpu: z.string(),
  cpuCount: z.number(),
  gitCommit: z.string().nullable(),
  /** Whether the working tree had changes outside results/ when the run started (null: not a git checkout). */
  gitDirty: z.boolean().nullable().default(null),
  /** On the tensorflow backend: the TensorFlow library's version and the thread settings it ran with. */
  tensorflow: z.object({ version: z.string(), intraOpThreads: z.number(), interOpThreads: z.number(), onednnOpts: z.string() }).optional(),
});
export type Environment = z.infer<typeof EnvironmentSchema>;

export const SeedRunSchema = z.object({
  seed: z.number().int().nonnegative(),
  durationMs: z.number().nonnegative(),
  /** Wall-clock figures of this seed's run (ms per step, evaluation time): they differ from run to run, the rest does not. */
  timings: z.record(z.string(), z.number()),
  series: z.record(z.string(), z.unknown()),
  summary: z.record(z.string(), z.unknown()),
});
export type SeedRun = z.infer<typeof SeedRunSchema>;

export const ResultSchema = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  study: z.string(),
  title: z.string(),
  profile: z.enum(PROFILES),
  /** A named run's name (its config differs from its profile's); null for a profile's own run. */
  name: z.string().nullable().default(null),
  seeds: z.array(z.number().int().nonnegative()).min(1),
  config: z.record(z.string(), z.unknown()),
  /** Every setting that differs from the profile's config: path -> [profile's value, this run's]. */
  overrides: z.record(z.string(), z.tuple([z.unknown(), z.unknown()])).default({}),
  environment: EnvironmentSchema,
  startedAt: z.string(),
  durationMs: z.number().nonnegative(),
  runs: z.array(SeedRunSchema).min(1),
  /** One seed: that run's summary. Several: {mean, std, min, max} for every number in it. */
  summary: z.record(z.string(), z.unknown()),
  claims: z.array(ClaimSchema),
});
export type StudyResult = z.infer<typeof ResultSchema>;
