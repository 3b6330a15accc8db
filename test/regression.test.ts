/**
 * CI's accuracy regression: every registered study's quick profile with seed 0 must (1) keep
 * every lecture claim holding (a claim the baseline records as FAILS must keep that verdict
 * and is printed), (2) keep its key numbers within the tolerances of the committed baselines
 * (results/baselines/quick/*.json; regenerate on purpose with `npm run baselines`), and
 * (3) draw its figures from that real result, for one seed and as if for two.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STUDIES, findStudy } from '../experiments/index.js';
import { figuresFor } from '../src/cli/figures.js';
import { renderSpec } from '../src/plot/render.js';
import { defaultMnistDir } from '../src/data/mnist.js';
import { BASELINE_SEED, claimChanges, compareToBaseline, describeDrift, keyNumbersOf, readBaseline } from '../src/regression.js';
import type { StudyResult } from '../src/results/schema.js';
import { readResult } from '../src/results/store.js';
import { runCli } from './helpers/cli.js';

const scratch = mkdtempSync(join(tmpdir(), 'regression-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const mnistDir = process.env.MNIST_DIR ?? defaultMnistDir();
const results = new Map<string, StudyResult>();

/**
 * The quick profile with the baseline seed, run as a user runs it: in a process of its own.
 * (In-process, a long synchronous training loop would starve the test worker's messages to
 * vitest, which then reports a timeout.)
 */
async function runQuick(name: string, outDir: string): Promise<StudyResult> {
  const r = await runCli('experiment.ts', [name, '--profile', 'quick', '--seed', String(BASELINE_SEED), '--out', outDir, '--backend', 'wasm', '--quiet', '--workers', '1'], { MNIST_DIR: mnistDir });
  if (r.code !== 0) throw new Error(`${name} quick run failed (exit ${r.code}): ${r.stderr.trim()}`);
  return readResult(join(outDir, `${name}.quick.json`));
}

/**
 * The quick runs go two at a time (each a process of its own; on two cores the second one
 * fills the core the file would otherwise leave to other files), all started when the file
 * starts, in registry order; each test awaits its own.
 */
const AT_ONCE = 2;
/** A test waits for its run, which may have queued behind others: as long as one run may take (runCli's limit). */
const RUN_TIMEOUT_MS = 600_000;
const runs = new Map<string, Promise<{ result: StudyResult; seconds: number }>>();
function startAll(): void {
  const queue = [...STUDIES];
  const next = (): Promise<void> => {
    const study = queue.shift();
    if (!study) return Promise.resolve();
    const t0 = performance.now();
    const p = runQuick(study.name, join(scratch, study.name)).then((result) => ({ result, seconds: (performance.now() - t0) / 1000 }));
    runs.set(study.name, p);
    return p.then(next, next);
  };
  for (let i = 0; i < AT_ONCE; i++) void next();
}

describe('quick profiles against their baselines', () => {
  beforeAll(startAll);
  for (const study of STUDIES) {
    it(`${study.id} ${study.name}`, async () => {
      const { result, seconds } = await runs.get(study.name)!;
      results.set(study.name, result);
      console.log(`regression: ${study.name} quick run took ${seconds.toFixed(1)} s`);

      const baseline = readBaseline(study.name);
      expect(baseline, `no baseline for ${study.name}: run npm run baselines ${study.name}`).not.toBeNull();
      const knownFails = Object.entries(baseline!.claims).filter(([, v]) => v === 'FAILS').map(([id]) => id);
      if (knownFails.length) console.log(`regression: ${study.name}: FAILS at quick scale, as in its baseline: ${knownFails.join(', ')}`);
      const knownUndecided = Object.entries(baseline!.claims).filter(([, v]) => v === 'inconclusive').map(([id]) => id);
      if (knownUndecided.length) console.log(`regression: ${study.name}: inconclusive at quick scale, as in its baseline: ${knownUndecided.join(', ')}`);
      expect(claimChanges(baseline!, result), `claims of ${study.name} whose verdict changed`).toEqual([]);

      const drifts = compareToBaseline(baseline!, keyNumbersOf(study, result)).map((d) => describeDrift(study.name, d));
      expect(drifts, `numbers outside their tolerance in ${study.name}`).toEqual([]);

      const twoSeeds: StudyResult = { ...result, seeds: [0, 1], runs: [result.runs[0]!, { ...result.runs[0]!, seed: 1 }] };
      for (const r of [result, twoSeeds]) {
        const figures = figuresFor(r);
        expect(figures.length, `${study.name} draws no figure`).toBeGreaterThan(0);
        for (const f of figures) {
          const { svg, png } = await renderSpec(f.spec);
          expect(svg.length, f.name).toBeGreaterThan(2000);
          expect(svg, f.name).not.toContain('NaN');
          expect(png.subarray(1, 4).toString('latin1'), f.name).toBe('PNG');
        }
      }
    }, RUN_TIMEOUT_MS);
  }
});

describe('determinism', () => {
  it('two quick runs of one study with one seed give identical numbers', async () => {
    // The S5 quick run trains BN and plain nets with MNIST batches: cheap and exercises every
    // random draw (inits, batch sampling) and the running statistics.
    const study = findStudy('batchnorm')!;
    const first = results.get(study.name) ?? (await runQuick(study.name, join(scratch, 'det-1')));
    const second = await runQuick(study.name, join(scratch, 'det-2'));
    // Wall-clock figures live in `timings`; everything else must repeat exactly.
    expect(second.runs[0]!.series).toEqual(first.runs[0]!.series);
    expect(second.runs[0]!.summary).toEqual(first.runs[0]!.summary);
  });
});
