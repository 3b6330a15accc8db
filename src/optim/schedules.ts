/**
 * Learning-rate schedules, as the lecture notes write them: the rate as a function of time t,
 * counted in iterations or in epochs, from a starting rate a0.
 *
 *   constant      a0
 *   step          a0 * factor^floor(t / every)      (e.g. halve every few epochs)
 *   exponential   a0 * e^(-k t)
 *   inverse-time  a0 / (1 + k t)                    (the notes' "1/t decay")
 *
 * t is the iteration index (0 for the first update) or, for unit 'epoch', the number of whole
 * epochs done before the iteration, floor(iteration / iterationsPerEpoch). A schedule is data
 * (part of a study's config, checked by `lrScheduleSchema`); `scheduleFn` turns it into the
 * function of the iteration the training loops call before each update (src/train/loop.ts).
 * The constant schedule returns a0 itself, so a run with it computes exactly what a fixed
 * rate does.
 */
import { z } from 'zod';

export const SCHEDULE_UNITS = ['iteration', 'epoch'] as const;
export type ScheduleUnit = (typeof SCHEDULE_UNITS)[number];

const unit = z.enum(SCHEDULE_UNITS);
const decayRate = z.number().min(0).finite();

export const lrScheduleSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('constant') }),
  z.strictObject({ kind: z.literal('step'), unit, every: z.number().int().min(1), factor: z.number().positive().finite() }),
  z.strictObject({ kind: z.literal('exponential'), unit, k: decayRate }),
  z.strictObject({ kind: z.literal('inverse-time'), unit, k: decayRate }),
]);
export type LrSchedule = z.infer<typeof lrScheduleSchema>;
export type ScheduleKind = LrSchedule['kind'];

/** The schedule's time for an iteration: the iteration itself, or whole epochs done before it. */
export function scheduleTime(s: LrSchedule, iteration: number, iterationsPerEpoch: number): number {
  return s.kind !== 'constant' && s.unit === 'epoch' ? Math.floor(iteration / iterationsPerEpoch) : iteration;
}

/** The rate at time t (in the schedule's unit) from the starting rate a0. */
export function rateAt(s: LrSchedule, a0: number, t: number): number {
  switch (s.kind) {
    case 'constant':
      return a0;
    case 'step':
      return a0 * s.factor ** Math.floor(t / s.every);
    case 'exponential':
      return a0 * Math.exp(-s.k * t);
    case 'inverse-time':
      return a0 / (1 + s.k * t);
  }
}

/** The rate for each iteration (0-based) of a loop with `iterationsPerEpoch` iterations per epoch. */
export function scheduleFn(s: LrSchedule, a0: number, iterationsPerEpoch: number): (iteration: number) => number {
  if (!(iterationsPerEpoch > 0)) throw new Error(`a schedule needs iterations per epoch > 0, got ${iterationsPerEpoch}`);
  return (iteration) => rateAt(s, a0, scheduleTime(s, iteration, iterationsPerEpoch));
}

/** e.g. "step: x0.316 every 10 epochs", "exponential: k = 1.0e-3 per iteration". */
export function describeSchedule(s: LrSchedule): string {
  switch (s.kind) {
    case 'constant':
      return 'constant';
    case 'step':
      return `step: x${Number(s.factor.toPrecision(3))} every ${s.every} ${s.unit}${s.every === 1 ? '' : 's'}`;
    case 'exponential':
      return `exponential: a0 e^(-k t), k = ${Number(s.k.toPrecision(3))} per ${s.unit}`;
    case 'inverse-time':
      return `1/t: a0 / (1 + k t), k = ${Number(s.k.toPrecision(3))} per ${s.unit}`;
  }
}
