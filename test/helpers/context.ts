/**
 * A study context for tests that call a study's run() directly: MNIST (real or synthetic),
 * silent progress, collected log lines, and the real unit runner journaling into `outDir`.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Mnist } from '../../src/data/mnist.js';
import type { RunEvent } from '../../src/exec/events.js';
import { journalPath, seedUnits, studyContext } from '../../src/exec/runner.js';
import { UnitCache } from '../../src/exec/units.js';
import type { Profile } from '../../src/results/schema.js';
import type { AnyStudy, SeedOutput, Study, StudyContext } from '../../src/study.js';

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
  /** Every event the run reported. */
  events: RunEvent[];
  journal: string;
  /** Closes the journal (and frees the units' cached tensors), as the runner does after run(). */
  close(): void;
}

export function testContext(o: TestContextOptions): TestContext {
  const seed = o.seed ?? 0;
  const profile = o.profile ?? 'quick';
  const outDir = o.outDir ?? mkdtempSync(join(tmpdir(), 'study-'));
  const logs: string[] = [];
  const events: RunEvent[] = [];
  const sink = (event: RunEvent) => {
    events.push(event);
    if (event.kind === 'log') logs.push(event.line);
  };
  const cache = new UnitCache();
  const journal = journalPath(outDir, o.study.name, profile, seed, o.name ?? null);
  mkdirSync(dirname(journal), { recursive: true });
  const run = { study: o.study, config: o.config, profile, seed, resume: o.resume ?? false, fresh: o.fresh ?? false };
  const units = seedUnits({ ...run, journalPath: journal, backend: tf.getBackend(), gitCommit: 'test', pool: null, sink }, o.mnist, cache);
  const ctx = studyContext({ ...run, mnist: o.mnist, units, sink });
  return {
    ctx,
    logs,
    events,
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
