/**
 * The store under faults. On a REAL full file system (a small tmpfs mounted for the test) when
 * this machine permits mounting; otherwise through a fault-injecting fs shim (test/helpers/
 * enospc-preload.mjs), so the full-disk cases run either way and never pass silently.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { closeSync, existsSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.js';
import { trialWrite, writeFileAtomic, type AtomicFs } from '../src/store/atomic.js';
import { Journal, readJournal } from '../src/exec/journal.js';
import { runCli } from './helpers/cli.js';

const scratch = mkdtempSync(join(tmpdir(), 'atomic-test-'));
const mnt = join(scratch, 'mnt');
mkdirSync(mnt);
let mounted = false;
const preload = join(import.meta.dirname, 'helpers', 'enospc-preload.mjs');

beforeAll(() => {
  // ATOMIC_TEST_NO_MOUNT=1 runs the shim path on a machine that could mount (to check it).
  if (process.env.ATOMIC_TEST_NO_MOUNT === '1') return;
  try {
    // 4 MiB: room for a quick result and its figures, report and page (which inlines ~0.8 MB of vega).
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt], { stdio: 'pipe' });
    mounted = true;
  } catch (err) {
    process.stderr.write(`atomic.test: cannot mount a tmpfs (${String((err as Error).message).split('\n')[0]}): full-disk cases use the fault-injecting fs shim instead\n`);
  }
});
afterAll(() => {
  if (mounted) execFileSync('umount', [mnt]);
  rmSync(scratch, { recursive: true, force: true });
});

/** Fills the tmpfs, then frees `leave` bytes: the next larger write hits ENOSPC. */
function fillLeaving(dir: string, leave: number): void {
  const filler = join(dir, 'filler');
  const fd = openSync(filler, 'w');
  const chunk = Buffer.alloc(4096);
  let size = 0;
  try {
    for (;;) size += writeSync(fd, chunk);
  } catch (err) {
    expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
  }
  ftruncateSync(fd, Math.max(0, size - leave));
  closeSync(fd);
}

const others = (dir: string, keep: string[]) => readdirSync(dir).filter((f) => !keep.includes(f) && f !== 'filler');

describe('writeFileAtomic', () => {
  it('writes new files and replaces old ones whole, leaving no temporary file', () => {
    const d = mkdtempSync(join(scratch, 'plain-'));
    const p = join(d, 'a.json');
    writeFileAtomic(p, 'one\n');
    writeFileAtomic(p, Buffer.from('two\n'));
    expect(readFileSync(p, 'utf8')).toBe('two\n');
    expect(readdirSync(d)).toEqual(['a.json']);
  });

  it('loops over short writes (a file system that takes a few bytes at a time)', () => {
    const d = mkdtempSync(join(scratch, 'short-'));
    const p = join(d, 'a.txt');
    const shim: AtomicFs = { ...fs, writeSync: ((fd: number, b: Uint8Array, off: number, len: number, pos: number) => fs.writeSync(fd, b, off, Math.min(len, 3), pos)) as typeof fs.writeSync };
    writeFileAtomic(p, 'hello, world\n', shim);
    expect(readFileSync(p, 'utf8')).toBe('hello, world\n');
  });

  it('a write that makes no progress is an error, not a cut-off file (shim)', () => {
    const d = mkdtempSync(join(scratch, 'zero-'));
    const p = join(d, 'a.txt');
    writeFileSync(p, 'old');
    let calls = 0;
    const shim: AtomicFs = { ...fs, writeSync: ((fd: number, b: Uint8Array, off: number, _len: number, pos: number) => (calls++ === 0 ? fs.writeSync(fd, b, off, 2, pos) : 0)) as typeof fs.writeSync };
    expect(() => writeFileAtomic(p, 'new contents', shim)).toThrow(
      `cannot write ${p}: the file system accepted no more bytes (short write) (SHORT); the previous file is unchanged`,
    );
    expect(readFileSync(p, 'utf8')).toBe('old');
    expect(readdirSync(d)).toEqual(['a.txt']);
  });

  it('ENOSPC mid-file from the fs shim: old file intact, temp removed, one line', () => {
    const d = mkdtempSync(join(scratch, 'enospc-'));
    const p = join(d, 'r.json');
    writeFileSync(p, 'good old result\n');
    let written = 0;
    const shim: AtomicFs = {
      ...fs,
      writeSync: ((fd: number, b: Uint8Array, off: number, len: number, pos: number) => {
        if (written >= 8192) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        const n = fs.writeSync(fd, b, off, Math.min(len, 8192 - written), pos);
        written += n;
        return n;
      }) as typeof fs.writeSync,
    };
    const err = (() => {
      try {
        writeFileAtomic(p, 'x'.repeat(20000), shim);
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe(`cannot write ${p}: disk full (ENOSPC); the previous file is unchanged; free some space and run again`);
    expect(readFileSync(p, 'utf8')).toBe('good old result\n');
    expect(readdirSync(d)).toEqual(['r.json']);
  });

  it('a target that is a folder, and a folder that does not exist, are one line each', () => {
    const d = mkdtempSync(join(scratch, 'dir-'));
    mkdirSync(join(d, 'x.json'));
    expect(() => writeFileAtomic(join(d, 'x.json'), '{}')).toThrow(`cannot write ${join(d, 'x.json')}: it is a folder (EISDIR); the previous file is unchanged; move the folder away or choose another --out`);
    expect(readdirSync(d)).toEqual(['x.json']);
    expect(() => writeFileAtomic(join(d, 'no', 'x.json'), '{}')).toThrow(`cannot write ${join(d, 'no', 'x.json')}: its folder does not exist (ENOENT)`);
  });

  it('a real full disk (tmpfs): old file intact byte for byte, no temporary file, "disk full"', () => {
    if (!mounted) {
      process.stderr.write('atomic.test: real full-disk case skipped: mount not permitted (the shim cases above cover ENOSPC)\n');
      return;
    }
    const d = join(mnt, 'unit');
    mkdirSync(d);
    const p = join(d, 'r.json');
    const old = Buffer.from(JSON.stringify({ good: 'old result', pad: 'y'.repeat(3000) }));
    writeFileAtomic(p, old);
    fillLeaving(mnt, 8192);
    expect(() => writeFileAtomic(p, 'z'.repeat(64 * 1024))).toThrow(`cannot write ${p}: disk full (ENOSPC); the previous file is unchanged; free some space and run again`);
    expect(readFileSync(p).equals(old)).toBe(true);
    expect(readdirSync(d)).toEqual(['r.json']);
    // The trial write of a folder on a disk with no room at all fails up front.
    fillLeaving(mnt, 0);
    expect(() => trialWrite(d, `--out ${d}`)).toThrow(`--out ${d} is not writable: disk full (ENOSPC); free some space and run again`);
    expect(readdirSync(d)).toEqual(['r.json']);
    rmSync(join(mnt, 'filler'));
    rmSync(d, { recursive: true });
  });
});

describe('a journal on a full disk (tmpfs)', () => {
  it('a record that does not fit: one line, the earlier lines kept; a new header that does not fit leaves the old journal', () => {
    if (!mounted) {
      process.stderr.write('atomic.test: journal full-disk case skipped: mount not permitted\n');
      return;
    }
    const d = join(mnt, 'journal');
    mkdirSync(d);
    const p = join(d, 's.journal.jsonl');
    const j = Journal.create<{ seed: number }, { i: number; pad: string }>(p, { seed: 1 });
    j.append({ i: 0, pad: '' });
    fillLeaving(mnt, 4096);
    expect(() => j.append({ i: 1, pad: 'p'.repeat(64 * 1024) })).toThrow(
      `journal ${p}: cannot append: disk full (ENOSPC); the lines before are kept (fix that, then run with --resume)`,
    );
    j.close();
    const back = readJournal<{ seed: number }, { i: number }>(p);
    expect(back.records.map((r) => r.i)).toEqual([0]);
    const kept = readFileSync(p);
    // Starting over with a header too large for the room left: the old journal stays.
    expect(() => Journal.create(p, { seed: 2, pad: 'h'.repeat(64 * 1024) })).toThrow(`cannot write ${p}: disk full (ENOSPC); the previous file is unchanged; free some space and run again`);
    expect(readFileSync(p).equals(kept)).toBe(true);
    expect(readdirSync(d)).toEqual(['s.journal.jsonl']);
    rmSync(join(mnt, 'filler'));
    rmSync(d, { recursive: true });
  });
});

describe('the CLI on a full disk', () => {
  /** The env and folder for one case: the tmpfs when mounted, else a plain folder plus the shim. */
  function place(name: string, fault: string, room: number): { dir: string; faultEnv: Record<string, string> } {
    const dir = mounted ? join(mnt, name) : join(scratch, name);
    mkdirSync(dir, { recursive: true });
    const faultEnv: Record<string, string> = mounted ? {} : { NODE_OPTIONS: `--import ${preload}`, FAULT_ENOSPC: fault, FAULT_ENOSPC_AFTER: String(room) };
    return { dir, faultEnv };
  }

  it('experiment: a disk that fills mid-run: exits non-zero, the previous result intact, no temporary file', async () => {
    const { dir, faultEnv } = place('exp', 'optimizer-paths.quick.json', 8192);
    const args = ['optimizer-paths', '--profile', 'quick', '--out', dir, '--quiet', '--backend', 'wasm'];
    const first = await runCli('experiment.ts', args);
    expect(first.code).toBe(0);
    const file = join(dir, 'optimizer-paths.quick.json');
    // A previous good result that differs from what the new run would write (one more newline).
    const old = Buffer.from(readFileSync(file, 'utf8') + '\n');
    writeFileSync(file, old);
    if (mounted) fillLeaving(mnt, 8192);
    const r = await runCli('experiment.ts', args, faultEnv);
    if (mounted) rmSync(join(mnt, 'filler'));
    expect(r.code).toBe(2);
    expect(r.stdout).not.toContain('wrote');
    expect(r.stderr).toBe(`error: cannot write ${file}: disk full (ENOSPC); the previous file is unchanged; free some space and run again\n`);
    expect(readFileSync(file).equals(old)).toBe(true);
    expect(others(dir, ['optimizer-paths.quick.json'])).toEqual([]);
  });

  it('experiment on a disk with no room at all: refused by the trial write before any work', async () => {
    const { dir, faultEnv } = place('none', '.write-test', 0);
    if (mounted) fillLeaving(mnt, 0);
    const r = await runCli('experiment.ts', ['optimizer-paths', '--profile', 'quick', '--out', dir, '--quiet'], faultEnv);
    if (mounted) rmSync(join(mnt, 'filler'));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe(''); // not even a backend chosen
    expect(r.stderr).toBe(`error: --out ${dir} is not writable: disk full (ENOSPC); free some space and run again\n`);
    expect(others(dir, [])).toEqual([]);
  });

  it('figures: REPORT.md on a full disk is left as it was, exit non-zero, one line', async () => {
    const { dir, faultEnv } = place('fig', 'REPORT', 4096);
    expect((await runCli('experiment.ts', ['optimizer-paths', '--profile', 'quick', '--out', dir, '--quiet', '--backend', 'wasm'])).code).toBe(0);
    expect((await runCli('figures.ts', ['--out', dir, '--profile', 'quick'])).code).toBe(0);
    const report = join(dir, 'REPORT.quick.md');
    // The report of an earlier run: larger than the room left, and not what this run would write.
    const old = Buffer.from(readFileSync(report, 'utf8') + '\n<!-- earlier report -->\n');
    expect(old.length).toBeGreaterThan(4096);
    writeFileSync(report, old);
    const before = readdirSync(dir).sort();
    const page = readFileSync(join(dir, 'index.quick.html'));
    if (mounted) fillLeaving(mnt, 4096);
    // Name a study without a result here: nothing is drawn, only the report is rewritten.
    const r = await runCli('figures.ts', ['batchnorm', '--out', dir, '--profile', 'quick'], faultEnv);
    if (mounted) rmSync(join(mnt, 'filler'));
    expect(r.code).toBe(2);
    // The report and its page are one set: the line says neither changed.
    expect(r.stderr).toBe(`error: cannot write ${report}: disk full (ENOSPC); nothing was changed: the 2 files of the set are as they were (with index.quick.html); free some space and run again\n`);
    expect(readFileSync(join(dir, 'index.quick.html')).equals(page)).toBe(true);
    expect(readFileSync(report).equals(old)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(statSync(join(dir, 'figures', 'quick')).isDirectory()).toBe(true);
    expect(existsSync(join(dir, 'optimizer-paths.quick.json'))).toBe(true);
  });
});
