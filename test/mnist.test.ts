import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MNIST_FILES, defaultMnistDir, firstRows, gatherRows, loadMnist, readIdxImages, readIdxLabels } from '../src/data/mnist.js';

const dir = defaultMnistDir();
const scratch = mkdtempSync(join(tmpdir(), 'mnist-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A copy of the real folder with one file replaced by `bytes`. */
function folderWith(file: string, bytes: Buffer | null): string {
  const d = mkdtempSync(join(scratch, 'case-'));
  for (const f of Object.values(MNIST_FILES)) if (f !== file) copyFileSync(join(dir, f), join(d, f));
  if (bytes) writeFileSync(join(d, file), bytes);
  return d;
}

describe('MNIST from IDX files', () => {
  it('reads all 60,000 + 10,000 images as [0,1] floats with labels 0..9', () => {
    const m = loadMnist(dir);
    expect(m.train.count).toBe(60000);
    expect(m.test.count).toBe(10000);
    expect(m.train.images.length).toBe(60000 * 784);
    let max = 0;
    for (let i = 0; i < 784 * 100; i++) max = Math.max(max, m.train.images[i]!);
    expect(max).toBe(1);
    // the well-known first labels of the training set
    expect(Array.from(m.train.labels.subarray(0, 5))).toEqual([5, 0, 4, 1, 9]);
    expect(Array.from(m.test.labels.subarray(0, 3))).toEqual([7, 2, 1]);
  });

  it('keeps the first N for subsets and gathers rows', () => {
    const { images, count } = readIdxImages(join(dir, MNIST_FILES.trainImages), 300);
    expect(count).toBe(300);
    const { labels } = readIdxLabels(join(dir, MNIST_FILES.trainLabels), 300);
    const g = gatherRows({ images, labels, count }, [2, 0]);
    expect(Array.from(g.labels)).toEqual([4, 5]);
    expect(g.images.subarray(784, 1568)).toEqual(images.subarray(0, 784));
  });

  it('firstRows views the first N rows without copying, and refuses more than there are', () => {
    const { images, count } = readIdxImages(join(dir, MNIST_FILES.testImages), 50);
    const { labels } = readIdxLabels(join(dir, MNIST_FILES.testLabels), 50);
    const split = { images, labels, count };
    const head = firstRows(split, 10);
    expect(head.count).toBe(10);
    expect(head.images.buffer).toBe(images.buffer);
    expect(Array.from(head.labels)).toEqual(Array.from(labels.subarray(0, 10)));
    expect(firstRows(split, 50)).toBe(split);
    expect(() => firstRows(split, 51)).toThrow('a study needs the first 51 images but the split holds only 50');
  });

  it('names a missing file', () => {
    const d = folderWith(MNIST_FILES.testLabels, null);
    expect(() => loadMnist(d)).toThrow(`MNIST file missing: ${join(d, MNIST_FILES.testLabels)}`);
  });

  it('names a file with a wrong magic number', () => {
    const bytes = Buffer.from(readFileSync(join(dir, MNIST_FILES.trainLabels)));
    bytes.writeUInt32BE(0x00000803, 0);
    const d = folderWith(MNIST_FILES.trainLabels, bytes);
    expect(() => loadMnist(d)).toThrow(`MNIST file corrupt: ${join(d, MNIST_FILES.trainLabels)}: magic number 0x00000803, expected 0x00000801`);
  });

  it('names a truncated file and says how short it is', () => {
    const full = readFileSync(join(dir, MNIST_FILES.testImages));
    const d = folderWith(MNIST_FILES.testImages, full.subarray(0, 1000));
    expect(() => loadMnist(d)).toThrow(
      `MNIST file corrupt: ${join(d, MNIST_FILES.testImages)}: header says 10000 images (7840016 bytes) but the file has 1000 bytes`,
    );
  });

  it('names a file shorter than its header', () => {
    const d = folderWith(MNIST_FILES.testLabels, Buffer.from([0, 0, 8]));
    expect(() => loadMnist(d)).toThrow(`MNIST file corrupt: ${join(d, MNIST_FILES.testLabels)}: 3 bytes is shorter than its 8-byte header`);
  });

  it('names a label out of range', () => {
    const bytes = Buffer.from(readFileSync(join(dir, MNIST_FILES.testLabels)));
    bytes[8 + 42] = 11;
    const d = folderWith(MNIST_FILES.testLabels, bytes);
    expect(() => loadMnist(d)).toThrow(`MNIST file corrupt: ${join(d, MNIST_FILES.testLabels)}: label 11 at index 42 is not 0..9`);
  });

  it('names a missing folder', () => {
    expect(() => loadMnist('/nonexistent/mnist')).toThrow('MNIST folder not found: /nonexistent/mnist');
  });
});
