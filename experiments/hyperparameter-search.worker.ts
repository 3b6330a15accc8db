/**
 * A worker process of S7: trains the search's trials it is sent, one at a time, so that a
 * search uses every core (`--workers N`). Each trial depends only on (seed, stage, trial) and
 * its hyperparameters, so a trial trained here gives exactly the numbers it gives in the main
 * process on the same backend.
 *
 * Protocol, JSON lines: the first line on stdin is the set-up ({mnistDir, backend, seed,
 * config}), every further line a trial ({stage, trial, hp}); for each trial one line goes to
 * stdout: the TrialRecord. The worker reads only the training images, never the test set.
 */
import { createInterface } from 'node:readline';
import { selectBackend, type BackendChoice } from '../src/backend.js';
import { loadMnist } from '../src/data/mnist.js';
import { disposeBatch, toBatch } from '../src/train/batches.js';
import { splitData, trainTrial, type EvalData, type HyperParams, type HyperparameterSearchConfig } from './hyperparameter-search.js';

interface Setup {
  mnistDir: string;
  backend: BackendChoice;
  seed: number;
  config: HyperparameterSearchConfig;
}

interface Task {
  stage: number;
  trial: number;
  hp: HyperParams;
}

async function main(): Promise<void> {
  let setup: Setup | null = null;
  let data: EvalData | null = null;
  for await (const line of createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    if (!setup) {
      setup = JSON.parse(line) as Setup;
      await selectBackend(setup.backend);
      const split = splitData(loadMnist(setup.mnistDir, { withTest: false, trainLimit: setup.config.subsetSize }).train, setup.config, setup.seed);
      data = { train: split.train, val: toBatch(split.val), trainEval: toBatch(split.train) };
      continue;
    }
    const task = JSON.parse(line) as Task;
    const { record, net } = trainTrial(setup.config, data!, setup.seed, task.stage, task.trial, task.hp);
    net.dispose();
    process.stdout.write(JSON.stringify(record) + '\n');
  }
  if (data) {
    disposeBatch(data.val);
    disposeBatch(data.trainEval);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`S7 worker: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
