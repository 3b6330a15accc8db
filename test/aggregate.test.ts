import { describe, expect, it } from 'vitest';
import { aggregateSummaries, combineClaims, spread } from '../src/results/aggregate.js';

describe('seed aggregation', () => {
  it('spread gives mean, sample std, min and max', () => {
    expect(spread([1, 2, 3])).toEqual({ mean: 2, std: 1, min: 1, max: 3, n: 3 });
  });

  it('turns numbers into spreads, arrays element by element, and keeps other leaves', () => {
    const agg = aggregateSummaries([
      { loss: 1, perLayer: [1, 10], name: 'a', ok: true },
      { loss: 3, perLayer: [3, 30], name: 'a', ok: false },
    ]) as Record<string, unknown>;
    expect(agg.loss).toEqual({ mean: 2, std: Math.SQRT2, min: 1, max: 3, n: 2 });
    expect((agg.perLayer as { mean: number }[]).map((s) => s.mean)).toEqual([2, 20]);
    expect(agg.name).toBe('a');
    expect(agg.ok).toBe(true);
  });

  it('a single seed is passed through unchanged', () => {
    const s = { loss: 1, perLayer: [1, 2] };
    expect(aggregateSummaries([s])).toBe(s);
  });

  it('a claim holds over seeds only if it holds for every seed; one FAILS fails it; else an undecided seed makes it inconclusive', () => {
    const claim = (verdict: 'holds' | 'FAILS' | 'inconclusive', x: number) => ({ id: 'c', text: 't', verdict, ...(verdict === 'inconclusive' ? { reason: 'within the noise' } : {}), numbers: { x } });
    const over = (...vs: ('holds' | 'FAILS' | 'inconclusive')[]) => combineClaims(vs.map((v, seed) => ({ seed, claims: [claim(v, seed)] })))[0]!;
    expect(over('holds', 'holds').verdict).toBe('holds');
    expect(over('holds', 'inconclusive', 'FAILS').verdict).toBe('FAILS');
    expect(over('holds', 'inconclusive').verdict).toBe('inconclusive');
    expect(over('holds', 'inconclusive').reason).toBe('seed 1: within the noise');
    const claims = combineClaims([
      { seed: 0, claims: [claim('holds', 1)] },
      { seed: 1, claims: [claim('FAILS', 3)] },
    ]);
    expect(claims[0]!.verdict).toBe('FAILS');
    expect(claims[0]!.numbers.seedsHolding).toBe('1/2');
    expect((claims[0]!.numbers.x as { mean: number }).mean).toBe(2);
    expect(claims[0]!.perSeed).toHaveLength(2);
  });
});
