/**
 * The console's view of a run's events (src/exec/events.ts), on stderr. A loop's progress: on a
 * terminal, a cli-progress bar with ETA; elsewhere (CI logs, pipes, several studies at once), a
 * plain line every 10% so a log shows the run is alive without flooding. Loops expected to
 * finish within a few seconds show nothing. Log lines as they come.
 */
import cliProgress from 'cli-progress';
import type { RunSink } from '../exec/events.js';
import type { ProgressTicker } from '../study.js';

const SILENT: ProgressTicker = { tick() {}, done() {} };

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

interface ProgressOptions {
  quiet?: boolean;
  /** Lines, never a bar. */
  lines?: boolean;
  /** Where the lines go (default: stderr as they are). */
  write?: (text: string) => void;
}

export function makeProgress(label: string, total: number, opts: ProgressOptions = {}): ProgressTicker {
  if (opts.quiet || total <= 0) return SILENT;
  const stream = opts.write ? { isTTY: false, write: opts.write } : process.stderr;
  const start = Date.now();
  let count = 0;
  // Several loops running at once (studies side by side in `all`) print lines, not bars.
  if (stream.isTTY && !opts.lines) {
    let bar: cliProgress.SingleBar | null = null;
    return {
      tick(n = 1) {
        count += n;
        // Start drawing only once the loop has run for a second: short loops stay quiet.
        if (!bar && Date.now() - start > 1000) {
          bar = new cliProgress.SingleBar(
            { format: `${label} [{bar}] {percentage}% {value}/{total} | ETA {eta_formatted} | {duration_formatted}`, stream: process.stderr, hideCursor: true, etaBuffer: 50 },
            cliProgress.Presets.shades_classic,
          );
          bar.start(total, count);
        }
        bar?.update(count);
      },
      done() {
        bar?.update(total);
        bar?.stop();
      },
    };
  }
  let nextReport = 0.1;
  return {
    tick(n = 1) {
      count += n;
      const frac = count / total;
      if (frac >= nextReport && frac < 1) {
        const elapsed = (Date.now() - start) / 1000;
        if (elapsed > 3) {
          const eta = (elapsed / count) * (total - count);
          stream.write(`  ${label}: ${Math.floor(frac * 100)}% (${count}/${total}), ${formatSeconds(elapsed)} elapsed, ETA ${formatSeconds(eta)}\n`);
        }
        while (nextReport <= frac) nextReport += 0.1;
      }
    },
    done() {
      const elapsed = (Date.now() - start) / 1000;
      if (elapsed > 3) stream.write(`  ${label}: done in ${formatSeconds(elapsed)}\n`);
    },
  };
}

/**
 * How the console shows a run:
 * - `alone`: one study in this process: bars on a terminal, log lines indented;
 * - `tagged`: several at once: lines, each loop's label and each log line after the study's
 *   name in brackets; what comes from a worker process, after the name and unindented.
 */
export type ConsoleStyle = 'alone' | 'tagged';

/** A sink that draws a run's events on the console. */
export function consoleSink(style: ConsoleStyle, opts: { quiet: boolean }): RunSink {
  const loops = new Map<string, { ticker: ProgressTicker; done: number }>();
  const err = (text: string) => process.stderr.write(text);
  return (event) => {
    const relayed = event.worker !== undefined;
    if (event.kind === 'log') {
      err(style === 'alone' ? `  ${event.line}\n` : `[${event.study}] ${relayed ? event.line.trim() : event.line}\n`);
      return;
    }
    if (event.kind !== 'progress') return;
    const key = `${event.worker ?? 0}:${event.loop}`;
    if (event.phase === 'start') {
      const ticker =
        style === 'alone'
          ? makeProgress(event.label, event.total, opts)
          : relayed
            ? makeProgress(event.label, event.total, { ...opts, write: (text) => err(`[${event.study}] ${text.trim()}\n`) })
            : makeProgress(`[${event.study}] ${event.label}`, event.total, { ...opts, lines: true });
      loops.set(key, { ticker, done: 0 });
      return;
    }
    const loop = loops.get(key);
    if (!loop) return;
    if (event.done > loop.done) loop.ticker.tick(event.done - loop.done);
    loop.done = event.done;
    if (event.phase === 'end') {
      loop.ticker.done();
      loops.delete(key);
    }
  };
}
