/**
 * The order test files start in. vitest starts the files it has timed before longest first, but a
 * fresh clone (CI) has no timings and it falls back to the largest file first, which can leave a
 * long study-running file to start last, alone on one core. The files below are the ones that
 * run studies or train nets in child processes, longest first as measured on the 2-core machine;
 * every other file follows in vitest's own order.
 */
import { basename } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const LONGEST_FIRST = [
  'regression.test.ts',
  'regression-tensorflow.test.ts',
  'faults.test.ts',
  'cli.test.ts',
  'backward.test.ts',
  'live.test.ts',
  'backward-tensorflow.test.ts',
  'figures.test.ts',
  'page.test.ts',
  'atomic.test.ts',
  'shard.test.ts',
];

export class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rest = await super.sort(files);
    const rank = (file: TestSpecification) => {
      const i = LONGEST_FIRST.indexOf(basename(file.moduleId));
      return i < 0 ? LONGEST_FIRST.length : i;
    };
    // Array.prototype.sort is stable: files outside the list keep vitest's order.
    return [...rest].sort((a, b) => rank(a) - rank(b));
  }
}
