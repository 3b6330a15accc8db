/**
 * Watching a run, as the experiment command sets it up from its flags: the live page
 * (--live, --live-port, --live-keep) and TensorBoard scalars (--tensorboard DIR). Both see the
 * run's events (the sink the command's console sink is wrapped in) and each study's start and
 * end; a study that ran in a worker process is read back from the result file it wrote.
 */
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { fanOut, type RunSink } from '../exec/events.js';
import type { RunPlan } from '../exec/plan.js';
import { formatNumbers } from '../format.js';
import type { Profile, StudyResult } from '../results/schema.js';
import { readResult, resultFileName } from '../results/store.js';
import type { AnyStudy } from '../study.js';
import { figuresFor } from '../cli/figures.js';
import type { LiveResult } from './model.js';
import { buildLivePage, pageSpec } from './page.js';
import { startLive, type LiveServer } from './server.js';
import { TensorboardLog, tensorflowWriters } from './tensorboard.js';

export interface WatchFlags {
  live: boolean;
  livePort?: number;
  liveKeep: boolean;
  tensorboard?: string;
}

export interface WatchSetting {
  flags: WatchFlags;
  plans: RunPlan[];
  profile: Profile;
  outDir: string;
  /** The backend this process runs, and why others were skipped (for the one line --tensorboard says without it). */
  backend: { name: string; why: string };
  studies: AnyStudy[];
  /** A shard writes no result: nothing finished to log. */
  sharded: boolean;
  /** What the user typed, for the page's title. */
  command: string;
}

/** How a study ended: its result (here, or in its file), or the line saying why it failed. */
export type StudyEnd = { result: StudyResult; path: string } | { error: string } | 'in its file';

export interface Watch {
  /** `base` and the watchers, as one sink. */
  sink(base: RunSink): RunSink;
  started(plan: RunPlan): void;
  ended(plan: RunPlan, end: StudyEnd): void;
  /** The run is over: the logs flushed, the page told (and stopped, unless --live-keep). */
  finish(): Promise<void>;
}

/** Flag combinations that make no sense, before any work. */
export function checkWatchFlags(f: WatchFlags, sharded: boolean): void {
  if (!f.live && (f.livePort !== undefined || f.liveKeep)) throw new UserError(`--${f.livePort !== undefined ? 'live-port' : 'live-keep'} goes with --live (the live page)`);
  if (f.livePort !== undefined && (!Number.isInteger(f.livePort) || f.livePort < 0 || f.livePort > 65535)) throw new UserError(`--live-port must be a port number 0..65535 (0: a free one), not ${f.livePort}`);
  if (f.tensorboard !== undefined && f.tensorboard.trim() === '') throw new UserError('--tensorboard needs a folder: --tensorboard DIR');
  if (f.tensorboard !== undefined && sharded) throw new UserError('--tensorboard logs finished studies, and a shard finishes none (its share is merged later): run it without --shard');
}

/** What the page shows of a finished study. */
function liveResult(study: AnyStudy, studies: AnyStudy[], result: StudyResult, path: string): LiveResult {
  let figures: LiveResult['figures'] = [];
  try {
    figures = figuresFor(result, studies).map((f) => ({ name: f.name, caption: f.caption, spec: pageSpec(f.spec) }));
  } catch (err) {
    process.stderr.write(`live: ${study.name}'s figures could not be drawn (${err instanceof Error ? err.message : String(err)}); its claims are shown\n`);
  }
  const claims = result.claims.map((c) => ({ verdict: c.verdict, text: c.text, reason: c.reason ?? null, numbers: formatNumbers(c.numbers) }));
  return { study: study.name, file: path, claims, figures };
}

/** Starts what the flags ask for (null: nothing); a bad flag or a missing backend stops the run before it starts. */
export async function startWatching(s: WatchSetting): Promise<Watch | null> {
  checkWatchFlags(s.flags, s.sharded);
  if (!s.flags.live && s.flags.tensorboard === undefined) return null;
  let tb: TensorboardLog | null = null;
  if (s.flags.tensorboard !== undefined) {
    if (s.backend.name !== 'tensorflow') {
      throw new UserError(`--tensorboard writes through tfjs-node's summary writer, which needs the tensorflow backend; this run has ${s.backend.name}${s.backend.why ? ` (${s.backend.why})` : ''}: run \`npm run native\` once, or leave out --tensorboard`);
    }
    tb = new TensorboardLog(s.flags.tensorboard, s.profile, new Map(s.plans.map((p) => [p.study.name, p.name])), await tensorflowWriters());
    process.stdout.write(`tensorboard: scalars go to ${s.flags.tensorboard}/<study>.${s.profile}[.<name>]/seed-<n> (tensorboard --logdir ${s.flags.tensorboard})\n`);
  }
  let live: LiveServer | null = null;
  if (s.flags.live) {
    live = await startLive(s.flags.livePort ?? 0, buildLivePage(s.command));
    live.plan(s.plans.map((p) => ({ name: p.study.name, title: `${p.study.id} ${p.study.name}${p.name ? ` (run ${p.name})` : ''}` })));
    process.stdout.write(`live: watch the run at ${live.url} (${s.flags.liveKeep ? 'stays up after the run until Ctrl-C' : 'stops when the run ends; --live-keep keeps it up'})\n`);
  }
  const watchers: RunSink[] = [...(live ? [live.sink] : []), ...(tb ? [(e: Parameters<RunSink>[0]) => tb!.event(e)] : [])];
  return {
    sink: (base) => fanOut(base, ...watchers),
    started: (plan) => live?.started(plan.study.name),
    ended(plan, end) {
      if (end !== 'in its file' && 'error' in end) return live?.ended(plan.study.name, end.error, null);
      const path = end === 'in its file' ? join(s.outDir, resultFileName(plan.study.name, s.profile, plan.name)) : end.path;
      const result = end === 'in its file' ? readResult(path) : end.result;
      tb?.finished(plan.study, result);
      live?.ended(plan.study.name, null, liveResult(plan.study, s.studies, result, path));
    },
    async finish() {
      tb?.flush();
      await live?.finish(s.flags.liveKeep);
    },
  };
}
