/** Every study of the suite, in lecture order. */
import type { AnyStudy } from '../src/study.js';
import { optimizerPaths } from './optimizer-paths.js';
import { optimizersMnist } from './optimizers-mnist.js';
import { initActivations } from './init-activations.js';
import { initMnist } from './init-mnist.js';
import { batchnorm } from './batchnorm.js';
import { overfit } from './overfit.js';
import { hyperparameterSearch } from './hyperparameter-search.js';

export const STUDIES: AnyStudy[] = [optimizerPaths, optimizersMnist, initActivations, initMnist, batchnorm, overfit, hyperparameterSearch];

export function findStudy(name: string): AnyStudy | undefined {
  return STUDIES.find((s) => s.name === name);
}
