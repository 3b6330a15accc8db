/**
 * A study context for tests that call a study's run() directly: MNIST (real or synthetic),
 * silent progress, collected log lines, and the real unit runner journaling into `outDir`.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Mnist } from '../../src/data/mnist.js';
import type { Profile } from '../../src/results/schema.js';
import { journalPath } from '../../src/exec/runner.js';
import type { AnyStudy, SeedOutput, Study, StudyContext } from '../../src/study.js';
import { JournaledUnits, UnitCache } from '../../src/exec/units.js';

export interface TestContextOptions {
  study: AnyStudy;
  config: object;
  mnist: () => Mnist;
  seed?: number;
  profile?: Profile;
  /** Where the journal goes (default: a new temporary folder). */
  outDir?: string;
  resume?: boolean;
  fresh?: boolean;
  /** A named run's name (its journal sits in runs/). */
  name?: string;
}

export interface TestContext {
  ctx: StudyContext;
  logs: string[];
  journal: string;
  /** Closes the journal (and frees the units' cached tensors), as the runner does after run(). */
  close(): void;
}

export function testContext(o: TestContextOptions): TestContext {
  const seed = o.seed ?? 0;
  const profile = o.profile ?? 'quick';
  const outDir = o.outDir ?? mkdtempSync(join(tmpdir(), 'study-'));
  const logs: string[] = [];
  const log = (line: string) => logs.push(line);
  const cache = new UnitCache();
  const journal = journalPath(outDir, o.study.name, profile, seed, o.name ?? null);
  mkdirSync(dirname(journal), { recursive: true });
  const units = new JournaledUnits({
    study: o.study.name,
    config: o.config,
    seed,
    units: o.study.units ?? {},
    journalPath: journal,
    header: { journal: o.study.name, format: 2, seed, profile, backend: tf.getBackend(), config: o.config },
    resume: o.resume ?? false,
    fresh: o.fresh ?? false,
    gitCommit: 'test',
    pool: null,
    context: { seed, mnist: o.mnist, cached: (key, make, dispose) => cache.get(key, make, dispose) },
    log,
  });
  const ctx: StudyContext = { seed, profile, mnist: o.mnist, progress: () => ({ tick() {}, done() {} }), log, units };
  return {
    ctx,
    logs,
    journal,
    close() {
      units.close(false);
      cache.clear();
    },
  };
}

/** Runs a study's run() for one seed in a test context and closes it. */
export async function runInTest<C extends object, S extends object, M extends object>(
  study: Study<C, S, M>,
  config: C,
  mnist: () => Mnist,
  options: Partial<TestContextOptions> = {},
): Promise<SeedOutput<S, M>> {
  const t = testContext({ study, config, mnist, ...options });
  try {
    return await study.run(config, t.ctx);
  } finally {
    t.close();
  }
}
