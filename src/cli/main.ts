/**
 * Shared entry-point wrapper: every command runs inside it, so a bad input is one line on
 * stderr and a non-zero exit.
 */
import { UserError } from '../errors.js';

export async function runMain(body: (argv: string[]) => Promise<number>): Promise<never> {
  const argv = process.argv.slice(2);
  const verbose = argv.includes('--verbose');
  // No SIGINT handler on purpose: training loops are synchronous, so a JS handler would only
  // run after the loop ends and Ctrl-C would seem ignored for minutes. The default action
  // ends the process at once, and nothing is lost: results are written whole or not at all
  // (temporary file + rename) and a search's journal is flushed trial by trial.
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
