/**
 * A JSON-lines journal for long searches: the first line is a header (what is being run:
 * config and seed), then one line per finished unit of work (a trial). Every line is
 * written with one write() and fsync'd before append() returns, so a killed process loses
 * at most the unit in progress.
 *
 * Reading tolerates a torn last line (the process died in the middle of a write): it is
 * dropped, and the file is cut back to the last complete line before anything is appended.
 * A bad line anywhere else means the file was damaged or edited; that is refused.
 */
import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { UserError } from '../errors.js';
import { describeFsError, writeFileAtomic } from '../store/atomic.js';
import { canonicalJson } from '../store/json.js';

export interface JournalContents<H, R> {
  header: H;
  records: R[];
  /** Bytes of the file up to the end of the last complete line. */
  goodBytes: number;
  /** True when an incomplete last line was found (and will be dropped). */
  tornTail: boolean;
}

/** A zod schema (anything with safeParse) or a function returning an error message or null. */
export type LineCheck<T> =
  | { safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } } }
  | ((value: unknown) => string | null);

export interface JournalValidation<H, R> {
  /** Checks the first line. */
  header?: LineCheck<H>;
  /** Checks every later line. */
  record?: LineCheck<R>;
  /** What the user can do about a damaged journal (default: delete it or start over without --resume). */
  startOver?: string;
}

const DEFAULT_START_OVER = 'delete it or run without --resume to start over';

function describeKind(value: unknown): string | null {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value !== 'object') return `a ${typeof value}`;
  return null;
}

/** Runs one check; the problem in words, or null when the value passes. */
function runCheck<T>(check: LineCheck<T> | LineCheck<unknown>, value: unknown): string | null {
  if (typeof check === 'function') return check(value);
  const r = check.safeParse(value);
  if (r.success) return null;
  const issue = r.error.issues[0];
  if (!issue) return 'invalid';
  return `${issue.path.map(String).join('.') || '(top)'}: ${issue.message}`;
}

/** Reads the whole file; a folder or an unreadable file is one line naming the journal. */
function readJournalBytes(path: string): Buffer {
  try {
    if (statSync(path).isDirectory()) throw new UserError(`journal ${path} is a folder, not a file; move it away or choose another --out`);
    return readFileSync(path);
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`journal ${path} cannot be read: ${describeFsError(err)}`);
  }
}

/**
 * Reads a journal. A line counts as complete when it ends with a newline and parses as JSON;
 * only the last line may fail that test. Every complete line must be a JSON object and pass
 * `validation` (header for the first line, record for the others): a line that does not
 * (null, wrong types, a number where a record belongs) is refused with one line naming the
 * journal, the line number and what to do. Reading never changes the file.
 */
export function readJournal<H, R>(path: string, validation: JournalValidation<H, R> = {}): JournalContents<H, R> {
  const buf = readJournalBytes(path);
  const startOver = validation.startOver ?? DEFAULT_START_OVER;
  const records: R[] = [];
  let header: H | undefined;
  let pos = 0;
  let lineNo = 0;
  let tornTail = false;
  while (pos < buf.length) {
    const nl = buf.indexOf(0x0a, pos);
    const end = nl === -1 ? buf.length : nl;
    lineNo++;
    let value: unknown;
    let ok = nl !== -1;
    if (ok) {
      try {
        value = JSON.parse(buf.subarray(pos, end).toString('utf8'));
      } catch {
        ok = false;
      }
    }
    if (!ok) {
      // Only the very last line may be torn.
      if (nl !== -1 && nl + 1 < buf.length) throw new UserError(`journal ${path}: line ${lineNo} is not valid JSON (the file is damaged; ${startOver})`);
      tornTail = true;
      break;
    }
    const isHeader = header === undefined;
    const what = isHeader ? 'header' : 'record';
    const kind = describeKind(value);
    const problem = kind !== null ? `is ${kind}, not a JSON object` : runCheck<unknown>((isHeader ? validation.header : validation.record) ?? (() => null), value);
    if (problem !== null) {
      throw new UserError(`journal ${path}: line ${lineNo} (${what}) ${kind !== null ? problem : `is invalid: ${problem}`} (the file is damaged; ${startOver})`);
    }
    if (isHeader) header = value as H;
    else records.push(value as R);
    pos = end + 1;
  }
  if (header === undefined) throw new UserError(`journal ${path}: no complete header line (${startOver})`);
  return { header, records, goodBytes: pos, tornTail };
}

/** Top-level keys whose values differ between two headers (for the refusal message). */
function differingKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  const out: string[] = [];
  for (const k of keys) {
    const av = a[k];
    const bv = b[k];
    if (canonicalJson(av) === canonicalJson(bv)) continue;
    if (av !== null && bv !== null && typeof av === 'object' && typeof bv === 'object' && !Array.isArray(av) && !Array.isArray(bv)) {
      out.push(...differingKeys(av as Record<string, unknown>, bv as Record<string, unknown>).map((d) => `${k}.${d}`));
    } else {
      out.push(`${k} (journal ${canonicalJson(av)}, now ${canonicalJson(bv)})`);
    }
  }
  return out;
}

export class Journal<R> {
  private fd: number | null;
  /** Byte offset of the end of the file: every line is written there explicitly. */
  private position: number;

  private constructor(readonly path: string, fd: number, position: number) {
    this.fd = fd;
    this.position = position;
  }

  /**
   * Starts a new journal at `path` (replacing any file there) with `header` as its first line.
   * The header goes through the suite's atomic store: if it cannot be written whole (a full
   * disk), the previous journal is left exactly as it was.
   */
  static create<H, R>(path: string, header: H): Journal<R> {
    const line = JSON.stringify(header) + '\n';
    if (line.indexOf('\n') !== line.length - 1) throw new Error('journal lines must not contain newlines');
    if (existsSync(path) && statSync(path).isDirectory()) throw new UserError(`journal ${path} is a folder, not a file; move it away or choose another --out`);
    writeFileAtomic(path, line);
    let fd: number;
    try {
      fd = openSync(path, 'r+');
    } catch (err) {
      throw new UserError(`journal ${path} cannot be opened: ${describeFsError(err)}`);
    }
    return new Journal<R>(path, fd, Buffer.byteLength(line));
  }

  /**
   * Reopens an existing journal to append to it. Its header must equal `header` (same config
   * and seed), else a UserError says which fields differ. A torn last line is cut off.
   */
  static resume<H extends object, R>(path: string, header: H, validation: JournalValidation<H, R> = {}): { journal: Journal<R>; records: R[]; tornTail: boolean } {
    const contents = readJournal<H, R>(path, validation);
    if (canonicalJson(contents.header) !== canonicalJson(header)) {
      const diff = differingKeys(contents.header as Record<string, unknown>, header as Record<string, unknown>);
      throw new UserError(
        `journal ${path} belongs to a different run (${diff.join('; ') || 'header differs'}); ${validation.startOver ?? DEFAULT_START_OVER}, or run with the same settings`,
      );
    }
    const fd = openSync(path, 'r+');
    // Drop a torn tail so the next line starts on a fresh line.
    ftruncateSync(fd, contents.goodBytes);
    fsyncSync(fd);
    const journal = new Journal<R>(path, fd, contents.goodBytes);
    return { journal, records: contents.records, tornTail: contents.tornTail };
  }

  static exists(path: string): boolean {
    return existsSync(path);
  }

  private writeLine(value: unknown): void {
    if (this.fd === null) throw new Error(`journal ${this.path} is closed`);
    const line = JSON.stringify(value) + '\n';
    if (line.indexOf('\n') !== line.length - 1) throw new Error('journal lines must not contain newlines');
    const bytes = Buffer.from(line, 'utf8');
    try {
      let off = 0;
      while (off < bytes.length) {
        const n = writeSync(this.fd, bytes, off, bytes.length - off, this.position + off);
        if (!(n > 0)) throw Object.assign(new Error(`short write: ${off} of ${bytes.length} bytes`), { code: 'SHORT' });
        off += n;
      }
      fsyncSync(this.fd);
    } catch (err) {
      // A partly written line is a torn tail: dropped when the journal is resumed.
      throw new UserError(`journal ${this.path}: cannot append: ${describeFsError(err)}; the lines before are kept (fix that, then run with --resume)`);
    }
    this.position += bytes.length;
  }

  /** Appends one record and flushes it to disk before returning. */
  append(record: R): void {
    this.writeLine(record);
  }

  close(): void {
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
  }
}
