/**
 * How the suite prints numbers, the same in the console, REPORT.md and the figures' tables:
 * 4 significant digits, exponent form for the very small and very large, spreads over seeds
 * as "mean (min..max)".
 */

export function formatValue(v: unknown): string {
  if (typeof v === 'number') {
    if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
    const a = Math.abs(v);
    return a >= 1e-3 && a < 1e5 ? String(Number(v.toPrecision(4))) : v.toExponential(2);
  }
  if (v === null) return 'null';
  if (Array.isArray(v)) return `[${v.map(formatValue).join(', ')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if ('mean' in o && 'min' in o && 'max' in o) return `${formatValue(o.mean)} (${formatValue(o.min)}..${formatValue(o.max)})`;
    return `{${Object.entries(o).map(([k, x]) => `${k}: ${formatValue(x)}`).join(', ')}}`;
  }
  return String(v);
}

/** A claim's numbers: "name = value; name = value". */
export function formatNumbers(numbers: Record<string, unknown>): string {
  return Object.entries(numbers)
    .map(([k, v]) => `${k} = ${formatValue(v)}`)
    .join('; ');
}

export function formatDuration(ms: number): string {
  const s = ms / 1000;
  if (s < 1) return `${ms.toFixed(0)} ms`;
  if (s < 120) return `${s.toFixed(1)} s`;
  if (s < 7200) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(2)} h`;
}

/** `1e-3` style for rates and decays: "7.9e-3", "1e-2" (9.96e-3 carries into the exponent). */
export function sci(v: number, digits = 2): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  let e = Math.floor(Math.log10(Math.abs(v)));
  let mant = Number((v / 10 ** e).toPrecision(digits));
  if (Math.abs(mant) >= 10) {
    mant = Number((mant / 10).toPrecision(digits));
    e += 1;
  }
  return mant === 1 ? `1e${e}` : `${mant}e${e}`;
}

/** "a", "a and b", "a, b and c". */
export function listText(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** A verdict as the console, REPORT.md and the page print it. */
export function verdictLabel(v: 'holds' | 'FAILS' | 'inconclusive'): string {
  return v;
}

/** How many claims hold, fail and cannot decide. */
export function tally(claims: readonly { verdict: 'holds' | 'FAILS' | 'inconclusive' }[]): { holds: number; fails: number; inconclusive: number; total: number } {
  const count = (v: string) => claims.filter((c) => c.verdict === v).length;
  return { holds: count('holds'), fails: count('FAILS'), inconclusive: count('inconclusive'), total: claims.length };
}

/** "3/5 (1 FAIL, 1 inconclusive)" with `strong` wrapping the FAIL count (markdown or HTML emphasis). */
export function tallyText(claims: readonly { verdict: 'holds' | 'FAILS' | 'inconclusive' }[], strong: (s: string) => string): string {
  const t = tally(claims);
  const parts = [t.fails ? strong(`${t.fails} FAIL`) : null, t.inconclusive ? `${t.inconclusive} inconclusive` : null].filter((x) => x !== null);
  return `${t.holds}/${t.total}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}
