/**
 * Writing several files as one set (a merge's result files, a figure's PNG, SVG and spec, a
 * report with its page): after the call either every file holds its new contents or every
 * file is byte for byte what it was before, and a failure is one line naming the file that
 * failed, the reason, and that nothing changed.
 *
 * How: every new file is first written to a temporary file beside its target and fsync'd
 * (a full disk or an unwritable folder fails here, before any target is touched); then every
 * existing target gets a backup by hard link (same folder, same bytes, no copy; a copy where
 * the file system has no hard links); then the
 * temporary files are renamed over their targets. A rename that fails puts the backups back
 * (rename is atomic) and removes the new files that had no earlier version. The backups are
 * removed at the end and every folder is fsync'd, so the renames survive a crash. A process
 * killed between the renames leaves the set part new, with the earlier files in the hidden
 * `.<name>.<pid>.backup` files beside them.
 */
import * as nodeFs from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../errors.js';
import { describeFsError, fsyncDir, hintFor, tempPathFor, type AtomicFs } from './atomic.js';

/** The fs calls the set writer uses; a test may pass a fault-injecting stand-in. */
export type AtomicSetFs = AtomicFs & Pick<typeof nodeFs, 'linkSync' | 'copyFileSync'>;

export interface FileToWrite {
  path: string;
  data: string | Uint8Array;
}

/** One file of the set on its way: its temporary file, and its backup when it had an earlier version. */
interface Staged {
  path: string;
  bytes: Uint8Array;
  tmp: string;
  mode: number;
  existed: boolean;
  backup: string | null;
  /** The temporary file exists (written or being written). */
  staged: boolean;
  renamed: boolean;
}

const quietly = (f: () => void): void => {
  try {
    f();
  } catch {
    // cleaning up after a failure: the first error is the one to report
  }
};

/** Writes one temporary file whole and fsyncs it. */
function stage(fs: AtomicSetFs, s: Staged): void {
  const fd = fs.openSync(s.tmp, 'wx', s.mode);
  s.staged = true;
  try {
    let off = 0;
    while (off < s.bytes.length) {
      const n = fs.writeSync(fd, s.bytes, off, s.bytes.length - off, off);
      if (!(n > 0)) throw Object.assign(new Error(`short write: ${off} of ${s.bytes.length} bytes`), { code: 'SHORT' });
      off += n;
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** The target's mode (kept for its new version) and whether it exists; a folder in its place is an error. */
function inspect(fs: AtomicSetFs, path: string): { mode: number; existed: boolean } {
  try {
    const st = fs.statSync(path);
    if (st.isDirectory()) throw Object.assign(new Error('is a folder'), { code: 'EISDIR' });
    return { mode: st.mode & 0o777, existed: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return { mode: 0o644, existed: false };
  }
}

/** File systems that cannot hard-link (some network and FAT mounts) say so with one of these. */
const NO_LINKS = ['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK', 'EXDEV'];

/** The earlier file's bytes kept under `backup`: a hard link where the file system has them, else a copy. */
function backUp(fs: AtomicSetFs, path: string, backup: string): void {
  try {
    fs.linkSync(path, backup);
  } catch (err) {
    if (!NO_LINKS.includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
    fs.copyFileSync(path, backup, nodeFs.constants.COPYFILE_EXCL);
  }
}

/** Puts every renamed file back as it was: its backup renamed over it, or removed when it is new. Returns the files it could not restore. */
function rollBack(fs: AtomicSetFs, set: Staged[]): string[] {
  const lost: string[] = [];
  for (const s of set) {
    try {
      if (s.renamed && s.backup !== null) fs.renameSync(s.backup, s.path);
      else if (s.renamed) fs.unlinkSync(s.path);
      else if (s.backup !== null) fs.unlinkSync(s.backup);
    } catch (err) {
      lost.push(`${s.path} (${describeFsError(err)}${s.backup !== null ? `; its earlier version is in ${s.backup}` : ''})`);
    }
    if (s.staged && !s.renamed) quietly(() => fs.unlinkSync(s.tmp));
  }
  return lost;
}

/**
 * Replaces every file of `files` with its new contents, all or nothing. Throws a one-line
 * UserError naming the file that failed and why, and saying that nothing changed (or, if even
 * the roll-back failed, which files could not be restored and where their backups are).
 * The folders must exist.
 */
export function writeFilesAtomic(files: FileToWrite[], fs: AtomicSetFs = nodeFs): void {
  const paths = files.map((f) => f.path);
  const twice = paths.find((p, i) => paths.indexOf(p) !== i);
  if (twice !== undefined) throw new Error(`writeFilesAtomic: ${twice} named twice in one set`);
  const set: Staged[] = files.map((f) => ({
    path: f.path,
    bytes: typeof f.data === 'string' ? Buffer.from(f.data, 'utf8') : f.data,
    tmp: tempPathFor(f.path),
    mode: 0o644,
    existed: false,
    backup: null,
    staged: false,
    renamed: false,
  }));
  const others = (s: Staged) => (set.length > 1 ? ` (with ${set.filter((x) => x !== s).map((x) => basename(x.path)).join(', ')})` : '');
  let current: Staged = set[0]!;
  let renaming = false;
  try {
    for (const s of set) {
      current = s;
      Object.assign(s, inspect(fs, s.path));
      stage(fs, s);
    }
    for (const s of set) {
      current = s;
      if (!s.existed) continue;
      const backup = join(dirname(s.path), `.${basename(s.path)}.${process.pid}.backup`);
      quietly(() => fs.unlinkSync(backup)); // a leftover of a killed earlier write of this process id
      backUp(fs, s.path, backup);
      s.backup = backup;
    }
    renaming = true;
    for (const s of set) {
      current = s;
      fs.renameSync(s.tmp, s.path);
      s.renamed = true;
    }
  } catch (err) {
    const lost = rollBack(fs, set);
    const what = `cannot write ${current.path}${renaming ? ' (while putting the set in place)' : ''}: ${describeFsError(err)}`;
    if (lost.length > 0) throw new UserError(`${what}; the files written with it were put back except ${lost.join(', ')}`);
    throw new UserError(`${what}; nothing was changed: the ${set.length === 1 ? 'previous file is' : `${set.length} files of the set are`} as they were${others(current)}${hintFor(err)}`);
  }
  for (const s of set) if (s.backup !== null) quietly(() => fs.unlinkSync(s.backup!));
  try {
    for (const dir of new Set(set.map((s) => dirname(s.path)))) fsyncDir(fs, dir);
  } catch (err) {
    throw new UserError(`cannot write ${paths.join(', ')}: ${describeFsError(err)}; the new files are in place but may not survive a crash`);
  }
}
