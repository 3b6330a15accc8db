import { execFile } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

export interface CliOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs one of the suite's commands as a user would, or a script given by its absolute path: a separate process, stdin closed.
 * Asynchronous, so the test worker stays responsive while a run takes its time.
 */
export function runCli(script: string, args: string[], env: Record<string, string> = {}): Promise<CliOutcome> {
  return new Promise((resolve) => {
    const child = execFile(
      join(root, 'node_modules', '.bin', 'tsx'),
      [script.startsWith('/') ? script : join(root, 'src', 'cli', script), ...args],
      { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 600_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end();
  });
}
