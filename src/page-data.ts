/**
 * Compact data for the page. A figure's inline `values` are rows of objects that repeat every
 * key and every series label (a loss study's 12,000 rows of {panel, curve, iteration, loss} are 1 MB),
 * and the page holds every figure of every study. On the page (only: the .vl.json files stay
 * as they are) each such table is stored by column, a column of strings as its distinct
 * values and an index per row; the page's script (UNPACK_JS) rebuilds the same rows before
 * drawing. A table is packed only when every row is a plain object with the same keys, so
 * unpacking gives back rows equal to the originals (tested).
 */

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const isObj = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Tables shorter than this are left as rows: packing them saves next to nothing. */
const MIN_ROWS = 50;

function sameKeys(rows: Json[]): string[] | null {
  if (!rows.every(isObj)) return null;
  const keys = Object.keys(rows[0] as Record<string, Json>);
  const ok = (rows as Record<string, Json>[]).every((r) => {
    const k = Object.keys(r);
    return k.length === keys.length && k.every((x, i) => x === keys[i]);
  });
  return ok ? keys : null;
}

function packColumn(values: Json[]): Json {
  if (!values.every((v) => typeof v === 'string')) return { values };
  const levels = [...new Set(values as string[])];
  const index = new Map(levels.map((l, i) => [l, i]));
  return { levels, codes: (values as string[]).map((v) => index.get(v)!) };
}

/** A copy of `spec` with every large uniform `values` table packed by column. */
export function packSpecData<T>(spec: T): T {
  const walk = (node: Json): Json => {
    if (Array.isArray(node)) return node.map(walk);
    if (!isObj(node)) return node;
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(node)) {
      const rows = k === 'values' && Array.isArray(v) && v.length >= MIN_ROWS ? v : null;
      const keys = rows ? sameKeys(rows) : null;
      out[k] = rows && keys
        ? { packedRows: rows.length, columns: Object.fromEntries(keys.map((key) => [key, packColumn((rows as Record<string, Json>[]).map((r) => r[key]!))])) }
        : walk(v);
    }
    return out;
  };
  return walk(spec as Json) as T;
}

/**
 * The page's unpacker, as the browser runs it (plain JavaScript, no build step): a spec with
 * every packed table turned back into rows. Tests evaluate this same text.
 */
export const UNPACK_JS = `
function unpackData(node) {
  if (Array.isArray(node)) return node.map(unpackData);
  if (node === null || typeof node !== 'object') return node;
  if (typeof node.packedRows === 'number' && node.columns) {
    const keys = Object.keys(node.columns);
    const cols = keys.map((k) => node.columns[k]);
    const rows = new Array(node.packedRows);
    for (let i = 0; i < rows.length; i++) {
      const row = {};
      for (let j = 0; j < keys.length; j++) row[keys[j]] = cols[j].levels ? cols[j].levels[cols[j].codes[i]] : cols[j].values[i];
      rows[i] = row;
    }
    return rows;
  }
  const out = {};
  for (const k of Object.keys(node)) out[k] = unpackData(node[k]);
  return out;
}
`;
