/**
 * `--live` (src/live/): the page of a real quick run, driven in headless Chromium (Debian's
 * chromium through playwright-core): the curve gains points while the run trains, the finished
 * claims and figures appear, no console error, every request stays on the loopback server; the
 * server answers its fixed routes only; and watching leaves the run's numbers as they are.
 * Without /usr/bin/chromium the browser part is skipped with one line (under CI it fails).
 * LIVE_SCREENSHOT=<file> saves the page as the run finished (README's docs/live-screenshot.png).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';

const root = join(import.meta.dirname, '..');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const HAVE_BROWSER = existsSync(CHROMIUM);
const MUST_RUN = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
if (!HAVE_BROWSER && !MUST_RUN) console.warn(`live.test.ts: browser test skipped, no ${CHROMIUM}: enable it with \`apt-get install chromium\``);

const dir = mkdtempSync(join(tmpdir(), 'live-test-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill();
  rmSync(dir, { recursive: true, force: true });
});

/** A quick S2 run, shortened; `--live` and others added by the caller. */
const S2 = (out: string, iterations: number, ...more: string[]) => ['optimizers-mnist', '--profile', 'quick', '--out', join(dir, out), '--set', `iterations=${iterations}`, '--set', 'tail=20', ...more];

/** Starts the command; resolves with the live page's address once it is printed, and the run's end. */
function startLive(args: string[], script = join(root, 'src', 'cli', 'experiment.ts')): { url: Promise<string>; exit: Promise<{ code: number | null; output: string }>; child: ChildProcess } {
  const child = spawn(join(root, 'node_modules', '.bin', 'tsx'), [script, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  const url = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /live: watch the run at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output);
      if (m) resolve(m[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', () => reject(new Error(`the run ended before printing its address:\n${output}`)));
  });
  const exit = new Promise<{ code: number | null; output: string }>((resolve) => child.on('exit', (code) => resolve({ code, output })));
  return { url, exit, child };
}

/** The test's toy studies (units in worker processes, milliseconds of work) run with --live-keep: the finished run's state, then Ctrl-C. */
async function toyState(args: string[]): Promise<{ studies: { name: string; status: string; unitsDone: number }[]; results: { study: string; claims: unknown[]; figures: unknown[] }[]; ended: boolean }> {
  const run = startLive([...args, '--profile', 'quick', '--live', '--live-keep'], join(import.meta.dirname, 'helpers', 'experiment-with-toys.ts'));
  const url = await run.url;
  for (let i = 0; i < 600; i++) {
    const state = await (await fetch(new URL('state', url))).json();
    if (state.ended) {
      run.child.kill('SIGINT');
      const { code, output } = await run.exit;
      expect(code, output).toBe(0);
      return state;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the run did not end within a minute');
}

/** A GET with the Host header given (fetch does not let a caller set it). */
function statusWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
    req.end();
  });
}

/** A result file without what differs from run to run: wall-clock times and when it started. */
function numbersOf(file: string): unknown {
  const r = JSON.parse(readFileSync(file, 'utf8'));
  delete r.startedAt;
  delete r.durationMs;
  for (const run of r.runs) {
    delete run.durationMs;
    delete run.timings;
  }
  return r;
}

describe('the live server', () => {
  it('serves fixed routes only, to its loopback name only, stays up with --live-keep until Ctrl-C, and leaves the numbers as they are', { timeout: 120_000 }, async () => {
    // The same quick run without --live, at the same time: its result file must be the same.
    const plain = runCli('experiment.ts', S2('plain', 60, '--quiet'));
    const run = startLive(S2('watched', 60, '--quiet', '--live', '--live-keep'));
    const url = await run.url;
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self'");
    const html = await page.text();
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).toContain('vega-embed (inlined from node_modules)');
    for (const path of ['../../etc/passwd', '%2e%2e/package.json', 'src/live/page.ts', 'node_modules/vega/package.json', 'state/..%2f..%2fpackage.json']) expect((await fetch(url + path)).status, path).toBe(404);
    expect((await fetch(url, { method: 'POST' })).status).toBe(405);
    expect(await statusWithHost(url, 'example.com')).toBe(403);
    expect(await statusWithHost(url, new URL(url).host)).toBe(200);
    let state = { ended: false, results: [] as { claims: unknown[] }[] };
    for (let i = 0; i < 600 && !state.ended; i++) {
      await new Promise((r) => setTimeout(r, 100));
      state = await (await fetch(new URL('state', url))).json();
    }
    expect(state.ended).toBe(true);
    expect(state.results[0]!.claims.length).toBeGreaterThan(0);
    run.child.kill('SIGINT');
    const { code, output } = await run.exit;
    expect(code, output).toBe(0);
    await expect(fetch(url)).rejects.toThrow();
    const done = await plain;
    expect(done.code, done.stderr).toBe(0);
    const name = (done.stdout.match(/runs\/(optimizers-mnist\.quick-[0-9a-f]+\.json)/) ?? [])[1]!;
    expect(name).toBeTruthy();
    expect(numbersOf(join(dir, 'watched', 'runs', name))).toEqual(numbersOf(join(dir, 'plain', 'runs', name)));
  });
});

describe('the live state of runs spread over worker processes', () => {
  it('has each study\'s units and, at its end, its claims and figures; a shard streams its own share', { timeout: 90_000 }, async () => {
    // Both at once: most of their time is starting processes.
    const [all, shard] = await Promise.all([
      toyState(['toy-walks', 'toy-stages', '--workers', '2', '--out', join(dir, 'toys')]),
      // Seed 0 of two, run whole in a worker process: its units' events come through the pool.
      toyState(['toy-stages', '--seeds', '2', '--shard', '1/2', '--workers', '2', '--out', join(dir, 'shard')]),
    ]);
    expect(all.studies.map((s) => [s.name, s.status, s.unitsDone]).sort()).toEqual([['toy-stages', 'done', 5], ['toy-walks', 'done', 6]]);
    expect(all.results.map((r) => [r.study, r.claims.length, r.figures.length]).sort()).toEqual([['toy-stages', 1, 1], ['toy-walks', 1, 1]]);
    expect(shard.studies.map((s) => [s.name, s.unitsDone])).toEqual([['toy-stages', 5]]);
    expect(shard.results).toEqual([]);
  });
});

describe.skipIf(!HAVE_BROWSER && !MUST_RUN)('the live page in headless Chromium', () => {
  it('draws the curve as it grows, then the claims and figures; no console error, no request off the loopback server', { timeout: 90_000 }, async () => {
    if (!HAVE_BROWSER) throw new Error(`CI is set but ${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does this)`);
    const { chromium } = await import('playwright-core');
    const profile = mkdtempSync(join(tmpdir(), 'live-test-chromium-'));
    const context: BrowserContext = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 1000 },
    });
    const problems: string[] = [];
    const requests: string[] = [];
    context.on('request', (r) => requests.push(r.url()));
    await context.route(/^(?!http:\/\/127\.0\.0\.1:\d+\/|data:|blob:|about:)/, (route) => {
      problems.push(`request off the loopback server: ${route.request().url()}`);
      return route.abort();
    });
    try {
      const page = await context.newPage();
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
      // Long enough that the page, opened as soon as the address is printed, sees the loop while it trains.
      const run = startLive(S2('browser', 500, '--live'));
      const url = await run.url;
      await page.goto(url);
      const drawn = () => page.evaluate(() => Object.values((window as unknown as { liveDrawn: Record<string, number> }).liveDrawn).reduce((a, b) => a + b, 0));
      const training = () => page.evaluate(() => [...document.querySelectorAll('table.loops td:last-child')].some((td) => td.textContent!.startsWith('ETA')));
      // Points drawn while the loop is still going, then more of them, still before it ends.
      await page.waitForFunction(() => Object.values((window as unknown as { liveDrawn: Record<string, number> }).liveDrawn).reduce((a, b) => a + b, 0) > 0, undefined, { timeout: 30_000 });
      const first = await drawn();
      expect(await training()).toBe(true);
      await page.waitForFunction((n) => Object.values((window as unknown as { liveDrawn: Record<string, number> }).liveDrawn).reduce((a, b) => a + b, 0) > n, first, { timeout: 10_000 });
      const later = await drawn();
      const stillTraining = await training();
      expect(later).toBeGreaterThan(first);
      expect(stillTraining, `the loop finished before a second batch of points was seen (${first} -> ${later})`).toBe(true);
      expect(await page.locator('#overview').textContent()).toMatch(/\d+ of 500 steps/);
      // The finished study: its claims with their verdicts, and its figure drawn.
      await page.waitForSelector('table.claims tbody tr', { timeout: 60_000 });
      const verdicts = await page.locator('table.claims tbody tr td:first-child').allTextContents();
      expect(verdicts.length).toBeGreaterThan(0);
      for (const v of verdicts) expect(['holds', 'FAILS', 'inconclusive']).toContain(v);
      await page.waitForFunction(() => Object.keys((window as unknown as { vegaViews: Record<string, unknown> }).vegaViews).some((k) => !k.includes(':')), undefined, { timeout: 20_000 });
      await page.waitForFunction(() => (window as unknown as { liveEnded: boolean }).liveEnded, undefined, { timeout: 20_000 });
      expect(await page.locator('#overview').textContent()).toContain('done');
      if (process.env.LIVE_SCREENSHOT) await page.screenshot({ path: process.env.LIVE_SCREENSHOT, fullPage: false });
      const { code, output } = await run.exit;
      expect(code, output).toBe(0);
      expect(problems).toEqual([]);
      expect(requests.length).toBeGreaterThan(1);
      expect(requests.filter((r) => !r.startsWith(url) && !/^(data|blob|about):/.test(r))).toEqual([]);
    } finally {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });
});
