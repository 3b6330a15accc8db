/**
 * Writing and reading result files. A write goes through the suite's one store
 * (src/store/atomic.ts): every byte to a temporary file in the same folder, fsync, rename over
 * the target, fsync of the folder. An interrupted run or a full disk never leaves a truncated
 * JSON and never destroys the previous good result.
 */
import { accessSync, constants, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { trialWrite, writeFileAtomic } from '../store/atomic.js';
import { writeFilesAtomic, type FileToWrite } from '../store/atomic-set.js';
import { jsonDepth, MAX_FILE_DEPTH } from '../store/json.js';
import { ResultSchema, SCHEMA_VERSION, type Profile, type StudyResult } from './schema.js';

/**
 * Where a result goes, relative to the results folder: <study>.json for the lecture profile,
 * <study>.<profile>.json for another, and runs/<study>.<name>.json for a named run (a config
 * changed from its profile's), so a "what if" never overwrites a profile's result.
 */
export function resultFileName(study: string, profile: Profile, name: string | null = null): string {
  if (name !== null) return join(RUNS_DIR, `${study}.${name}.json`);
  return profile === 'lecture' ? `${study}.json` : `${study}.${profile}.json`;
}

/** The subfolder of the results folder that holds named runs. */
export const RUNS_DIR = 'runs';

/**
 * Makes sure `dir` exists, is a folder and can be written (by a real trial write: a folder on a
 * full disk or a read-only mount passes access() but not this); a clear error otherwise.
 * Missing folders are made one level at a time: Node's `mkdirSync(..., { recursive: true })`
 * spins forever on some paths (seen with /proc/nope), and a hung command is worse than an error.
 */
export function ensureWritableDir(dir: string): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UserError(`--out ${dir} is a file, not a folder`);
  try {
    const missing: string[] = [];
    for (let d = resolve(dir); !existsSync(d); d = dirname(d)) missing.unshift(d);
    for (const d of missing) mkdirSync(d);
    accessSync(dir, constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new UserError(`--out ${dir} is not writable (${code})`);
  }
  trialWrite(dir, `--out ${dir}`);
}

/** JSON has no NaN/Infinity: they are written as null, and the series say so where it matters. */
function replacer(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}

/** A result as the file it is written to (validated; its folder made and trial-written). */
export function resultFile(dir: string, result: StudyResult): FileToWrite {
  const path = join(dir, resultFileName(result.study, result.profile, result.name));
  ensureWritableDir(dirname(path));
  const checked = ResultSchema.safeParse(result);
  if (!checked.success) throw new Error(`refusing to write an invalid result for ${result.study}: ${checked.error.issues[0]?.message}`);
  return { path, data: JSON.stringify(result, replacer, 1) + '\n' };
}

export function writeResult(dir: string, result: StudyResult): string {
  const { path, data } = resultFile(dir, result);
  writeFileAtomic(path, data);
  return path;
}

/** Several results as one set: every file replaced, or (on any failure) every file as it was. Returns their paths. */
export function writeResults(dir: string, results: StudyResult[]): string[] {
  const files = results.map((r) => resultFile(dir, r));
  writeFilesAtomic(files);
  return files.map((f) => f.path);
}

/** Reads and validates a result file; every problem is a UserError naming the file. */
export function readResult(path: string): StudyResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  // A byte-order mark some editors write in front of JSON is read past.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (jsonDepth(text, MAX_FILE_DEPTH) > MAX_FILE_DEPTH) throw new UserError(`${path}: nested more than ${MAX_FILE_DEPTH} levels deep, deeper than any result of this suite (not a result file of this suite)`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UserError(`${path}: not valid JSON`);
  }
  if (typeof json !== 'object' || json === null || !('schemaVersion' in json)) {
    throw new UserError(`${path}: not a result file of this suite (no schemaVersion)`);
  }
  const version = (json as { schemaVersion: unknown }).schemaVersion;
  if (version !== SCHEMA_VERSION) {
    const named = (json as { study?: unknown }).study;
    const study = typeof named === 'string' ? named : '<study>';
    const what = typeof version === 'number' && version < SCHEMA_VERSION ? 'written by an older version of the suite' : 'not a version this suite reads';
    throw new UserError(`${path}: schema version ${String(version)} (${what}; this suite reads version ${SCHEMA_VERSION}): run it again with npm run experiment -- ${study}`);
  }
  const parsed = ResultSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UserError(`${path}: invalid result: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  return parsed.data;
}
