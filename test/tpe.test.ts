import { describe, expect, it } from 'vitest';
import { Rng } from '../src/rng.js';
import { TPE_CONSTANTS, density, normalCdf, parzen, sampleParzen, splitTrials, suggest, type Observation } from '../src/search/tpe.js';

/** A 2-D quadratic with its optimum at (0.3, 0.7): higher is better. */
const OPT = [0.3, 0.7];
const quadratic = (u: number[]): number => -((u[0]! - OPT[0]!) ** 2 + (u[1]! - OPT[1]!) ** 2);

/** A whole search of `budget` trials: TPE (random for the first n0) or pure random, from one seed. */
function search(seed: number, budget: number, tpe: boolean): Observation[] {
  const obs: Observation[] = [];
  for (let t = 0; t < budget; t++) {
    const rng = Rng.stream(seed, `test:${t}`);
    const position = tpe ? suggest(obs, 2, rng, TPE_CONSTANTS) : [rng.uniform(), rng.uniform()];
    obs.push({ position, score: quadratic(position) });
  }
  return obs;
}

const best = (obs: Observation[]): number => Math.max(...obs.map((o) => o.score));
const meanOf = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('TPE pieces', () => {
  it('splits at the gamma quantile: the best ceil(gamma n), ties and failures in trial order', () => {
    const obs = [0.1, 0.5, -Infinity, 0.5, 0.9, NaN, 0.2, 0.3].map((score, i) => ({ position: [i / 10], score }));
    const { good, bad } = splitTrials(obs, 0.25);
    expect(good.map((o) => o.position[0])).toEqual([0.4, 0.1]);
    expect(bad.map((o) => o.position[0])).toEqual([0.3, 0.7, 0.6, 0, 0.2, 0.5]);
    expect(splitTrials(obs.slice(0, 1), 0.25).good).toHaveLength(1);
  });

  it("the bandwidth rule: each point's sigma is its larger neighbour gap (the prior's centre among them), clipped", () => {
    const p = parzen([0.1, 0.2, 0.9], 1);
    expect(p.means).toEqual([0.1, 0.2, 0.9, 0.5]);
    // 0.1: gaps 0.1 (to 0) and 0.1 (to 0.2), raised to the floor 1 / (3 + 1); 0.2: 0.1 and 0.3
    // (to the prior's 0.5); 0.9: 0.4 (to 0.5) and 0.1 (to 1)
    expect(p.sigmas.map((s) => Number(s.toFixed(12)))).toEqual([0.25, 0.3, 0.4, 1]);
    const many = parzen(Array.from({ length: 19 }, (_, i) => 0.05 * (i + 1) - 0.0001 * (i === 9 ? 0 : 1)), 1);
    expect(Math.min(...many.sigmas)).toBeCloseTo(0.05, 3);
    expect(p.weights).toEqual([0.25, 0.25, 0.25, 0.25]);
    // crowded points: never narrower than 1 / min(100, n + 1)
    const crowd = parzen([0.2, 0.2, 0.2], 1);
    expect(crowd.sigmas).toEqual([0.25, 0.25, 0.3, 1]);
  });

  it('the density integrates to 1 on [0, 1] and its draws stay inside and follow it', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
    const p = parzen([0.05, 0.3, 0.31, 0.8], 1);
    let integral = 0;
    const steps = 20_000;
    for (let i = 0; i < steps; i++) integral += density(p, (i + 0.5) / steps) / steps;
    expect(integral).toBeCloseTo(1, 4);
    const rng = new Rng(1);
    const draws = Array.from({ length: 20_000 }, () => sampleParzen(p, rng));
    expect(draws.every((u) => u >= 0 && u <= 1)).toBe(true);
    // the share below 0.5 against the density's mass there
    let mass = 0;
    for (let i = 0; i < steps / 2; i++) mass += density(p, (i + 0.5) / steps) / steps;
    expect(draws.filter((u) => u < 0.5).length / draws.length).toBeCloseTo(mass, 1);
  });

  it('is deterministic for a seed, and draws uniformly before n0 trials', () => {
    expect(search(3, 20, true)).toEqual(search(3, 20, true));
    expect(search(3, 20, true)).not.toEqual(search(4, 20, true));
    // the first n0 positions are plain uniform draws of the trial's stream
    const first = search(3, TPE_CONSTANTS.n0, true);
    const rand = search(3, TPE_CONSTANTS.n0, false);
    expect(first).toEqual(rand);
    expect(() => suggest([], 2, new Rng(0), { ...TPE_CONSTANTS, gamma: 1 })).toThrow(/gamma/);
  });
});

describe('TPE on a 2-D quadratic', () => {
  const SEEDS = 40;
  const BUDGET = 40;
  const runs = Array.from({ length: SEEDS }, (_, s) => ({ tpe: search(s, BUDGET, true), random: search(s, BUDGET, false) }));

  it('concentrates near the optimum once the model takes over', () => {
    const dist = (o: Observation) => Math.hypot(o.position[0]! - OPT[0]!, o.position[1]! - OPT[1]!);
    const late = (obs: Observation[]) => meanOf(obs.slice(BUDGET - 10).map(dist));
    const tpeLate = meanOf(runs.map((r) => late(r.tpe)));
    const randomLate = meanOf(runs.map((r) => late(r.random)));
    // Uniform points in the unit square lie ~0.4 from (0.3, 0.7); TPE's last 10 much closer.
    expect(randomLate).toBeGreaterThan(0.3);
    expect(tpeLate).toBeLessThan(0.5 * randomLate);
  });

  it("its best so far beats random search's on average over the seeds", () => {
    for (const budget of [16, BUDGET]) {
      const tpe = meanOf(runs.map((r) => best(r.tpe.slice(0, budget))));
      const random = meanOf(runs.map((r) => best(r.random.slice(0, budget))));
      expect(tpe).toBeGreaterThan(random);
    }
    // ...and in most seeds at the full budget
    expect(runs.filter((r) => best(r.tpe) > best(r.random)).length).toBeGreaterThan(SEEDS / 2);
  });
});
