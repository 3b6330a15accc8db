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
import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { UserError } from '../errors.js';

export interface JournalContents<H, R> {
  header: H;
  records: R[];
  /** Bytes of the file up to the end of the last complete line. */
  goodBytes: number;
  /** True when an incomplete last line was found (and will be dropped). */
  tornTail: boolean;
}

/**
 * Reads a journal. A line counts as complete when it ends with a newline and parses as JSON;
 * only the last line may fail that test.
 */
export function readJournal<H, R>(path: string): JournalContents<H, R> {
  const buf = readFileSync(path);
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
      if (nl !== -1 && nl + 1 < buf.length) throw new UserError(`journal ${path}: line ${lineNo} is not valid JSON (the file is damaged; delete it or run without --resume)`);
      tornTail = true;
      break;
    }
    if (header === undefined) header = value as H;
    else records.push(value as R);
    pos = end + 1;
  }
  if (header === undefined) throw new UserError(`journal ${path}: no complete header line (delete it or run without --resume)`);
  return { header, records, goodBytes: pos, tornTail };
}

/** Stable JSON of a value (object keys sorted), for comparing headers written at different times. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, (v as Record<string, unknown>)[k]]));
    }
    return v;
  });
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
   */
  static create<H, R>(path: string, header: H): Journal<R> {
    const fd = openSync(path, 'w');
    const j = new Journal<R>(path, fd, 0);
    j.writeLine(header);
    return j;
  }

  /**
   * Reopens an existing journal to append to it. Its header must equal `header` (same config
   * and seed), else a UserError says which fields differ. A torn last line is cut off.
   */
  static resume<H extends object, R>(path: string, header: H): { journal: Journal<R>; records: R[]; tornTail: boolean } {
    const contents = readJournal<H, R>(path);
    if (canonicalJson(contents.header) !== canonicalJson(header)) {
      const diff = differingKeys(contents.header as Record<string, unknown>, header as Record<string, unknown>);
      throw new UserError(
        `journal ${path} belongs to a different search (${diff.join('; ') || 'header differs'}); run without --resume to start over, or with the same settings`,
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
    let off = 0;
    while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off, this.position + off);
    this.position += bytes.length;
    fsyncSync(this.fd);
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
