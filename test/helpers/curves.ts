/**
 * A loss curve for claim tests: `n` values whose every block of 10 averages to `level`
 * (alternating +-1% around it), so that a claim reading the curve's final window sees `level`
 * and two curves at different levels differ for real under src/difference.ts. Null: a net
 * without a loss (diverged).
 */
export function curveAt(level: number | null, n = 100): (number | null)[] {
  return Array.from({ length: n }, (_, i) => (level === null ? null : level * (i % 2 === 0 ? 1.01 : 0.99)));
}

/** One curve per net from each net's final loss. */
export function curvesOf<T extends { finalLoss: number | null }>(rows: Record<string, T | undefined>, n = 100): Record<string, (number | null)[]> {
  return Object.fromEntries(Object.entries(rows).filter(([, r]) => r !== undefined).map(([k, r]) => [k, curveAt(r!.finalLoss, n)]));
}
