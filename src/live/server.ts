/**
 * The main thread's side of the live page: starts the server thread (src/live/thread.ts) on the
 * loopback address, and forwards the run to it. Forwarding is a message post, whatever the run
 * is doing; nothing the page does reaches back into the run, so watching cannot change its
 * numbers. If the server thread fails, the run goes on and one line says so.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UserError } from '../errors.js';
import type { RunSink } from '../exec/events.js';
import type { LiveResult } from './model.js';
import type { FromThread, ThreadSetup, ToThread } from './thread.js';

/** Loopback only: the page is for whoever runs the command, on this machine. */
export const LIVE_HOST = '127.0.0.1';

export interface LiveServer {
  url: string;
  /** The run's events, as a sink. */
  sink: RunSink;
  plan(studies: { name: string; title: string }[]): void;
  started(study: string): void;
  ended(study: string, error: string | null, result: LiveResult | null): void;
  /** The run is over: pages are told, then the server stops (`keep`: once the user presses Ctrl-C). */
  finish(keep: boolean): Promise<void>;
}

/**
 * The thread runs our TypeScript: it registers the same loader (tsx) this process runs under
 * before importing it (a worker thread does not inherit the main thread's loader hooks).
 */
function threadBoot(): string {
  const tsxApi = pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'esm', 'api', 'index.mjs')).href;
  const thread = new URL('./thread.ts', import.meta.url).href;
  return `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(thread)}); });`;
}

export async function startLive(port: number, html: string, say: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<LiveServer> {
  const setup: ThreadSetup = { host: LIVE_HOST, port, html };
  const worker = new Worker(threadBoot(), { eval: true, workerData: setup });
  let alive = true;
  let listening = false;
  const waiters: { type: FromThread['type']; resolve: () => void }[] = [];
  const post = (m: ToThread) => {
    if (alive) worker.postMessage(m);
  };
  const bound = await new Promise<number>((resolve, reject) => {
    worker.on('message', (m: FromThread) => {
      if (m.type === 'listening') {
        listening = true;
        resolve(m.port);
      }
      else if (m.type === 'failed') {
        alive = false;
        void worker.terminate();
        reject(new UserError(`--live: cannot serve on ${LIVE_HOST}:${port}: ${m.message} (choose another with --live-port N, or 0 for a free one)`));
      }
      for (const w of waiters.filter((x) => x.type === m.type)) w.resolve();
    });
    worker.on('error', (err) => {
      alive = false;
      if (listening) say(`live: the page's server stopped (${err.message}); the run goes on`);
      reject(new UserError(`--live: the page's server did not start: ${err.message}`));
      for (const w of waiters) w.resolve();
    });
  });
  const reply = (type: FromThread['type']) => new Promise<void>((resolve) => (alive ? waiters.push({ type, resolve }) : resolve()));
  return {
    url: `http://${LIVE_HOST}:${bound}/`,
    sink: (event) => post({ type: 'event', at: Date.now(), event }),
    plan: (studies) => post({ type: 'plan', studies }),
    started: (study) => post({ type: 'started', study, at: Date.now() }),
    ended: (study, error, result) => post({ type: 'ended', study, at: Date.now(), error, result }),
    async finish(keep) {
      const ended = reply('ended');
      post({ type: 'end' });
      await ended;
      if (keep && alive) {
        say(`live: the run has ended; the page stays up at http://${LIVE_HOST}:${bound}/ until Ctrl-C`);
        await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
      }
      const closed = reply('closed');
      post({ type: 'close' });
      await closed;
      await worker.terminate();
    },
  };
}
