/**
 * An error caused by what the user asked for (a bad flag, a missing file, an unwritable
 * folder). The CLI prints its message as one line on stderr and exits non-zero, with no
 * stack trace unless --verbose. Anything else is a bug and is reported as such.
 */
export class UserError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
    this.name = 'UserError';
  }
}
