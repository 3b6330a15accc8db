/** What the sharding tests share: the CLI run in this process, and a result's numbers. */
import { readFileSync } from 'node:fs';
import { vi } from 'vitest';
import { SUITE, experimentCli } from '../../src/cli/experiment.js';
import type { StudyRegistry } from '../../src/exec/registry.js';

/** Runs the CLI in this process (knowing `registry`'s studies): exit code, stdout and stderr. */
export async function captured(args: string[], registry: StudyRegistry = SUITE): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c) => ((out += String(c)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c) => ((err += String(c)), true));
  try {
    return { code: await experimentCli(args, registry), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

/**
 * A result file without what differs between two runs of the same seeds (when, how long,
 * where): every other number, and the names of the timings.
 */
export function numbersOf(path: string): unknown {
  const r = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown> & { runs: Record<string, unknown>[] };
  const { environment: _e, startedAt: _s, durationMs: _d, ...rest } = r;
  return { ...rest, runs: r.runs.map(({ durationMs: _rd, timings, ...run }) => ({ ...run, timingKeys: Object.keys(timings as object).sort() })) };
}
