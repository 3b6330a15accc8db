/**
 * Writing a set of files all or nothing (src/store/atomic-set.ts): a fault while the new files
 * are written, and a fault while they are put in place, each leave every earlier file byte for
 * byte as it was, no temporary or backup file behind, and one line saying so.
 */
import * as fs from 'node:fs';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.js';
import { writeFilesAtomic, type AtomicSetFs } from '../src/store/atomic-set.js';

const scratch = mkdtempSync(join(tmpdir(), 'atomic-set-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A folder with a.txt and b.txt of old contents (c.txt is new in every set). */
function folder(): string {
  const d = mkdtempSync(join(scratch, 'set-'));
  writeFileSync(join(d, 'a.txt'), 'old a\n');
  writeFileSync(join(d, 'b.txt'), Buffer.from([0, 1, 2, 255]));
  return d;
}
const snapshot = (d: string) => Object.fromEntries(readdirSync(d).sort().map((f) => [f, readFileSync(join(d, f)).toString('hex')]));
const newSet = (d: string) => [
  { path: join(d, 'a.txt'), data: 'new a\n' },
  { path: join(d, 'b.txt'), data: Buffer.from('new b') },
  { path: join(d, 'c.txt'), data: 'new c\n' },
];
const thrown = (f: () => void): Error => {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a failure');
};

describe('writeFilesAtomic', () => {
  it('writes the whole set, keeping no temporary or backup file', () => {
    const d = folder();
    writeFilesAtomic(newSet(d));
    expect(readdirSync(d).sort()).toEqual(['a.txt', 'b.txt', 'c.txt']);
    expect(readFileSync(join(d, 'a.txt'), 'utf8')).toBe('new a\n');
    expect(readFileSync(join(d, 'b.txt'), 'utf8')).toBe('new b');
    expect(readFileSync(join(d, 'c.txt'), 'utf8')).toBe('new c\n');
  });

  it('a full disk while the second file is written: nothing changed, one line', () => {
    const d = folder();
    const before = snapshot(d);
    const shim: AtomicSetFs = {
      ...fs,
      openSync: ((path: fs.PathLike, ...rest: unknown[]) => {
        if (String(path).includes('.b.txt.')) throw Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' });
        return (fs.openSync as (...a: unknown[]) => number)(path, ...rest);
      }) as typeof fs.openSync,
    };
    const err = thrown(() => writeFilesAtomic(newSet(d), shim));
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toBe(`cannot write ${join(d, 'b.txt')}: disk full (ENOSPC); nothing was changed: the 3 files of the set are as they were (with a.txt, c.txt); free some space and run again`);
    expect(snapshot(d)).toEqual(before);
  });

  it('a rename that fails after the first succeeded: the first is put back byte for byte, the new file removed', () => {
    const d = folder();
    const before = snapshot(d);
    const shim: AtomicSetFs = {
      ...fs,
      renameSync: ((from: fs.PathLike, to: fs.PathLike) => {
        if (String(to).endsWith('c.txt')) throw Object.assign(new Error('EIO'), { code: 'EIO' });
        fs.renameSync(from, to);
      }) as typeof fs.renameSync,
    };
    const err = thrown(() => writeFilesAtomic(newSet(d), shim));
    expect(err.message).toBe(`cannot write ${join(d, 'c.txt')} (while putting the set in place): input/output error on the device (EIO); nothing was changed: the 3 files of the set are as they were (with a.txt, b.txt)`);
    expect(snapshot(d)).toEqual(before);
  });

  it('on a file system without hard links the backups are copies: a failed rename still puts everything back', () => {
    const d = folder();
    const before = snapshot(d);
    const noLinks = { linkSync: (() => { throw Object.assign(new Error('EPERM'), { code: 'EPERM' }); }) as typeof fs.linkSync };
    const shim: AtomicSetFs = {
      ...fs,
      ...noLinks,
      renameSync: ((from: fs.PathLike, to: fs.PathLike) => {
        if (String(to).endsWith('c.txt')) throw Object.assign(new Error('EIO'), { code: 'EIO' });
        fs.renameSync(from, to);
      }) as typeof fs.renameSync,
    };
    expect(() => writeFilesAtomic(newSet(d), shim)).toThrow(/nothing was changed/);
    expect(snapshot(d)).toEqual(before);
    writeFilesAtomic(newSet(d), { ...fs, ...noLinks });
    expect(readdirSync(d).sort()).toEqual(['a.txt', 'b.txt', 'c.txt']);
    expect(readFileSync(join(d, 'b.txt'), 'utf8')).toBe('new b');
  });

  it('a target that is a folder: nothing written, the folder left alone', () => {
    const d = folder();
    mkdirSync(join(d, 'c.txt'));
    const before = snapshot2(d);
    const err = thrown(() => writeFilesAtomic(newSet(d)));
    expect(err.message).toBe(`cannot write ${join(d, 'c.txt')}: it is a folder (EISDIR); nothing was changed: the 3 files of the set are as they were (with a.txt, b.txt); move the folder away or choose another --out`);
    expect(snapshot2(d)).toEqual(before);
  });

  it('when even putting back fails, the line says which file and where its earlier version is', () => {
    const d = folder();
    let failing = false;
    const shim: AtomicSetFs = {
      ...fs,
      renameSync: ((from: fs.PathLike, to: fs.PathLike) => {
        if (String(to).endsWith('c.txt')) {
          failing = true;
          throw Object.assign(new Error('EIO'), { code: 'EIO' });
        }
        if (failing) throw Object.assign(new Error('EIO'), { code: 'EIO' });
        fs.renameSync(from, to);
      }) as typeof fs.renameSync,
    };
    const err = thrown(() => writeFilesAtomic(newSet(d), shim));
    expect(err.message).toMatch(new RegExp(`^cannot write ${join(d, 'c.txt')} .*put back except ${join(d, 'a.txt')} \\(.*its earlier version is in ${join(d, '.a.txt.')}\\d+\\.backup\\)`));
    const backup = readdirSync(d).find((f) => f.startsWith('.a.txt.') && f.endsWith('.backup'))!;
    expect(readFileSync(join(d, backup), 'utf8')).toBe('old a\n');
  });
});

/** Names and, for files, contents (a folder as 'folder'). */
function snapshot2(d: string): Record<string, string> {
  return Object.fromEntries(readdirSync(d).sort().map((f) => [f, fs.statSync(join(d, f)).isDirectory() ? 'folder' : readFileSync(join(d, f)).toString('hex')]));
}

describe('a figure is one set', () => {
  it('its SVG path being a folder: the earlier PNG and spec stay byte for byte, one line', async () => {
    const { writeFigure } = await import('../src/plot/render.js');
    const d = mkdtempSync(join(scratch, 'fig-'));
    const figure = { name: 'f', caption: 'c', spec: { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', data: { values: [{ x: 1, y: 2 }] }, mark: 'point', encoding: { x: { field: 'x', type: 'quantitative' } } } } as never;
    writeFileSync(join(d, 'f.png'), 'earlier png');
    writeFileSync(join(d, 'f.vl.json'), 'earlier spec');
    mkdirSync(join(d, 'f.svg'));
    await expect(writeFigure(d, figure, { csv: true })).rejects.toThrow(`cannot write ${join(d, 'f.svg')}: it is a folder (EISDIR); nothing was changed: the 4 files of the set are as they were (with f.png, f.vl.json, f.csv)`);
    expect(snapshot2(d)).toEqual({ 'f.png': Buffer.from('earlier png').toString('hex'), 'f.svg': 'folder', 'f.vl.json': Buffer.from('earlier spec').toString('hex') });
  });
});
