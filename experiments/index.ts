/**
 * The registry: every study of the suite, in lecture order. One line here adds a study to
 * the command line, the figures, the report, CI's regression and the tests that go over all
 * studies.
 */
import type { AnyStudy } from '../src/study.js';
import { optimizerPaths } from './optimizer-paths/study.js';
import { optimizersMnist } from './optimizers-mnist/study.js';
import { initActivations } from './init-activations/study.js';
import { initMnist } from './init-mnist/study.js';
import { batchnorm } from './batchnorm/study.js';
import { overfit } from './overfit/study.js';
import { hyperparameterSearch } from './hyperparameter-search/study.js';
import { searchStrategies } from './search-strategies/study.js';

export const STUDIES: AnyStudy[] = [optimizerPaths, optimizersMnist, initActivations, initMnist, batchnorm, overfit, hyperparameterSearch, searchStrategies];

export function findStudy(name: string): AnyStudy | undefined {
  return STUDIES.find((s) => s.name === name);
}
