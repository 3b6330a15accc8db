/**
 * Study configs: the schema pieces studies declare their configs with (each config's type is
 * inferred from its schema, so it is written once), and "what if" changes to a profile's
 * config: `--config file.json` (a partial config merged over the profile) and `--set
 * path=value` (dotted paths into nested fields), validated against the study's schema.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { UserError } from './errors.js';
import { ACTIVATIONS } from './nn/activation.js';
import { OPTIMIZER_NAMES } from './optim/optimizers.js';
import { canonicalJson } from './store/json.js';

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

/** `--set` values: JSON where it parses (numbers, true/false, [1, 2], {"std": 1}), else the text itself. */
export function parseValue(text: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return text;
  }
}

/** Objects merged key by key; anything else (numbers, arrays) replaced. */
function mergeOver(base: unknown, over: unknown): unknown {
  if (!isObject(base) || !isObject(over)) return structuredClone(over);
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? mergeOver(base[k], v) : structuredClone(v);
  return out;
}

/** Sets `path` (dotted) in a copy of `config`; a path through a non-object is an error. */
function setPath(config: unknown, path: string[], value: Json, where: string): unknown {
  const root = structuredClone(config) as Record<string, unknown>;
  let node: Record<string, unknown> = root;
  for (let i = 0; i < path.length - 1; i++) {
    const next = node[path[i]!];
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

/** The profile's config with the file merged over it, then every `--set`; validated after each step. */
export function applyChanges<C>(schema: z.ZodType<C>, base: C, changes: ConfigChanges): C {
  let config: unknown = base;
  if (changes.file) {
    const path = changes.file;
    if (!existsSync(path) || !statSync(path).isFile()) throw new UserError(`--config ${path}: no such file`);
    let partial: unknown;
    try {
      partial = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new UserError(`--config ${path}: not valid JSON (${(err as Error).message.split('\n')[0]})`);
    }
    if (!isObject(partial)) throw new UserError(`--config ${path}: must hold a JSON object of settings, e.g. {"iterations": 500}`);
    config = validateConfig(schema, mergeOver(config, partial), `--config ${path}`);
  }
  for (const set of changes.sets) {
    const eq = set.indexOf('=');
    if (eq <= 0) throw new UserError(`--set ${set}: expected path=value, e.g. --set lr.sgd=0.1`);
    const path = set.slice(0, eq).trim().split('.');
    if (path.some((p) => p === '')) throw new UserError(`--set ${set}: '${set.slice(0, eq)}' is not a dotted path`);
    const where = `--set ${set}`;
    config = validateConfig(schema, setPath(config, path, parseValue(set.slice(eq + 1)), where), where);
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
