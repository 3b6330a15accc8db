/**
 * Which figures each study gets: study name -> builder from its result JSON. A study missing
 * here is reported by the figures command (its result is still in REPORT.md).
 */
import type { StudyResult } from '../results/schema.js';
import { lossFigure } from './loss-curves.js';
import type { Figure } from './render.js';
import { s1Figures } from './s1-paths.js';
import { s3Figures } from './s3-histograms.js';
import { s5Figures } from './s5-batchnorm.js';
import { s6Figures } from './s6-overfit.js';
import { s7Figures } from './s7-search.js';

export type FigureBuilder = (result: StudyResult) => Figure[];

export const FIGURE_BUILDERS: Record<string, FigureBuilder> = {
  'optimizer-paths': s1Figures,
  'optimizers-mnist': (r) => [
    lossFigure(r, {
      name: r.study,
      title: 'S2 Update rules on MNIST: training loss',
      caption: 'Training loss per iteration (smoothed), one curve per update rule; y from 0 to 1 as in the lecture.',
      yMax: 1,
      // The lecture's four in its legend order, then the two extra rows.
      labels: { sgd: 'SGD', momentum: 'Momentum', adagrad: 'AdaGrad', adam: 'Adam', nesterov: 'Nesterov', rmsprop: 'RMSprop' },
    }),
  ],
  'init-activations': s3Figures,
  'init-mnist': (r) => [
    lossFigure(r, {
      name: r.study,
      title: 'S4 Weight init on MNIST: training loss',
      caption: 'Training loss per iteration (smoothed), one curve per weight init; y from 0 to 2.5 as in the lecture.',
      yMax: 2.5,
      // The lecture's three, then any extra init the run adds (e.g. std=1).
      labels: { 'std=0.01': 'std=0.01', xavier: 'Xavier', he: 'He' },
    }),
  ],
  batchnorm: s5Figures,
  overfit: s6Figures,
  'hyperparameter-search': s7Figures,
};

export function figuresFor(result: StudyResult): Figure[] | null {
  const build = FIGURE_BUILDERS[result.study];
  return build ? build(result) : null;
}
