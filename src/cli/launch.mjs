// Loaded with `node --import ./src/cli/launch.mjs --import tsx <command>.ts` by every npm script
// (plain JavaScript: it runs before tsx is there). Two things the environment can break
// before our own code runs:
//  - TMPDIR: tsx's CLI (used to start worker processes) keeps an IPC folder in os.tmpdir();
//    a TMPDIR that is a file prints a stack trace and one under /proc hangs. The main process
//    does not need it (node --import tsx); if it is unusable we say so in one line and let
//    this process and its workers use the system's default (/tmp) instead.
//  - `ulimit -v`: tsx's own ES-module lexer is WebAssembly; when no wasm memory can be
//    reserved its start-up promise rejects and Node would stop with a bundler stack. tsx
//    falls back to its JavaScript lexer, so that one rejection is let pass; our backend
//    choice then says what happened to the wasm backend (src/backend.ts).
import { accessSync, constants, statSync } from 'node:fs';
import { register } from 'node:module';

const tmp = process.env.TMPDIR;
if (tmp !== undefined && tmp !== '') {
  let problem = null;
  try {
    if (!statSync(tmp).isDirectory()) problem = 'not a folder';
    else accessSync(tmp, constants.W_OK | constants.X_OK);
  } catch (err) {
    problem = err && err.code ? err.code : String(err);
  }
  if (problem !== null) {
    process.stderr.write(`warning: TMPDIR=${tmp} is not a usable folder (${problem}); using /tmp for this run\n`);
    delete process.env.TMPDIR;
  }
}

const self = new URL(import.meta.url).pathname;
if (!(process.env.NODE_OPTIONS ?? '').includes(self)) {
  // Worker processes (started through tsx) get the same guard.
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import ${self}`.trim();
}

// tsx's ESM hooks run in Node's hooks thread: the same filter goes there first.
register('./launch-hooks.mjs', import.meta.url);

process.on('unhandledRejection', (reason) => {
  const stack = reason instanceof Error ? String(reason.stack) : '';
  if (reason instanceof RangeError && /WebAssembly|Wasm memory/.test(reason.message) && /node_modules[\\/]tsx[\\/]/.test(stack)) return;
  // Anything else: what Node does by default (an uncaught exception).
  throw reason;
});
