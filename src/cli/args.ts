/** Flag parsing helpers shared by the commands: strict values, one clear line when wrong. */
import { UserError } from '../errors.js';

/** A yargs coerce function accepting whole numbers >= min ("--seed -1" and "--seed 1.5" are errors). */
export function integerAtLeast(flag: string, min: number): (value: unknown) => number {
  return (value: unknown) => {
    const text = Array.isArray(value) ? String(value[value.length - 1]) : String(value);
    if (!/^-?\d+$/.test(text.trim())) throw new UserError(`--${flag} must be a whole number >= ${min}, got '${text}'`);
    const n = Number(text);
    if (n < min || !Number.isSafeInteger(n)) throw new UserError(`--${flag} must be a whole number >= ${min}, got '${text}'`);
    return n;
  };
}

/** A yargs coerce function accepting one of `choices`. */
export function oneOf<T extends string>(flag: string, choices: readonly T[]): (value: unknown) => T {
  return (value: unknown) => {
    const text = Array.isArray(value) ? String(value[value.length - 1]) : String(value);
    if (!(choices as readonly string[]).includes(text)) throw new UserError(`--${flag} must be one of ${choices.join(', ')}; got '${text}'`);
    return text as T;
  };
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
