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

/**
 * The deepest nesting of `[` and `{` in JSON text, found by one pass over the characters
 * (no recursion, so text nested millions deep cannot overflow the stack); strings are skipped.
 * Stops counting once past `limit`.
 */
export function jsonDepth(text: string, limit = Infinity): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/**
 * The deepest a result or shard file of this suite may be nested: the deepest committed result
 * is 10 levels. Deeper text is refused before it is parsed, as code that walks a parsed value
 * (validation, rendering, cloning) recurses and would overflow the stack on a file nested
 * millions deep.
 */
export const MAX_FILE_DEPTH = 64;
