/** JSON helpers shared by the config, the journal and the shard files. */

/** Stable JSON of a value (object keys sorted), for comparing values written at different times (journal headers, configs, shard identities). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, (v as Record<string, unknown>)[k]]));
    }
    return v;
  });
}

/** A value as a JSON file gives it back: plain JSON (NaN and Infinity become null). */
export const asJson = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
