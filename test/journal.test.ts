import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.js';
import { Journal, readJournal } from '../src/exec/journal.js';
import { canonicalJson } from '../src/store/json.js';

interface Header {
  seed: number;
  config: { trials: number; ranges: number[] };
}
interface Rec {
  i: number;
  acc: number[];
}

const header: Header = { seed: 3, config: { trials: 5, ranges: [1e-6, 1e-2] } };

function tempPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'journal-')), 'search.journal.jsonl');
}

function lines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.length > 0);
}

describe('journal', () => {
  it('writes a header and one line per record, on disk as soon as append returns', () => {
    const path = tempPath();
    const j = Journal.create<Header, Rec>(path, header);
    j.append({ i: 0, acc: [0.1, 0.5] });
    // Read while still open: nothing is held in a buffer.
    expect(lines(path)).toHaveLength(2);
    j.append({ i: 1, acc: [0.2] });
    j.close();
    const back = readJournal<Header, Rec>(path);
    expect(back.header).toEqual(header);
    expect(back.records).toEqual([{ i: 0, acc: [0.1, 0.5] }, { i: 1, acc: [0.2] }]);
    expect(back.tornTail).toBe(false);
  });

  it('drops a torn last line on resume and appends after the last complete one', () => {
    const path = tempPath();
    const j = Journal.create<Header, Rec>(path, header);
    j.append({ i: 0, acc: [0.1] });
    j.append({ i: 1, acc: [0.2] });
    j.close();
    appendFileSync(path, '{"i":2,"acc":[0.3'); // the process died mid-write
    const back = readJournal<Header, Rec>(path);
    expect(back.records.map((r) => r.i)).toEqual([0, 1]);
    expect(back.tornTail).toBe(true);

    const r = Journal.resume<Header, Rec>(path, header);
    expect(r.tornTail).toBe(true);
    expect(r.records.map((x) => x.i)).toEqual([0, 1]);
    r.journal.append({ i: 2, acc: [0.3] });
    r.journal.close();
    expect(lines(path)).toHaveLength(4);
    expect(readJournal<Header, Rec>(path).records.map((x) => x.i)).toEqual([0, 1, 2]);
  });

  it('treats a complete but unparsable last line as torn too', () => {
    const path = tempPath();
    Journal.create<Header, Rec>(path, header).close();
    appendFileSync(path, '{"i":0,\n');
    const back = readJournal<Header, Rec>(path);
    expect(back.records).toEqual([]);
    expect(back.tornTail).toBe(true);
  });

  it('refuses a damaged line in the middle', () => {
    const path = tempPath();
    writeFileSync(path, `${JSON.stringify(header)}\n{"i":0}\nnot json\n{"i":2}\n`);
    expect(() => readJournal(path)).toThrow(/line 3 is not valid JSON/);
  });

  it('refuses a file without a complete header', () => {
    const path = tempPath();
    writeFileSync(path, '{"seed":');
    expect(() => readJournal(path)).toThrow(UserError);
  });

  it('refuses to resume a journal of another config or seed, naming what differs', () => {
    const path = tempPath();
    Journal.create<Header, Rec>(path, header).close();
    const other: Header = { seed: 3, config: { trials: 7, ranges: [1e-6, 1e-2] } };
    expect(() => Journal.resume<Header, Rec>(path, other)).toThrow(/config\.trials \(journal 5, now 7\)/);
    expect(() => Journal.resume<Header, Rec>(path, { ...header, seed: 4 })).toThrow(/seed/);
    // The same header with keys in another order is the same search.
    const reordered = { config: { ranges: [1e-6, 1e-2], trials: 5 }, seed: 3 };
    const r = Journal.resume<Header, Rec>(path, reordered);
    r.journal.close();
    expect(r.records).toEqual([]);
  });

  it('create replaces an existing journal', () => {
    const path = tempPath();
    const j = Journal.create<Header, Rec>(path, header);
    j.append({ i: 0, acc: [] });
    j.close();
    Journal.create<Header, Rec>(path, header).close();
    expect(lines(path)).toHaveLength(1);
  });

  it('canonicalJson ignores key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 2], c: null } })).toBe(canonicalJson({ a: { c: null, d: [1, 2] }, b: 1 }));
  });
});
