/**
 * The one way the suite writes a file (results, baselines, figures, REPORT.md): every byte
 * is written to a temporary file in the target's folder (short writes are retried, a write
 * that makes no progress is an error), the file is fsync'd, renamed over the target, and the
 * folder is fsync'd so the rename itself survives a crash. On any failure the old file is
 * untouched, the temporary file is removed, and a UserError says in one line which file could
 * not be written and why ("disk full", "permission denied", ...).
 */
import * as nodeFs from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../errors.js';

/** The fs calls the store uses; a test may pass a fault-injecting stand-in. */
export type AtomicFs = Pick<
  typeof nodeFs,
  'openSync' | 'writeSync' | 'fsyncSync' | 'closeSync' | 'renameSync' | 'unlinkSync' | 'statSync'
>;

const REASONS: Record<string, string> = {
  ENOSPC: 'disk full',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large for this file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  EISDIR: 'it is a folder',
  ENOTDIR: 'a part of its path is not a folder',
  ENOENT: 'its folder does not exist',
  ENAMETOOLONG: 'the name is too long',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files',
  EIO: 'input/output error on the device',
  EBUSY: 'the file is busy',
  EXDEV: 'cannot rename across file systems',
  ELOOP: 'too many symbolic links in its path',
  SHORT: 'the file system accepted no more bytes (short write)',
};

/** "disk full (ENOSPC)", "permission denied (EACCES)", ... for an fs error. */
export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code && REASONS[code]) return `${REASONS[code]} (${code})`;
  if (code) return code;
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0]!;
}

const HINTS: Record<string, string> = {
  ENOSPC: 'free some space and run again',
  EDQUOT: 'free some space and run again',
  EACCES: 'make the folder writable or choose another --out',
  EPERM: 'make the folder writable or choose another --out',
  EROFS: 'choose another --out on a writable disk',
  EISDIR: 'move the folder away or choose another --out',
  ENOTDIR: 'choose another --out',
  ENOENT: 'create the folder or choose another --out',
};

/** What the user can do about an fs error, as "; <hint>" (empty when there is nothing specific). */
export function hintFor(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code && HINTS[code] ? `; ${HINTS[code]}` : '';
}

let counter = 0;

/** The temporary name beside `path`: hidden, unique per process and call. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${++counter}.tmp`);
}

/** Writes all of `bytes` at the file's start, looping over short writes. */
function writeAll(fs: AtomicFs, fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) {
    const n = fs.writeSync(fd, bytes, off, bytes.length - off, off);
    if (!(n > 0)) throw Object.assign(new Error(`short write: ${off} of ${bytes.length} bytes`), { code: 'SHORT' });
    off += n;
  }
}

/** fsync of a folder, so a rename in it is on disk. File systems that cannot do it are let be. */
export function fsyncDir(fs: Pick<typeof nodeFs, 'openSync' | 'fsyncSync' | 'closeSync'>, dir: string): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'ENOTSUP' && code !== 'EISDIR' && code !== 'EPERM') throw err;
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

/**
 * Replaces `path` with `data`, whole or not at all. Throws a one-line UserError naming the
 * file and the reason; the previous file is then exactly as it was, and no temporary file is left.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, fs: AtomicFs = nodeFs): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const tmp = tempPathFor(path);
  let fd: number | null = null;
  let renamed = false;
  try {
    let mode = 0o644;
    try {
      const st = fs.statSync(path);
      if (st.isDirectory()) throw Object.assign(new Error('is a folder'), { code: 'EISDIR' });
      mode = st.mode & 0o777;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    fd = fs.openSync(tmp, 'wx', mode);
    writeAll(fs, fd, bytes);
    fs.fsyncSync(fd);
    const closing = fd;
    fd = null;
    fs.closeSync(closing);
    fs.renameSync(tmp, path);
    renamed = true;
    fsyncDir(fs, dirname(path));
  } catch (err) {
    if (fd !== null) {
      try {
        fs.closeSync(fd);
      } catch {
        // already failing: the first error is the one to report
      }
    }
    if (!renamed) {
      try {
        fs.unlinkSync(tmp);
      } catch {
        // never created, or already gone
      }
    }
    const after = renamed ? 'the new file is in place but may not survive a crash' : 'the previous file is unchanged';
    throw new UserError(`cannot write ${path}: ${describeFsError(err)}; ${after}${hintFor(err)}`);
  }
}

/**
 * A real trial write in `dir` (create, write, fsync, remove a temporary file), so an
 * unwritable or full folder is found before any work starts. Throws a one-line UserError
 * beginning with `what` (e.g. "--out results").
 */
export function trialWrite(dir: string, what: string, fs: AtomicFs = nodeFs): void {
  const tmp = join(dir, `.write-test.${process.pid}.${++counter}.tmp`);
  let fd: number | null = null;
  try {
    fd = fs.openSync(tmp, 'wx');
    writeAll(fs, fd, Buffer.from('nn-training-lab write test\n'));
    fs.fsyncSync(fd);
  } catch (err) {
    throw new UserError(`${what} is not writable: ${describeFsError(err)}${hintFor(err)}`);
  } finally {
    if (fd !== null) {
      try {
        fs.closeSync(fd);
      } catch {
        // nothing more to do
      }
    }
    try {
      fs.unlinkSync(tmp);
    } catch {
      // never created
    }
  }
}
