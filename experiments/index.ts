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
import { gradientCheck } from './gradient-check/study.js';
import { sanityChecks } from './sanity-checks/study.js';
import { searchStrategies } from './search-strategies/study.js';
import { lrSchedules } from './lr-schedules/study.js';
import { ensembles } from './ensembles/study.js';
import { activationFunctions } from './activation-functions/study.js';
import { dataPreprocessing } from './data-preprocessing/study.js';
import { batchnormInference } from './batchnorm-inference/study.js';
import { batchSize } from './batch-size/study.js';
import { symmetry } from './symmetry/study.js';
import { batchnormEffects } from './batchnorm-effects/study.js';
import { dropoutEnsemble } from './dropout-ensemble/study.js';

export const STUDIES: AnyStudy[] = [
  optimizerPaths, optimizersMnist, initActivations, initMnist, batchnorm, overfit, hyperparameterSearch,
  gradientCheck, sanityChecks, lrSchedules, searchStrategies, ensembles, activationFunctions, dataPreprocessing, batchnormInference,
  batchSize, symmetry, batchnormEffects, dropoutEnsemble,
];

export function findStudy(name: string): AnyStudy | undefined {
  return STUDIES.find((s) => s.name === name);
}
