/**
 * S3 init-activations: 1000 inputs of 100 N(0,1) features pushed through five 100-unit
 * layers (`a = x W`, no bias, activation after each) for every init (std=1, std=0.01, Xavier,
 * He) and activation (sigmoid, tanh, ReLU). No data and no training: the lesson is what the
 * scale of the weights does to the activations' distribution layer after layer.
 *
 * Draws: one input per seed (stream "input"), and the weights of layer k come from stream
 * "weights:layer<k>" for every row, so two inits of a row differ only in scale (common
 * random numbers, as S2/S4 share batches).
 *
 * Histogram ranges (30 bins): sigmoid 0..1 (the lecture's), tanh -1..1, ReLU 0..M with M the
 * largest activation over the five layers of that (init, ReLU) row, so the five panels of a
 * row share one axis and a shrinking or exploding scale shows. ReLU's exact zeros (about half
 * of the units) all fall in bin 0; `zeros` is recorded so a figure can leave them out.
 */
import { verdictOf } from '../../src/claims.js';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { activationName, count, initScheme, positive } from '../../src/config.js';
import { activate, type Activation } from '../../src/nn/activation.js';
import { initLabel, initWeights, type InitScheme } from '../../src/nn/init.js';
import { Rng } from '../../src/rng.js';
import { roundSig } from '../../src/stats.js';
import { defineStudy, type ClaimCheck, type KeyNumber } from '../../src/study.js';
import { histogramFigures } from './figure.js';

export const InitActivationsConfigSchema = z.strictObject({
  samples: count(1, 100_000),
  width: count(1, 4096),
  layers: count(1, 50),
  inits: z.array(initScheme).min(1),
  activations: z.array(activationName).min(1),
  bins: count(1, 1000),
  /** Half-width of the windows "near 0", "near 0.5", "near 1". */
  near: positive,
});
export type InitActivationsConfig = z.infer<typeof InitActivationsConfigSchema>;

const lecture: InitActivationsConfig = {
  samples: 1000,
  width: 100,
  layers: 5,
  inits: [{ std: 1 }, { std: 0.01 }, 'xavier', 'he'],
  activations: ['sigmoid', 'tanh', 'relu'],
  bins: 30,
  near: 0.05,
};

// ---- Claim thresholds, all fixed before the first run. ----
/** "Most of the mass": more than half of a layer's activations (the claim's wording). */
const MOST = 0.5;
/** A bin counts as occupied when it holds at least 1% of a layer's activations. */
const OCCUPIED_SHARE = 0.01;
/**
 * Xavier + sigmoid "spreads across 0..1": in the lecture's figure every layer's histogram
 * covers well over a third of the 0..1 axis (about 0.2..0.8 in the deepest layer), so we ask
 * for at least 10 of 30 bins occupied, with neither pile (near 0/1, near 0.5) holding most.
 */
const SPREAD_MIN_BINS = 10;
/**
 * ReLU + std=0.01 "collapses to 0": the lecture's panels show every layer as one bar at 0.
 * Most mass within 0.05 of 0 in every layer, and the last layer's std below 1e-3 (a thousandth
 * of the input's std 1: theory gives a factor sqrt(0.005) ~ 0.07 per layer).
 */
const COLLAPSED_STD = 1e-3;
/**
 * ReLU + Xavier "drifts toward 0": every layer's std below the previous one's, and the last
 * below half of the first (theory: the mean square halves per layer, so the std falls by
 * 1/sqrt(2) per layer, 0.25 over four steps; the lecture's figure shows a clear shrink).
 */
const XAVIER_SHRINK = 0.5;
/**
 * ReLU + He "keeps the same spread": the largest per-layer std within a factor 1.5 of the
 * smallest (theory: constant; Xavier's theory gives a factor 4 over the same five layers).
 */
const HE_FLAT_RATIO = 1.5;

export interface Histogram {
  /** bins + 1 edges, the first and last being the range. */
  edges: number[];
  counts: number[];
  /** Values exactly 0 (ReLU's dead units); they are included in `counts`. */
  zeros: number;
  /** Values outside the range (none with the ranges used here; recorded as a check). */
  outside: number;
}

export interface LayerStats {
  mean: number;
  std: number;
  min: number;
  max: number;
  /** Shares of the layer's activations within `near` of -1, 0, 0.5 and 1. */
  nearMinusOne: number;
  nearZero: number;
  nearHalf: number;
  nearOne: number;
  /** Share exactly 0. */
  zeroShare: number;
  /** Bins holding at least OCCUPIED_SHARE of the values. */
  occupiedBins: number;
}

/** Mean, population std, extremes and the window shares of a layer's activations. */
export function layerStats(values: ArrayLike<number>, near: number, hist: Histogram): LayerStats {
  const n = values.length;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  let nm1 = 0;
  let n0 = 0;
  let nh = 0;
  let n1 = 0;
  let zeros = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
    if (Math.abs(v + 1) <= near) nm1++;
    if (Math.abs(v) <= near) n0++;
    if (Math.abs(v - 0.5) <= near) nh++;
    if (Math.abs(v - 1) <= near) n1++;
    if (v === 0) zeros++;
  }
  const mean = sum / n;
  let sq = 0;
  for (let i = 0; i < n; i++) sq += (values[i]! - mean) ** 2;
  return {
    mean,
    std: Math.sqrt(sq / n),
    min,
    max,
    nearMinusOne: nm1 / n,
    nearZero: n0 / n,
    nearHalf: nh / n,
    nearOne: n1 / n,
    zeroShare: zeros / n,
    occupiedBins: hist.counts.filter((c) => c >= OCCUPIED_SHARE * n).length,
  };
}

/** Equal-width histogram over [lo, hi]; a value equal to hi goes to the last bin. */
export function histogram(values: ArrayLike<number>, lo: number, hi: number, bins: number): Histogram {
  const counts = new Array<number>(bins).fill(0);
  let zeros = 0;
  let outside = 0;
  const width = (hi - lo) / bins;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v === 0) zeros++;
    if (!(v >= lo && v <= hi)) {
      outside++;
      continue;
    }
    // A degenerate range (every value equal) puts everything in bin 0.
    const b = width > 0 ? Math.min(bins - 1, Math.floor((v - lo) / width)) : 0;
    counts[b]!++;
  }
  const edges = Array.from({ length: bins + 1 }, (_, k) => roundSig(lo + k * width, 5));
  return { edges, counts, zeros, outside };
}

/** The histogram range of an activation; ReLU's upper end is the row's largest value. */
export function histogramRange(activation: Activation, rowMax: number): [number, number] {
  if (activation === 'sigmoid') return [0, 1];
  if (activation === 'tanh') return [-1, 1];
  return [0, rowMax > 0 ? rowMax : 1];
}

/** Activations of every layer for one (init, activation): `layers` arrays of samples*width. */
export function forward(x: tf.Tensor2D, weights: tf.Tensor2D[], activation: Activation): Float32Array[] {
  const out: Float32Array[] = [];
  let h = x;
  for (const w of weights) {
    const next = tf.tidy(() => activate(activation, tf.matMul(h, w)) as tf.Tensor2D);
    if (h !== x) h.dispose();
    h = next;
    out.push(h.dataSync() as Float32Array);
  }
  if (h !== x) h.dispose();
  return out;
}

export function rowLabel(activation: Activation, init: InitScheme): string {
  return `${activation}/${initLabel(init)}`;
}

/** One (activation, init) row of the figure: a histogram and statistics per layer. */
export interface Row<Stats = LayerStats> {
  label: string;
  activation: Activation;
  init: string;
  range: [number, number];
  histograms: Histogram[];
  stats: Stats[];
}

export interface InitActivationsSeries {
  /** Stats rounded to 4 significant digits (the summary keeps them exact). */
  rows: Row<Record<string, number>>[];
  input: { samples: number; width: number; dist: string };
  bins: number;
  near: number;
}

/** Row label ("relu/he") -> "layer1".."layer5" -> that layer's statistics. */
type Summary = Record<string, Record<string, LayerStats>>;

function layersOf(summary: Summary, label: string): LayerStats[] {
  const row = summary[label];
  if (!row) throw new Error(`no row ${label} in the run`);
  return Object.keys(row)
    .sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)))
    .map((k) => row[k]!);
}

const r4 = (x: number) => roundSig(x, 4);

export const initActivations = defineStudy<InitActivationsConfig, InitActivationsSeries, Summary>({
  name: 'init-activations',
  id: 'S3',
  title: 'Activation histograms by weight init',
  description: '1000x100 N(0,1) through five 100-unit layers; std=1, std=0.01, Xavier, He x sigmoid, tanh, ReLU; histograms per layer (no data)',
  needsMnist: false,
  // Pure tensor arithmetic, about a second: the quick profile is the lecture's.
  configSchema: InitActivationsConfigSchema,
  profiles: { lecture, quick: lecture },
  run(config, ctx) {
    const { samples, width, layers, bins, near } = config;
    const x = tf.tensor2d(Rng.stream(ctx.seed, 'input').normalArray(samples * width), [samples, width]);
    const rows: Row[] = [];
    const summary: Summary = {};
    const progress = ctx.progress('rows', config.inits.length * config.activations.length);
    for (const activation of config.activations) {
      for (const init of config.inits) {
        const weights = Array.from({ length: layers }, (_, k) =>
          tf.tensor2d(initWeights(init, width, width, Rng.stream(ctx.seed, `weights:layer${k + 1}`)), [width, width]),
        );
        const acts = forward(x, weights, activation);
        tf.dispose(weights);
        let rowMax = -Infinity;
        for (const a of acts) for (let i = 0; i < a.length; i++) if (a[i]! > rowMax) rowMax = a[i]!;
        const range = histogramRange(activation, rowMax);
        const histograms = acts.map((a) => histogram(a, range[0], range[1], bins));
        const stats = acts.map((a, k) => layerStats(a, near, histograms[k]!));
        const label = rowLabel(activation, init);
        rows.push({ label, activation, init: initLabel(init), range: [roundSig(range[0], 5), roundSig(range[1], 5)], histograms, stats });
        summary[label] = Object.fromEntries(stats.map((s, k) => [`layer${k + 1}`, s]));
        progress.tick();
      }
    }
    progress.done();
    x.dispose();
    // The series keeps rounded stats for the figures; the summary keeps them exact.
    const seriesRows = rows.map((r) => ({
      ...r,
      stats: r.stats.map((s) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, r4(v as number)]))),
    }));
    return { series: { rows: seriesRows, input: { samples, width, dist: 'N(0,1)' }, bins, near }, summary };
  },
  // CI's guard (src/regression.ts): per row, the first and last layer's std (2% relative:
  // fixed draws, no training, so only rounding moves them) and the last layer's mass near 0,
  // 0.5 and 1 (+-0.02 of the share).
  keyNumbers(run): Record<string, KeyNumber> {
    const out: Record<string, KeyNumber> = {};
    for (const row of Object.keys(run.summary)) {
      const layers = layersOf(run.summary, row);
      const first = layers[0]!;
      const last = layers[layers.length - 1]!;
      out[`${row}.firstStd`] = { value: first.std, tolerance: 0.02 * Math.abs(first.std) };
      out[`${row}.lastStd`] = { value: last.std, tolerance: 0.02 * Math.abs(last.std) };
      for (const k of ['nearZero', 'nearHalf', 'nearOne'] as const) out[`${row}.last.${k}`] = { value: last[k], tolerance: 0.02 };
    }
    return out;
  },
  figures: histogramFigures,
  curves: (run) =>
    run.series.rows.map((row) => ({
      panel: row.label,
      x: 'activation (bin centre)',
      y: 'count',
      lines: row.histograms.map((h, k) => ({ name: `layer ${k + 1}`, x: h.counts.map((_, b) => roundSig((h.edges[b]! + h.edges[b + 1]!) / 2, 5)), y: h.counts })),
    })),
  claims(run): ClaimCheck[] {
    const s = run.summary;
    const sigStd1 = layersOf(s, 'sigmoid/std=1');
    const sigSmall = layersOf(s, 'sigmoid/std=0.01');
    const sigXavier = layersOf(s, 'sigmoid/xavier');
    const reluSmall = layersOf(s, 'relu/std=0.01');
    const reluXavier = layersOf(s, 'relu/xavier');
    const reluHe = layersOf(s, 'relu/he');
    const ends = (l: LayerStats) => l.nearZero + l.nearOne;
    const stds = (ls: LayerStats[]) => ls.map((l) => l.std);
    const xavierStd = stds(reluXavier);
    const heStd = stds(reluHe);
    const heRatio = Math.max(...heStd) / Math.min(...heStd);
    const xavierLastOverFirst = xavierStd[xavierStd.length - 1]! / xavierStd[0]!;
    return [
      {
        id: 'sigmoid-std1-saturates',
        text: `sigmoid + std=1 piles up at 0 and 1: in every layer more than ${MOST} of the activations lie within 0.05 of 0 or 1`,
        verdict: verdictOf(sigStd1.every((l) => ends(l) > MOST)),
        numbers: { nearZeroOrOnePerLayer: sigStd1.map(ends) },
      },
      {
        id: 'sigmoid-std001-centre',
        text: `sigmoid + std=0.01 piles up at 0.5: in every layer more than ${MOST} of the activations lie within 0.05 of 0.5`,
        verdict: verdictOf(sigSmall.every((l) => l.nearHalf > MOST)),
        numbers: { nearHalfPerLayer: sigSmall.map((l) => l.nearHalf), stdPerLayer: stds(sigSmall) },
      },
      {
        id: 'sigmoid-xavier-spread',
        text: `sigmoid + Xavier spreads across 0..1: in every layer at least ${SPREAD_MIN_BINS} of 30 bins hold >= 1% each, and neither 0/1 nor 0.5 (within 0.05) holds more than ${MOST}`,
        verdict: verdictOf(sigXavier.every((l) => l.occupiedBins >= SPREAD_MIN_BINS && ends(l) <= MOST && l.nearHalf <= MOST)),
        numbers: {
          occupiedBinsPerLayer: sigXavier.map((l) => l.occupiedBins),
          nearZeroOrOnePerLayer: sigXavier.map(ends),
          nearHalfPerLayer: sigXavier.map((l) => l.nearHalf),
          stdPerLayer: stds(sigXavier),
        },
      },
      {
        id: 'relu-std001-collapses',
        text: `ReLU + std=0.01 collapses to 0: in every layer more than ${MOST} of the activations lie within 0.05 of 0, and the last layer's std is below ${COLLAPSED_STD}`,
        verdict: verdictOf(reluSmall.every((l) => l.nearZero > MOST) && reluSmall[reluSmall.length - 1]!.std < COLLAPSED_STD),
        numbers: { nearZeroPerLayer: reluSmall.map((l) => l.nearZero), stdPerLayer: stds(reluSmall) },
      },
      {
        id: 'relu-xavier-shrinks',
        text: `ReLU + Xavier drifts toward 0: the std falls from every layer to the next, and the last layer's is below ${XAVIER_SHRINK} of the first's`,
        verdict: verdictOf(xavierStd.every((v, k) => k === 0 || v < xavierStd[k - 1]!) && xavierLastOverFirst < XAVIER_SHRINK),
        numbers: { stdPerLayer: xavierStd, lastOverFirst: xavierLastOverFirst },
      },
      {
        id: 'relu-he-flat',
        text: `ReLU + He keeps the same spread in every layer: largest per-layer std / smallest < ${HE_FLAT_RATIO}`,
        verdict: verdictOf(heRatio < HE_FLAT_RATIO),
        numbers: { stdPerLayer: heStd, maxOverMin: heRatio },
      },
    ];
  },
});
