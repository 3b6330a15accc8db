/**
 * The suite's studies and the sharding tests' toys, as a registry handed to the experiment
 * command: this module is also what its worker processes import to find the toys.
 */
import { STUDIES as SUITE_STUDIES } from '../../experiments/index.js';
import type { StudyRegistry } from '../../src/exec/registry.js';
import type { AnyStudy } from '../../src/study.js';
import { TOY_STUDIES } from './toy-studies.js';

export const STUDIES: AnyStudy[] = [...SUITE_STUDIES, ...TOY_STUDIES];

export const TOY_REGISTRY: StudyRegistry = { studies: STUDIES, module: import.meta.url };

/** The toy registry with more studies (a test's own), still found by workers as the toys. */
export const withStudies = (...more: AnyStudy[]): StudyRegistry => ({ studies: [...STUDIES, ...more], module: import.meta.url });
