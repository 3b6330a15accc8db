/**
 * `--tensorboard DIR`: a run's curves as TensorBoard scalars, written by tfjs-node's summary
 * writer (TensorFlow's own event-file writer, so only with the tensorflow backend), one run
 * directory per study, profile, named run and seed: DIR/<study>.<profile>[.<name>]/seed-<n>.
 *   - while a study trains, the values its loops stream (the latest losses) under `streamed/`,
 *     one step per iteration;
 *   - when it finishes, every curve of each seed's run over a time axis (iterations, epochs,
 *     updates, trials: the study's own `curves`, e.g. losses, accuracies, learning rates)
 *     as `<panel>/<line>`, its x as the step.
 */
import { join } from 'node:path';
import type { RunEvent } from '../exec/events.js';
import type { StudyResult } from '../results/schema.js';
import { typedResult, type AnyStudy, type CurvePanel } from '../study.js';

/** The part of tfjs-node's summary writer we use. */
export interface ScalarWriter {
  scalar(tag: string, value: number, step: number): void;
  flush(): void;
}

export type WriterFor = (logdir: string) => ScalarWriter;

/** tfjs-node's writer; throws when tfjs-node is not what runs (the caller checks the backend first). */
export async function tensorflowWriters(): Promise<WriterFor> {
  const name = '@tensorflow/tfjs-node';
  const tfn = (await import(/* @vite-ignore */ name)) as { node: { summaryFileWriter(logdir: string): ScalarWriter } };
  return (logdir) => tfn.node.summaryFileWriter(logdir);
}

/** x axes that are time: a curve over one of them is a scalar over steps. */
const TIME_AXIS = /^(iteration|iterations|epoch|epochs|update|updates|step|steps|trial.*)$/;

export const runDir = (dir: string, study: string, profile: string, name: string | null, seed: number): string =>
  join(dir, `${study}.${profile}${name ? `.${name}` : ''}`, `seed-${seed}`);

/** The scalars of one seed's curves: [tag, value, step] for every finite point of a curve over time. */
export function curveScalars(panels: CurvePanel[]): [string, number, number][] {
  const out: [string, number, number][] = [];
  for (const p of panels) {
    if (!TIME_AXIS.test(p.x)) continue;
    for (const line of p.lines) {
      // A step is a whole number: a fractional x (an epoch's fraction) keeps the point's index.
      const xs = line.x && line.x.every((x) => Number.isInteger(x)) ? line.x : null;
      line.y.forEach((y, i) => {
        if (y !== null && Number.isFinite(y)) out.push([`${p.panel}/${line.name}`, y, xs ? xs[i]! : i]);
      });
    }
  }
  return out;
}

/** What a run writes to TensorBoard: streamed values as they come, each study's curves when it ends. */
export class TensorboardLog {
  private readonly used = new Set<ScalarWriter>();

  constructor(
    private readonly dir: string,
    private readonly profile: string,
    /** Each study's named run (null: the profile's own config). */
    private readonly names: Map<string, string | null>,
    private readonly writerFor: WriterFor,
  ) {}

  private writer(study: string, seed: number): ScalarWriter {
    const w = this.writerFor(runDir(this.dir, study, this.profile, this.names.get(study) ?? null, seed));
    this.used.add(w);
    return w;
  }

  /** A progress tick's streamed values, at step = iterations done. */
  event(e: RunEvent): void {
    if (e.kind !== 'progress' || !e.values) return;
    const w = this.writer(e.study, e.seed);
    for (const [series, y] of Object.entries(e.values)) if (Number.isFinite(y)) w.scalar(`streamed/${series}`, y, e.done);
  }

  /** A finished study's curves, seed by seed; then everything is flushed to disk. */
  finished(study: AnyStudy, result: StudyResult): void {
    const typed = typedResult(study, result);
    for (const run of typed.runs) {
      const w = this.writer(study.name, run.seed);
      for (const [tag, value, step] of curveScalars(study.curves(run, typed.config))) w.scalar(tag, value, step);
    }
    this.flush();
  }

  flush(): void {
    for (const w of this.used) w.flush();
  }
}
