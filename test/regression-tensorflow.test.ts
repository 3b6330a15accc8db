/**
 * CI's accuracy regression on the tensorflow backend (tfjs-node): every study's quick profile
 * with seed 0, in a process of its own, against that backend's own baselines
 * (results/baselines/quick/tensorflow/, `npm run baselines -- --backend tensorflow`): every
 * claim keeps its verdict, every key number stays within its tolerance. TensorFlow's kernels
 * round differently from wasm's, so its numbers differ in the last digits and two claims that
 * sit near their thresholds at quick scale get other verdicts (see the baselines).
 *
 * The runs go two at a time, one intra-op thread each (the CI machine has two cores and the
 * figures are drawn by the wasm regression already). Without the backend the file is skipped
 * with one line; with CI set it fails.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STUDIES } from '../experiments/index.js';
import { defaultMnistDir } from '../src/data/mnist.js';
import { BASELINE_SEED, baselineDirFor, claimChanges, compareToBaseline, describeDrift, keyNumbersOf, readBaseline } from '../src/regression.js';
import type { StudyResult } from '../src/results/schema.js';
import { readResult } from '../src/results/store.js';
import { runCli } from './helpers/cli.js';
import { announce, nativeUnavailable } from './helpers/native.js';

const why = await nativeUnavailable();
const RUN = announce('regression-tensorflow.test.ts', why);
const DIR = baselineDirFor('tensorflow');
const AT_ONCE = 2;
/** A test waits for its run, which may have queued behind others: as long as one run may take (runCli's limit). */
const RUN_TIMEOUT_MS = 600_000;

const scratch = mkdtempSync(join(tmpdir(), 'regression-tf-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const mnistDir = process.env.MNIST_DIR ?? defaultMnistDir();

async function runQuick(name: string): Promise<StudyResult> {
  const out = join(scratch, name);
  const t0 = performance.now();
  const env = { MNIST_DIR: mnistDir, TF_NUM_INTRAOP_THREADS: '1' };
  const r = await runCli('experiment.ts', [name, '--profile', 'quick', '--seed', String(BASELINE_SEED), '--out', out, '--backend', 'tensorflow', '--quiet', '--workers', '1'], env);
  if (r.code !== 0) throw new Error(`${name} quick run on tensorflow failed (exit ${r.code}): ${r.stderr.trim().split('\n').pop()}`);
  console.log(`regression-tensorflow: ${name} quick run took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return readResult(join(out, `${name}.quick.json`));
}

/** Every study's run, AT_ONCE at a time in registry order, all started when the file starts (each test awaits its own). */
const runs = new Map<string, Promise<StudyResult>>();
function startAll(): void {
  const queue = [...STUDIES];
  const next = (): Promise<void> => {
    const study = queue.shift();
    if (!study) return Promise.resolve();
    const p = runQuick(study.name);
    runs.set(study.name, p);
    return p.then(next, next);
  };
  for (let i = 0; i < AT_ONCE; i++) void next();
}

describe.runIf(RUN)('quick profiles on tensorflow against its baselines', () => {
  beforeAll(() => {
    if (why !== null) throw new Error(`CI is set but the tensorflow backend does not load (${why}): npm run native (.ci/run does this)`);
    startAll();
  });

  for (const study of STUDIES) {
    it(`${study.id} ${study.name}`, async () => {
      const baseline = readBaseline(study.name, DIR);
      expect(baseline, `no tensorflow baseline for ${study.name}: run npm run baselines -- --backend tensorflow ${study.name}`).not.toBeNull();
      const result = await runs.get(study.name)!;
      expect(result.environment.backend).toBe('tensorflow');
      expect(result.environment.tensorflow?.onednnOpts).toBe('1');
      const knownFails = Object.entries(baseline!.claims).filter(([, v]) => v === 'FAILS').map(([id]) => id);
      if (knownFails.length) console.log(`regression-tensorflow: ${study.name}: FAILS at quick scale, as in its baseline: ${knownFails.join(', ')}`);
      expect(claimChanges(baseline!, result), `claims of ${study.name} whose verdict changed`).toEqual([]);
      const drifts = compareToBaseline(baseline!, keyNumbersOf(study, result)).map((d) => describeDrift(study.name, d));
      expect(drifts, `numbers outside their tolerance in ${study.name}`).toEqual([]);
    }, RUN_TIMEOUT_MS);
  }
});
