/**
 * Progress for long loops, on stderr. On a terminal: a cli-progress bar with ETA. Elsewhere
 * (CI logs, pipes): a plain line every 10% so a log shows the run is alive without flooding.
 * Loops expected to finish within a few seconds show nothing.
 */
import cliProgress from 'cli-progress';
import type { ProgressTicker } from '../study.js';

const SILENT: ProgressTicker = { tick() {}, done() {} };

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

export function makeProgress(label: string, total: number, opts: { quiet?: boolean; lines?: boolean } = {}): ProgressTicker {
  if (opts.quiet || total <= 0) return SILENT;
  const stream = process.stderr;
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
            { format: `${label} [{bar}] {percentage}% {value}/{total} | ETA {eta_formatted} | {duration_formatted}`, stream, hideCursor: true, etaBuffer: 50 },
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
