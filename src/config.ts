/**
 * Study configs: the schema pieces studies declare their configs with (each config's type is
 * inferred from its schema, so it is written once), and "what if" changes to a profile's
 * config: `--config file.json` (a partial config merged over the profile) and `--set
 * path=value` (dotted paths into nested fields), validated against the study's schema.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { UserError } from './errors.js';
import { ACTIVATIONS } from './nn/activation.js';
import { OPTIMIZER_NAMES } from './optim/optimizers.js';
import { canonicalJson, jsonDepth } from './store/json.js';

export { jsonDepth };

// ---------------------------------------------------------------------------------------
// Schema pieces

/** A whole number in [min, max]. */
export const count = (min = 1, max = 1_000_000) => z.number().int().min(min).max(max);
/** A learning rate, decay or scale: a finite number > 0. */
export const positive = z.number().positive().finite();
/** A share or probability in [0, 1) (dropout ratio, validation share). */
export const share = z.number().min(0).lt(1);
/** Widths of the hidden layers, input to output. */
export const hiddenLayers = z.array(count(1, 4096)).min(1).max(20);
/** How many of the 60,000 MNIST training images (or 10,000 test images) a study uses. */
export const trainImages = count(1, 60_000);
export const testImages = count(1, 10_000);
export const optimizerName = z.enum(OPTIMIZER_NAMES);
/** A learning rate per update rule; the rules listed are the ones that run. */
export const ratePerOptimizer = z.partialRecord(optimizerName, positive);
export const activationName = z.enum(ACTIVATIONS);
/** 'xavier', 'he', or a plain standard deviation { std }. */
export const initScheme = z.union([z.enum(['xavier', 'he']), z.strictObject({ std: positive })]);
/** Networks named by their activation, each with its init: [{ activation: 'relu', init: 'he' }, ...]. */
export const netsByActivation = z
  .array(z.strictObject({ activation: activationName, init: initScheme }))
  .min(1)
  .refine((nets) => new Set(nets.map((n) => n.activation)).size === nets.length, 'each activation at most once (nets are named by it)');
/**
 * The fields of the iteration setting (nets trained for a number of iterations on the same batches, the
 * final loss the mean over the last `tail` iterations); check `tail` with tailWithinIterations.
 */
export const iterationSetting = { trainSize: trainImages, hidden: hiddenLayers, batchSize: count(1, 60_000), iterations: count(1), tail: count(1) };
export const tailWithinIterations: [(c: { tail: number; iterations: number }) => boolean, { message: string; path: string[] }] = [
  (c) => c.tail <= c.iterations,
  { message: 'tail must not exceed iterations', path: ['tail'] },
];
/** [lo, hi] with 0 < lo <= hi. */
export const range = z.tuple([positive, positive]).refine(([lo, hi]) => lo <= hi, 'must be [lo, hi] with lo <= hi');

// ---------------------------------------------------------------------------------------
// What if: changes to a profile's config

export interface ConfigChanges {
  /** A JSON file holding a partial config. */
  file?: string;
  /** `path=value` strings, applied in order after the file. */
  sets: string[];
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Names that reach an object's prototype when used as a key (`obj['__proto__'] = v` replaces
 * it; `constructor.prototype` leads to every object's). No setting has these names, so a
 * path or a config file holding one is refused by name rather than merged.
 */
export const FORBIDDEN_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype'];

/** The largest config file read: a study's config is a few hundred bytes. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** The deepest nesting of arrays and objects a config may have; a study's config is 3 or 4 deep. */
export const MAX_CONFIG_DEPTH = 32;

/** The first forbidden key anywhere in a parsed JSON value, as a dotted path; null when there is none. Iterative. */
export function forbiddenKeyIn(value: unknown): string | null {
  const stack: { node: unknown; path: string }[] = [{ node: value, path: '' }];
  while (stack.length > 0) {
    const { node, path } = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    for (const key of Object.keys(node)) {
      const at = path ? `${path}.${key}` : key;
      if (FORBIDDEN_KEYS.includes(key)) return at;
      stack.push({ node: (node as Record<string, unknown>)[key], path: at });
    }
  }
  return null;
}

/** JSON text parsed with its nesting bounded first and forbidden keys refused after; `where` starts every error line. */
function parseBoundedJson(text: string, where: string): unknown {
  if (jsonDepth(text, MAX_CONFIG_DEPTH) > MAX_CONFIG_DEPTH) throw new UserError(`${where}: nested more than ${MAX_CONFIG_DEPTH} levels deep; a config is a few levels of settings`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${where}: not valid JSON (${(err as Error).message.split('\n')[0]})`);
  }
  const bad = forbiddenKeyIn(value);
  if (bad !== null) throw new UserError(`${where}: '${bad}' names an object's prototype (${FORBIDDEN_KEYS.join(', ')} are never settings)`);
  return value;
}

/** `--set` values: JSON where it parses (numbers, true/false, [1, 2], {"std": 1}), else the text itself. */
export function parseValue(text: string, where = '--set'): Json {
  if (jsonDepth(text, MAX_CONFIG_DEPTH) > MAX_CONFIG_DEPTH) throw new UserError(`${where}: the value is nested more than ${MAX_CONFIG_DEPTH} levels deep`);
  let value: Json;
  try {
    value = JSON.parse(text) as Json;
  } catch {
    return text;
  }
  const bad = forbiddenKeyIn(value);
  if (bad !== null) throw new UserError(`${where}: the value's key '${bad}' names an object's prototype (${FORBIDDEN_KEYS.join(', ')} are never settings)`);
  return value;
}

/** Objects merged key by key; anything else (numbers, arrays) replaced. Keys were checked (forbiddenKeyIn) before. */
function mergeOver(base: unknown, over: unknown): unknown {
  if (!isObject(base) || !isObject(over)) return structuredClone(over);
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = Object.hasOwn(base, k) ? mergeOver(base[k], v) : structuredClone(v);
  return out;
}

/** Sets `path` (dotted) in a copy of `config`; a path through a non-object is an error. */
function setPath(config: unknown, path: string[], value: Json, where: string): unknown {
  const root = structuredClone(config) as Record<string, unknown>;
  let node: Record<string, unknown> = root;
  for (let i = 0; i < path.length - 1; i++) {
    // Own fields only: `toString`, `hasOwnProperty` and the like are not settings.
    const next = Object.hasOwn(node, path[i]!) ? node[path[i]!] : undefined;
    if (!isObject(next)) {
      const known = isObject(node) ? Object.keys(node).join(', ') : '';
      throw new UserError(`${where}: '${path.slice(0, i + 1).join('.')}' ${next === undefined ? `is not a setting (known here: ${known})` : 'has no fields to set'}`);
    }
    node = next;
  }
  node[path[path.length - 1]!] = value;
  return root;
}

function describeIssue(issue: z.core.$ZodIssue, config: unknown): string {
  const at = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    let node: unknown = config;
    for (const k of issue.path) node = isObject(node) ? node[String(k)] : undefined;
    const known = isObject(node) ? Object.keys(node).filter((k) => !issue.keys.includes(k)) : [];
    const names = issue.keys.map((k) => (at ? `${at}.${k}` : k)).join(', ');
    return `${names} is not a setting${known.length ? ` (known${at ? ` in ${at}` : ''}: ${known.join(', ')})` : ''}`;
  }
  return `${at || 'config'}: ${issue.message.replace(/^Invalid input: /, '')}`;
}

/** Checks a config against its schema; one line naming the path, the value and what is allowed. */
export function validateConfig<C>(schema: z.ZodType<C>, config: unknown, where: string): C {
  const parsed = schema.safeParse(config);
  if (parsed.success) return parsed.data;
  throw new UserError(`${where}: ${describeIssue(parsed.error.issues[0]!, config)}`);
}

/**
 * The one --config file of a command. yargs hands over an array when the flag is given more
 * than once: one file is read, never a merge of several in an order the user may not expect.
 */
export function oneConfigFile(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) {
    throw new UserError(`--config given ${value.length} times (${value.map((v) => `'${String(v)}'`).join(', ')}): only one --config is allowed; put the settings in one file, or add single changes with --set`);
  }
  const text = String(value);
  if (text === '') throw new UserError('--config is empty; give a JSON file');
  return text;
}

/**
 * A --config file's settings: a file (not a folder) of at most MAX_CONFIG_BYTES, nested at
 * most MAX_CONFIG_DEPTH deep, holding a JSON object without prototype keys. A UTF-8
 * byte-order mark at the start (some editors write one) is read past.
 */
export function readConfigFile(path: string): Record<string, unknown> {
  const where = `--config ${path}`;
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new UserError(`${where}: is a folder, not a file; give a JSON file`);
    if (!st.isFile()) throw new UserError(`${where}: is not a regular file; give a JSON file`);
    size = st.size;
  } catch (err) {
    if (err instanceof UserError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `${where}: no such file` : `${where}: cannot be read (${code ?? 'error'})`);
  }
  if (size > MAX_CONFIG_BYTES) throw new UserError(`${where}: is ${(size / 1e6).toFixed(1)} MB, more than the ${MAX_CONFIG_BYTES / 1024 / 1024} MiB a config file may be (a config is a few settings)`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`${where}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const partial = parseBoundedJson(text, where);
  if (!isObject(partial)) throw new UserError(`${where}: must hold a JSON object of settings, e.g. {"iterations": 500}`);
  return partial;
}

/** A `--set path=value` as its path and value; prototype names are refused by name. */
function parseSet(set: string): { path: string[]; value: Json } {
  const eq = set.indexOf('=');
  if (eq <= 0) throw new UserError(`--set ${set}: expected path=value, e.g. --set lr.sgd=0.1`);
  const path = set.slice(0, eq).trim().split('.');
  if (path.some((p) => p === '')) throw new UserError(`--set ${set}: '${set.slice(0, eq)}' is not a dotted path`);
  const bad = path.find((p) => FORBIDDEN_KEYS.includes(p));
  if (bad !== undefined) throw new UserError(`--set ${set}: '${bad}' names an object's prototype, not a setting (${FORBIDDEN_KEYS.join(', ')} are never settings)`);
  return { path, value: parseValue(set.slice(eq + 1), `--set ${set}`) };
}

/** The profile's config with the file merged over it, then every `--set`; validated after each step. */
export function applyChanges<C>(schema: z.ZodType<C>, base: C, changes: ConfigChanges): C {
  let config: unknown = base;
  const file = oneConfigFile(changes.file);
  if (file !== undefined) config = validateConfig(schema, mergeOver(config, readConfigFile(file)), `--config ${file}`);
  for (const set of changes.sets) {
    const { path, value } = parseSet(set);
    const where = `--set ${set}`;
    config = validateConfig(schema, setPath(config, path, value, where), where);
  }
  return config as C;
}

/** Every leaf where two configs differ, as "path": [before, after] (arrays compared whole). */
export function configDiff(before: unknown, after: unknown, prefix = ''): Record<string, [unknown, unknown]> {
  const out: Record<string, [unknown, unknown]> = {};
  if (isObject(before) && isObject(after)) {
    for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) Object.assign(out, configDiff(before[k], after[k], prefix ? `${prefix}.${k}` : k));
  } else if (canonicalJson(before) !== canonicalJson(after)) {
    out[prefix || '(config)'] = [before ?? null, after ?? null];
  }
  return out;
}

/** A short name for a set of changes: the same changes always give the same name. */
export function changesHash(changes: Record<string, [unknown, unknown]>): string {
  return createHash('sha256').update(canonicalJson(changes)).digest('hex').slice(0, 8);
}
