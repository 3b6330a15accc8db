/**
 * The result file of one run of one study: what was run (study, profile, seeds, full config),
 * where (backend, versions, CPU, commit), when and for how long, every recorded series, a
 * summary, and each lecture claim with its verdict (holds, FAILS or inconclusive) and the
 * numbers behind it.
 */
import { z } from 'zod';

/**
 * 2: a seed's run keeps its wall-clock figures in `timings`, apart from the summary (version 1
 * mixed them into the summary).
 */
export const SCHEMA_VERSION = 2;
export const PROFILES = ['lecture', 'quick'] as const;
export type Profile = (typeof PROFILES)[number];

/**
 * A claim's verdict. `inconclusive`: the run cannot decide (a net the claim needs to learn did
 * not, or the difference the claim rests on is within the noise); its `reason` says which.
 */
export const VERDICTS = ['holds', 'FAILS', 'inconclusive'] as const;
export type Verdict = (typeof VERDICTS)[number];

export const ClaimSchema = z.object({
  id: z.string(),
  /** The lecture's claim, stated as a checkable sentence with its threshold. */
  text: z.string(),
  verdict: z.enum(VERDICTS),
  /** Why the run cannot decide (inconclusive), why it failed, or a note the verdict must be read with. */
  reason: z.string().optional(),
  /** The measured numbers the verdict rests on. */
  numbers: z.record(z.string(), z.unknown()),
  /** With --seeds N: the verdict and numbers of each seed (see results/aggregate.ts for how they combine). */
  perSeed: z.array(z.object({ seed: z.number(), verdict: z.enum(VERDICTS), reason: z.string().optional(), numbers: z.record(z.string(), z.unknown()) })).optional(),
});

/**
 * Result files written before claims had three verdicts carry `holds: boolean`; they are read
 * as holds/FAILS (re-judging them under the current rules rewrites them, see results/rejudge.ts).
 */
function upgradeClaim(raw: unknown): unknown {
  if (raw === null || typeof raw !== 'object' || 'verdict' in raw || !('holds' in raw)) return raw;
  const { holds, perSeed, ...rest } = raw as { holds: unknown; perSeed?: unknown };
  const verdictOf = (h: unknown) => (h === true ? 'holds' : 'FAILS');
  const seeds = Array.isArray(perSeed)
    ? perSeed.map((p) => {
        if (p === null || typeof p !== 'object' || !('holds' in p)) return p;
        const { holds: h, ...r } = p as { holds: unknown };
        return { ...r, verdict: verdictOf(h) };
      })
    : perSeed;
  return { ...rest, verdict: verdictOf(holds), ...(seeds === undefined ? {} : { perSeed: seeds }) };
}
export const ClaimsSchema = z.preprocess((raw) => (Array.isArray(raw) ? raw.map(upgradeClaim) : raw), z.array(ClaimSchema));
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
  claims: ClaimsSchema,
});
export type StudyResult = z.infer<typeof ResultSchema>;
