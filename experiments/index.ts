/** Every study of the suite, in lecture order. */
import type { AnyStudy } from '../src/study.js';
import { optimizerPaths } from './optimizer-paths.js';
import { optimizersMnist } from './optimizers-mnist.js';

export const STUDIES: AnyStudy[] = [optimizerPaths, optimizersMnist];

export function findStudy(name: string): AnyStudy | undefined {
  return STUDIES.find((s) => s.name === name);
}
