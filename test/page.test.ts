/**
 * The interactive page (src/page.ts), built by the figures command from the fixtures and driven
 * in a real headless Chromium (Debian's chromium through playwright-core): every chart renders,
 * no console errors and no network, a tooltip shows the exact value of a known point, a legend
 * click hides a series, the wheel zooms the x axis, named runs are overlaid; a screenshot is saved.
 * Without /usr/bin/chromium the browser part is skipped with one line (under CI=true it fails).
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { figuresCli, figuresFor } from '../src/cli/figures.js';
import { interactive } from '../src/page.js';
import { packSpecData, UNPACK_JS } from '../src/page-data.js';
import { readResult } from '../src/results/store.js';
import { STUDIES } from '../experiments/index.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'results');
/** Debian's chromium; CHROMIUM_PATH points elsewhere (a missing path shows the skip, or the failure under CI). */
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const HAVE_BROWSER = existsSync(CHROMIUM);
const MUST_RUN = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
if (!HAVE_BROWSER && !MUST_RUN) console.warn(`page.test.ts: browser test skipped, no ${CHROMIUM}: enable it with \`apt-get install chromium\``);

const dir = mkdtempSync(join(tmpdir(), 'page-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The fixtures, plus two named runs of S2 (to be overlaid on the runs page), drawn by the figures command. */
async function buildPages(): Promise<void> {
  for (const f of readdirSync(FIXTURES)) copyFileSync(join(FIXTURES, f), join(dir, f));
  const s2 = JSON.parse(readFileSync(join(FIXTURES, 'optimizers-mnist.json'), 'utf8'));
  mkdirSync(join(dir, 'runs'));
  for (const [name, lr] of [['quick-aaaa0001', 0.05], ['quick-aaaa0002', 0.1]] as const) {
    const run = { ...s2, name, config: { ...s2.config, lr: { ...s2.config.lr, sgd: lr } }, overrides: { 'lr.sgd': [s2.config.lr.sgd, lr] } };
    writeFileSync(join(dir, 'runs', `optimizers-mnist.${name}.json`), JSON.stringify(run));
  }
  // --no-rejudge: the fixtures' claims are drawn as written (re-judging would replace them by the studies' own).
  expect(await figuresCli(['--out', dir, '--format', 'svg', '--csv', '--no-rejudge'])).toBe(0);
}

describe('the page is built offline from our own dependencies', () => {
  beforeAll(buildPages);

  it('writes index.html (and runs/index.html) with vega inlined, no script from the network', () => {
    for (const page of ['index.html', 'runs/index.html']) {
      const html = readFileSync(join(dir, page), 'utf8');
      expect(html).not.toMatch(/<script[^>]+src=/);
      expect(html).not.toMatch(/<link[^>]+href="https?:/);
      expect(html).toContain('vega-embed (inlined from node_modules)');
    }
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    expect(html).toContain('<td>FAILS</td><td>fixture claim he-fastest');
    expect(html).toContain('he = 0.3; xavier = 0.28');
    expect(html).toContain('href="optimizers-mnist.json"');
    expect(html).toContain('href="figures/optimizers-mnist.csv"');
  });

  it('makes a spec interactive without changing it: legend selection, opacity, zoom, hover points', () => {
    const spec = figuresFor(readResult(join(FIXTURES, 'optimizers-mnist.json')))[0]!.spec;
    const before = JSON.stringify(spec);
    const out = JSON.stringify(interactive(spec));
    expect(JSON.stringify(spec)).toBe(before);
    expect(out).toContain('"bind":"legend"');
    expect(out).toContain('"bind":"scales"');
    expect(out).toContain('"opacity":{"condition":{"param":"series1","value":1},"value":0}');
    expect(out).toContain('"tooltip":{"content":"data"}');
  });
});

describe('the page packs figure data by column', () => {
  // The browser's unpacker, evaluated from the very text the page carries.
  const unpackData = new Function(`${UNPACK_JS}; return unpackData;`)() as (spec: unknown) => unknown;
  const figures = join(import.meta.dirname, '..', 'results', 'figures');

  it('gives back every committed figure spec exactly, and packs the large tables', () => {
    let packed = 0;
    for (const f of readdirSync(figures).filter((n) => n.endsWith('.vl.json'))) {
      const spec = JSON.parse(readFileSync(join(figures, f), 'utf8'));
      const onPage = JSON.parse(JSON.stringify(packSpecData(spec)));
      if (JSON.stringify(onPage).includes('"packedRows"')) packed++;
      expect(unpackData(onPage), f).toEqual(spec);
    }
    expect(packed).toBeGreaterThan(5);
  });

  it('leaves tables it cannot rebuild exactly as rows: rows with other keys, short tables', () => {
    const mixed = Array.from({ length: 60 }, (_, i) => (i === 7 ? { a: i } : { a: i, b: 'x' }));
    const short = [{ a: 1, b: 'x' }];
    expect(packSpecData({ data: { values: mixed } })).toEqual({ data: { values: mixed } });
    expect(packSpecData({ data: { values: short } })).toEqual({ data: { values: short } });
    const rows = Array.from({ length: 60 }, (_, i) => ({ s: i % 3 === 0 ? 'p' : 'q', n: i / 7, z: null }));
    const onPage = packSpecData({ layer: [{ data: { values: rows } }] });
    expect(JSON.stringify(onPage)).toContain('"levels":["p","q"]');
    expect(unpackData(JSON.parse(JSON.stringify(onPage)))).toEqual({ layer: [{ data: { values: rows } }] });
  });
});

interface HoverPoint {
  datum: Record<string, unknown>;
  x: number;
  y: number;
}

describe.skipIf(!HAVE_BROWSER && !MUST_RUN)('the page in headless Chromium', () => {
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];
  const profile = mkdtempSync(join(tmpdir(), 'page-test-chromium-'));

  beforeAll(async () => {
    if (!HAVE_BROWSER) throw new Error(`CI is set but ${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does this)`);
    if (!existsSync(join(dir, 'index.html'))) await buildPages();
    const { chromium } = await import('playwright-core');
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 900 },
    });
    // Offline: any request that is not a local file is refused and recorded.
    await context.route(/^(?!file:|data:|blob:)/, (route) => {
      problems.push(`network request: ${route.request().url()}`);
      return route.abort();
    });
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  });
  afterAll(async () => {
    await context?.close();
    rmSync(profile, { recursive: true, force: true });
  });

  const open = async (file: string): Promise<void> => {
    await page.goto(`file://${join(dir, file)}`);
    await page.evaluate(() => (window as unknown as { pageReady: Promise<unknown> }).pageReady);
  };

  /** Marks drawn per chart: SVG path, line and text elements under the chart's <svg>. */
  const drawn = (): Promise<Record<string, number>> =>
    page.evaluate(() =>
      Object.fromEntries([...document.querySelectorAll<HTMLElement>('.chart')].map((el) => [el.dataset.figure!, el.querySelector('svg.marks')?.querySelectorAll('path, line, text').length ?? 0])),
    );

  it('draws every study\'s figures, with no console error and no network request', async () => {
    await open('index.html');
    const expected = STUDIES.flatMap((s) => figuresFor(readResult(join(FIXTURES, `${s.name}.json`))).map((f) => f.name));
    const counts = await drawn();
    expect(Object.keys(counts).sort()).toEqual([...expected].sort());
    for (const name of expected) expect(counts[name], name).toBeGreaterThan(20);
    expect(problems).toEqual([]);
  });

  it('shows the exact value of a point in a tooltip on hover', async () => {
    await open('index.html');
    await page.locator('[data-figure="optimizers-mnist"]').scrollIntoViewIfNeeded();
    // The invisible hover points of S2's chart, with where each is on screen; one with no other within 10 px.
    const points: HoverPoint[] = await page.evaluate(() => {
      const view = (window as unknown as { vegaViews: Record<string, any> }).vegaViews['optimizers-mnist']; // eslint-disable-line @typescript-eslint/no-explicit-any
      const out: HoverPoint[] = [];
      const visit = (mark: any): void => { // eslint-disable-line @typescript-eslint/no-explicit-any
        for (const item of mark.items ?? []) {
          if (mark.marktype === 'symbol' && item.opacity === 0 && item.tooltip && item._svg) {
            const r = item._svg.getBoundingClientRect();
            out.push({ datum: { ...item.datum }, x: r.x + r.width / 2, y: r.y + r.height / 2 });
          }
          for (const child of item.items ?? []) visit(child);
        }
      };
      visit(view.scenegraph().root);
      return out;
    });
    expect(points.length).toBeGreaterThan(20);
    const plot = await page.locator('[data-figure="optimizers-mnist"] svg.marks').boundingBox();
    const isolated = points.filter((p) => p.y > plot!.y + 40 && p.y < plot!.y + plot!.height - 60 && p.x > plot!.x + 60 && points.every((q) => q === p || Math.hypot(q.x - p.x, q.y - p.y) > 10));
    expect(isolated.length).toBeGreaterThan(0);
    const target = isolated[Math.floor(isolated.length / 2)]!;
    // The value the figure was drawn from, read in Node from the spec, not from the browser.
    const rows = (figuresFor(readResult(join(FIXTURES, 'optimizers-mnist.json')))[0]!.spec as unknown as { data: { values: Record<string, unknown>[] } }).data.values;
    const row = rows.find((r) => r.curve === target.datum.curve && r.iteration === target.datum.iteration)!;
    expect(row).toBeDefined();
    await page.mouse.move(target.x, target.y);
    const tooltip = page.locator('#vg-tooltip-element.visible');
    await tooltip.waitFor({ timeout: 5000 });
    const text = await tooltip.innerText();
    expect(text).toContain(String(row.curve));
    expect(text).toMatch(new RegExp(`iteration\\s+${row.iteration}\\b`));
    expect(text).toMatch(new RegExp(`loss\\s+${String(row.loss).replace('.', '\\.')}\\b`));
    const shot = process.env.PAGE_SCREENSHOT ?? join(tmpdir(), 'page-screenshot.png');
    await page.locator('[data-figure="optimizers-mnist"]').screenshot({ path: shot });
    console.log(`page.test.ts: screenshot of S2's chart with its tooltip: ${shot}`);
  });

  it('hides the other series on a legend click, and zooms the x axis on the wheel', async () => {
    await open('index.html');
    await page.locator('[data-figure="optimizers-mnist"]').scrollIntoViewIfNeeded();
    const state = () =>
      page.evaluate(() => {
        const view = (window as unknown as { vegaViews: Record<string, any> }).vegaViews['optimizers-mnist']; // eslint-disable-line @typescript-eslint/no-explicit-any
        const opacity: Record<string, number> = {};
        let label: { x: number; y: number } | null = null;
        const visit = (mark: any): void => { // eslint-disable-line @typescript-eslint/no-explicit-any
          for (const item of mark.items ?? []) {
            if (mark.marktype === 'line' && mark.role === 'mark' && item.datum?.curve) opacity[item.datum.curve] = item.opacity ?? 1;
            if (mark.role === 'legend-label' && item.text === 'Momentum') {
              const r = item._svg.getBoundingClientRect();
              label = { x: r.x + r.width / 2, y: r.y + r.height / 2 };
            }
            for (const child of item.items ?? []) visit(child);
          }
        };
        visit(view.scenegraph().root);
        return { opacity, label: label as { x: number; y: number } | null, x: view.scale('x').domain() as number[] };
      });
    const before = await state();
    expect(Object.values(before.opacity).every((o) => o === 1)).toBe(true);
    expect(before.label).not.toBeNull();
    await page.mouse.click(before.label!.x, before.label!.y);
    await page.waitForTimeout(200);
    const after = await state();
    expect(after.opacity.Momentum).toBe(1);
    expect(after.opacity.SGD).toBe(0);
    expect(after.opacity.Adam).toBe(0);

    const box = (await page.locator('[data-figure="optimizers-mnist"] svg.marks').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.4, box.y + box.height * 0.5);
    await page.mouse.wheel(0, -400);
    await page.waitForTimeout(300);
    const zoomed = await state();
    expect(zoomed.x[1]! - zoomed.x[0]!).toBeLessThan(before.x[1]! - before.x[0]!);
    expect(problems).toEqual([]);
  });

  it('overlays the named runs of one study on the runs page', async () => {
    await open('runs/index.html');
    const counts = await drawn();
    expect(counts['compare-optimizers-mnist']).toBeGreaterThan(20);
    expect(counts['quick-aaaa0001.optimizers-mnist']).toBeGreaterThan(20);
    expect(problems).toEqual([]);
  });
});
