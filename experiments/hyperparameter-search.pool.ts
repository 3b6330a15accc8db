/**
 * The main-process side of S7's worker processes (see hyperparameter-search.worker.ts): a
 * fixed set of child processes, each sent one trial at a time; a finished trial is handed
 * back (and journaled by the caller) as soon as it arrives.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { BackendName } from '../src/backend.js';
import type { HyperParams, HyperparameterSearchConfig, TrialRecord } from './hyperparameter-search.js';

export interface TrialTask {
  stage: number;
  trial: number;
  hp: HyperParams;
}

export interface PoolSetup {
  mnistDir: string;
  backend: BackendName;
  seed: number;
  config: HyperparameterSearchConfig;
}

const here = dirname(fileURLToPath(import.meta.url));
const TSX = join(here, '..', 'node_modules', '.bin', 'tsx');
const WORKER = join(here, 'hyperparameter-search.worker.ts');

interface Worker {
  child: ChildProcess;
  /** Resolves with the next record line the worker prints. */
  next(): Promise<TrialRecord>;
}

function startWorker(setup: PoolSetup): Worker {
  const child = spawn(TSX, [WORKER], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  child.stdin!.write(JSON.stringify(setup) + '\n');
  return {
    child,
    async next() {
      const r = await lines.next();
      if (r.done) throw new Error(`an S7 worker process stopped (${await new Promise<string>((res) => (child.exitCode !== null || child.signalCode !== null ? res(child.signalCode ? `killed by ${child.signalCode}` : `exit code ${child.exitCode}`) : child.once('exit', (c, sig) => res(sig ? `killed by ${sig}` : `exit code ${c}`))))}): ${stderr.trim().split('\n').pop() || 'no message'}`);
      return JSON.parse(r.value) as TrialRecord;
    },
  };
}

export class TrialPool {
  private workers: Worker[] = [];

  constructor(private readonly size: number, private readonly setup: PoolSetup) {}

  /** Trains every task; `onRecord` gets each finished trial as it arrives. */
  async run(tasks: TrialTask[], onRecord: (r: TrialRecord) => void): Promise<void> {
    while (this.workers.length < Math.min(this.size, tasks.length)) this.workers.push(startWorker(this.setup));
    const queue = [...tasks];
    await Promise.all(
      this.workers.map(async (w) => {
        for (let task = queue.shift(); task; task = queue.shift()) {
          w.child.stdin!.write(JSON.stringify(task) + '\n');
          onRecord(await w.next());
        }
      }),
    );
  }

  close(): void {
    for (const w of this.workers) {
      w.child.stdin!.end();
      w.child.kill();
    }
    this.workers = [];
  }
}
