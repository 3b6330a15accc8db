// Loaded with `node --require ./src/cli/launch.cjs --import tsx <command>.ts` by every npm
// script (plain CommonJS: it runs before tsx is there, and before tsx's own --require'd
// pre-flight in the worker processes it starts). Two things the environment can break before
// our own code runs:
//  - TMPDIR: tsx's CLI (used to start worker processes) keeps an IPC folder in os.tmpdir();
//    a TMPDIR that is a file prints a stack trace and one under /proc hangs. The main process
//    does not need it (node --import tsx); if it is unusable we say so in one line and let
//    this process and its workers use the system's default (/tmp) instead.
//  - `ulimit -v`: tsx's own ES-module lexer is WebAssembly; when no wasm memory can be
//    reserved its start-up promise rejects and Node would stop with a bundler stack. tsx
//    falls back to its JavaScript lexer, so that one rejection is let pass (here and in the
//    module-hooks thread); our backend choice then says what happened to the wasm backend.
'use strict';
const { accessSync, constants, statSync } = require('node:fs');
const { register } = require('node:module');
const { pathToFileURL } = require('node:url');

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

// Worker processes (started through tsx) get the same guard, before tsx's own pre-flight.
if (!(process.env.NODE_OPTIONS ?? '').includes(__filename)) {
  process.env.NODE_OPTIONS = `--require "${__filename}" ${process.env.NODE_OPTIONS ?? ''}`.trim();
}

/** tsx's failed WebAssembly lexer start-up: harmless, tsx uses its JavaScript lexer instead. */
function isTsxWasmStartup(reason) {
  const stack = reason instanceof Error ? String(reason.stack) : '';
  return reason instanceof RangeError && /WebAssembly|Wasm memory/.test(reason.message) && /node_modules[\\/]tsx[\\/]/.test(stack);
}

process.on('unhandledRejection', (reason) => {
  if (isTsxWasmStartup(reason)) return;
  // Anything else: what Node does by default (an uncaught exception).
  throw reason;
});

// tsx's ESM hooks run in Node's hooks thread: the same filter goes there first.
register(pathToFileURL(require('node:path').join(__dirname, 'launch-hooks.mjs')));
