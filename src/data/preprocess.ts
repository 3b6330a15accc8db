/**
 * Input preprocessing as the lecture's notes teach it: statistics computed on the training
 * images only, and the same transform applied to every split (test images included), so the
 * test set never shapes what the network is trained on.
 *
 * - raw: pixels as read, in [0, 1].
 * - zero-centred: subtract the mean image (the per-pixel mean over the training images).
 * - standardized: zero-centred, then divided by the per-pixel standard deviation over the
 *   training images (population std, divided by n). Guard: a pixel whose std is 0 (the same
 *   value in every training image, e.g. MNIST's always-black border) is divided by 1 instead,
 *   so it stays centred (0 on every training image) and a test image lit there keeps its plain
 *   offset from the mean. Nothing else is guarded: a pixel lit in a handful of training images
 *   has a tiny std, and its rare non-zero values become very large (see `maxAbs`).
 *
 * Statistics are accumulated in double precision and stored as float32.
 */
import type { MnistSplit } from './mnist.js';

export const PREPROCESSINGS = ['raw', 'zero-centred', 'standardized'] as const;
export type Preprocessing = (typeof PREPROCESSINGS)[number];

export interface PixelStats {
  /** Training images the statistics come from. */
  count: number;
  /** Per-pixel mean over the training images. */
  mean: Float32Array;
  /** Per-pixel population standard deviation over the training images. */
  std: Float32Array;
}

/** Per-pixel mean and standard deviation of a split's images (two passes, in double precision). */
export function pixelStats(train: MnistSplit): PixelStats {
  const { images, count } = train;
  if (count < 1) throw new Error('pixel statistics need at least one image');
  const d = images.length / count;
  const sum = new Float64Array(d);
  for (let i = 0; i < count; i++) {
    const row = i * d;
    for (let j = 0; j < d; j++) sum[j]! += images[row + j]!;
  }
  const mean = sum.map((s) => s / count);
  const sq = new Float64Array(d);
  for (let i = 0; i < count; i++) {
    const row = i * d;
    for (let j = 0; j < d; j++) {
      const c = images[row + j]! - mean[j]!;
      sq[j]! += c * c;
    }
  }
  return { count, mean: Float32Array.from(mean), std: Float32Array.from(sq, (s) => Math.sqrt(s / count)) };
}

/** A fitted transform: its statistics (none for raw) and how it maps a split. */
export interface Preprocessor {
  kind: Preprocessing;
  stats: PixelStats | null;
  /** Pixels whose training std is 0, divided by 1 instead (standardized only; else 0). */
  guardedPixels: number;
  /** The split's images transformed (labels shared, not copied); raw returns the split itself. */
  apply(split: MnistSplit): MnistSplit;
}

/** Fits `kind` on the training images; the returned transform is then applied to any split. */
export function fitPreprocessing(kind: Preprocessing, train: MnistSplit): Preprocessor {
  if (kind === 'raw') return { kind, stats: null, guardedPixels: 0, apply: (split) => split };
  const stats = pixelStats(train);
  const scale = new Float64Array(stats.std.length).fill(1);
  let guardedPixels = 0;
  if (kind === 'standardized') {
    stats.std.forEach((s, j) => {
      if (s > 0) scale[j] = s;
      else guardedPixels++;
    });
  }
  const apply = (split: MnistSplit): MnistSplit => {
    const d = stats.mean.length;
    if (split.images.length !== split.count * d) throw new Error(`preprocessing fitted on ${d} pixels per image, given images of ${split.images.length / split.count}`);
    const out = new Float32Array(split.images.length);
    for (let i = 0; i < split.count; i++) {
      const row = i * d;
      for (let j = 0; j < d; j++) out[row + j] = (split.images[row + j]! - stats.mean[j]!) / scale[j]!;
    }
    return { images: out, labels: split.labels, count: split.count };
  };
  return { kind, stats, guardedPixels, apply };
}

/** Largest |value| of a split's images (how far a transform stretches them). */
export function maxAbs(split: MnistSplit): number {
  let m = 0;
  for (const v of split.images) m = Math.max(m, Math.abs(v));
  return m;
}
