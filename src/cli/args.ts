/**
 * Flag parsing helpers shared by the commands: strict values, one clear line when wrong.
 *
 * Numbers are read one way everywhere: plain decimal digits only ("5", "120"). yargs' own
 * number parsing is switched off (strictFlags) because it reads "0x10" as 16 and "1e3" as
 * 1000 while "+5" stays text, and it cannot be told apart from "16" afterwards. A seed is
 * recorded in every result and named in file names and summaries, so one number has one
 * spelling: " 5", "0x10", "1e3" and "+5" are all refused with the same line.
 */
import type { Argv } from 'yargs';
import { UserError } from '../errors.js';

/** The one value of a flag; a flag given twice is an error (yargs hands us an array). */
function single(flag: string, value: unknown): string {
  if (Array.isArray(value)) {
    throw new UserError(`--${flag} given twice (${value.map((v) => `'${String(v)}'`).join(', ')}); give it once`);
  }
  return String(value);
}

/** A yargs coerce function accepting whole numbers >= min, written as plain decimal digits. */
export function integerAtLeast(flag: string, min: number): (value: unknown) => number {
  return (value: unknown) => {
    const text = single(flag, value);
    const bad = () => new UserError(`--${flag} must be a whole number >= ${min}, got '${text}'`);
    // "0x10", "1e3", "+5", " 5": numbers, but not in the one spelling we accept.
    if (!/^-?[0-9]+$/.test(text)) {
      if (/^\s*[+-]?(0x[0-9a-f]+|[0-9.]+(e[+-]?[0-9]+)?)\s*$/i.test(text) && !/^-?[0-9]*\.[0-9]*$/.test(text)) {
        throw new UserError(`--${flag} must be a whole number >= ${min} written in plain digits (like 5), got '${text}'`);
      }
      throw bad();
    }
    const n = Number(text);
    if (n < min || !Number.isSafeInteger(n)) throw bad();
    return n;
  };
}

/** A yargs coerce function accepting one of `choices`. */
export function oneOf<T extends string>(flag: string, choices: readonly T[]): (value: unknown) => T {
  return (value: unknown) => {
    const text = single(flag, value);
    if (!(choices as readonly string[]).includes(text)) throw new UserError(`--${flag} must be one of ${choices.join(', ')}; got '${text}'`);
    return text as T;
  };
}

/** A yargs coerce function for a string flag (a folder, a file): given once, not empty. */
export function oneString(flag: string): (value: unknown) => string {
  return (value: unknown) => {
    const text = single(flag, value);
    if (text.length === 0) throw new UserError(`--${flag} is empty; give a path`);
    return text;
  };
}

/** Flags of every command that take one path. */
export const STRING_FLAGS = ['out', 'mnist-dir'] as const;

/**
 * The parsing every command shares: numbers stay text until our coerce functions read them
 * (one way everywhere), and a string flag given twice is one clear line, not an array that
 * fails later with ERR_INVALID_ARG_TYPE.
 */
export function strictFlags<T>(y: Argv<T>, stringFlags: readonly string[] = STRING_FLAGS): Argv<T> {
  return y.parserConfiguration({ 'parse-numbers': false, 'parse-positional-numbers': false }).middleware((argv) => {
    for (const flag of stringFlags) {
      const value = (argv as Record<string, unknown>)[flag];
      if (value !== undefined) oneString(flag)(value);
    }
  }, true);
}

/**
 * What every command's parser ends with: unknown flags refused, --help and -h, no --version,
 * help wrapped to the terminal, and every failure one line (`fail`, default failAsUserError).
 */
export function commandDefaults<T>(y: Argv<T>, fail: (msg: string | undefined, err: Error | undefined) => never = failAsUserError): Argv<T> {
  return y
    .strict()
    .help()
    .alias('h', 'help')
    .version(false)
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .fail(fail);
}

/** yargs' failure handler for every command: one line (UserError), never the whole help. */
export function failAsUserError(msg: string | undefined, err: Error | undefined): never {
  if (err instanceof UserError) throw err;
  // A value our coerce functions refused arrives as `err` with our own message; yargs' own
  // complaints (unknown flag, missing study) arrive as `msg` alone and get a pointer to --help.
  if (err) throw new UserError(err.message);
  if (msg?.startsWith('Not enough non-option arguments')) throw new UserError("name a study to run, or all (see 'list' and --help)");
  throw new UserError(`${msg ?? 'bad arguments'} (see --help)`);
}
