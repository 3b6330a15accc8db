/**
 * Shared entry-point wrapper: every command runs inside it, so a bad input is one line on
 * stderr and a non-zero exit, and an interruption never leaves a half-written file (results
 * are written atomically; see src/results/store.ts).
 */
import { UserError } from '../errors.js';

export async function runMain(body: (argv: string[]) => Promise<number>): Promise<never> {
  const argv = process.argv.slice(2);
  const verbose = argv.includes('--verbose');
  process.on('SIGINT', () => {
    process.stderr.write('\ninterrupted: nothing was written for the run in progress; earlier results are intact\n');
    process.exit(130);
  });
  let code: number;
  try {
    code = await body(argv);
  } catch (err) {
    if (err instanceof UserError) {
      process.stderr.write(`error: ${err.message}\n`);
      code = err.exitCode;
    } else {
      const e = err instanceof Error ? err : new Error(String(err));
      process.stderr.write(`internal error: ${e.message.split('\n')[0]}${verbose ? '' : ' (run with --verbose for the stack)'}\n`);
      if (verbose && e.stack) process.stderr.write(`${e.stack}\n`);
      code = 1;
    }
  }
  // Exit explicitly: the wasm backend keeps handlers that would otherwise hold the process.
  process.exit(code);
}
