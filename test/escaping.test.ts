/**
 * Strings from result files and folders reach REPORT.md (Markdown) and index.html (HTML):
 * claim texts and reasons, the environment's strings, override keys and values, skipped files'
 * names and reasons, file names, study titles, captions. Here every such field holds hostile
 * text (a script end tag with an image that alerts, an HTML comment, backticks, pipes, line
 * breaks, a javascript: link); the Markdown is rendered as a renderer that allows HTML would
 * (markdown-it with html on) and both documents are opened in headless Chromium: no dialog, no
 * console error, no element or comment that the report did not put there, the text shown as
 * written.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import MarkdownIt from 'markdown-it';
import { afterAll, describe, expect, it } from 'vitest';
import { figuresFor } from '../src/cli/figures.js';
import { mdCode, mdText } from '../src/markdown.js';
import { buildPage, vendorScripts } from '../src/page.js';
import { buildReport, type ReportStudy } from '../src/report.js';
import { readResult } from '../src/results/store.js';
import type { StudyResult } from '../src/results/schema.js';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const HAVE_BROWSER = existsSync(CHROMIUM);
const MUST_RUN = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
const scratch = mkdtempSync(join(tmpdir(), 'escaping-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const HOSTILE = "</script><img src=x onerror=alert(1)> <!-- hidden? `tick` ``two`` a|b\n# not a heading [link](javascript:alert(2)) ![i](x) *em* _u_ &lt;b&gt; <b>bold</b> \\ end";
/** The same text as a line of a document shows it (a line break is a space there). */
const SHOWN = HOSTILE.replace(/\n/g, ' ');

const fixture = readResult(join(import.meta.dirname, 'fixtures', 'results', 'optimizer-paths.json'));
const hostileResult: StudyResult = {
  ...fixture,
  title: HOSTILE,
  startedAt: HOSTILE,
  environment: { ...fixture.environment, backend: HOSTILE, cpu: HOSTILE, platform: HOSTILE, tfjsVersion: HOSTILE, nodeVersion: HOSTILE, gitCommit: HOSTILE },
  overrides: { [HOSTILE]: [HOSTILE, { [HOSTILE]: HOSTILE }] },
  claims: fixture.claims.map((c) => ({ ...c, text: HOSTILE, reason: HOSTILE, numbers: { [HOSTILE]: HOSTILE } })),
};
const study: ReportStudy = { name: 'optimizer-paths', id: 'S1', title: HOSTILE, description: HOSTILE };
const figures = figuresFor(fixture).map((f) => ({ ...f, caption: HOSTILE }));
const FILE = 'weird `name` </script>.json';
const skipped = [{ file: `runs/${HOSTILE}.json`, reason: HOSTILE }];

const markdown = buildReport({
  kind: 'lecture',
  studies: [study],
  entries: [{ file: FILE, result: hostileResult, figures: figures.map((f) => ({ png: `figures/${f.name}.png`, svg: `figures/${f.name}.svg`, caption: f.caption })) }],
  skipped,
});
const rendered = new MarkdownIt({ html: true }).render(markdown);
const page = buildPage(
  { kind: 'lecture', studies: [study], entries: [{ file: FILE, result: hostileResult, figures: figures.map((f) => ({ ...f, links: [{ label: 'SVG', href: `figures/${f.name}.svg` }] })) }], comparisons: [], skipped },
  vendorScripts(),
);

describe('Markdown escaping', () => {
  it('inline text and code spans keep any string as text', () => {
    const md = new MarkdownIt({ html: true });
    expect(md.renderInline(mdText(HOSTILE))).toBe(md.utils.escapeHtml(SHOWN));
    for (const s of [FILE, '`', '``a`', 'a ` b', HOSTILE]) expect(md.renderInline(mdCode(s))).toBe(`<code>${md.utils.escapeHtml(s.replace(/\n/g, ' '))}</code>`);
  });

  it('REPORT.md rendered with HTML allowed: no script, comment, foreign image or handler; the text as written', () => {
    expect(rendered).not.toMatch(/<script|<!--|<img[^>]*onerror|<b>bold|href="javascript/i);
    // The only images are the figures', the only headings the report's own.
    expect([...rendered.matchAll(/<img [^>]*>/g)].map((m) => m[0].match(/src="([^"]*)"/)![1])).toEqual(figures.map((f) => `figures/${f.name}.png`));
    expect([...rendered.matchAll(/<h(\d)>/g)].map((m) => m[1])).toEqual(['1', '2', '2']);
    // Every claim row has its three cells; the hostile text is shown whole in them.
    const rows = [...rendered.matchAll(/<tr>\n((?:<td>.*<\/td>\n)+)<\/tr>/g)].map((m) => (m[1]!.match(/<td>/g) ?? []).length);
    expect(rows.filter((n) => n === 3)).toHaveLength(fixture.claims.length);
    expect(rendered).toContain(new MarkdownIt().utils.escapeHtml(SHOWN));
    expect(rendered).toContain(`<code>${new MarkdownIt().utils.escapeHtml(`runs/${SHOWN}.json`)}</code>`);
  });
});

describe('the command that makes a run again', () => {
  it('quotes an override for the shell: the shell reads back the very setting', () => {
    const code = rendered.match(/<code>(npm run experiment -- [^<]*)<\/code>/)![1]!;
    const unescaped = code.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
    const word = unescaped.slice(unescaped.indexOf(' --set ') + ' --set '.length);
    const read = execFileSync('sh', ['-c', `printf '%s' ${word}`], { encoding: 'utf8' });
    expect(read).toBe(`${SHOWN}=${JSON.stringify({ [HOSTILE]: HOSTILE })}`);
  });
});

describe.skipIf(!HAVE_BROWSER && !MUST_RUN)('both documents in headless Chromium', () => {
  it('no dialog, no console error, no element the report did not make', async () => {
    if (!HAVE_BROWSER) throw new Error(`CI is set but ${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does this)`);
    writeFileSync(join(scratch, 'report.html'), `<!DOCTYPE html><html><head><meta charset="utf-8"><title>report</title></head><body>${rendered}</body></html>`);
    writeFileSync(join(scratch, 'index.html'), page);
    // The figures' images, so the only images on the report load (a 1x1 PNG each).
    mkdirSync(join(scratch, 'figures'));
    for (const f of figures) writeFileSync(join(scratch, 'figures', `${f.name}.png`), Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64'));
    const { chromium } = await import('playwright-core');
    const profile = mkdtempSync(join(scratch, 'chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const problems: string[] = [];
    await context.route(/^(?!file:|data:|blob:)/, (route) => {
      problems.push(`network request: ${route.request().url()}`);
      return route.abort();
    });
    try {
      const tab = await context.newPage();
      tab.on('dialog', (d) => {
        problems.push(`dialog: ${d.message()}`);
        void d.dismiss();
      });
      tab.on('console', (m) => {
        if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
      });
      tab.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      tab.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
      const census = () =>
        tab.evaluate(() => {
          const comments: string[] = [];
          const walk = document.createTreeWalker(document, NodeFilter.SHOW_COMMENT);
          while (walk.nextNode()) comments.push(walk.currentNode.textContent ?? '');
          const handlers = [...document.querySelectorAll('*')].filter((el) => [...el.attributes].some((a) => a.name.startsWith('on'))).length;
          const imgs = [...document.querySelectorAll('img')].map((i) => i.getAttribute('src'));
          const scripts = document.querySelectorAll('script:not([type="application/json"])').length;
          const jsLinks = [...document.querySelectorAll('a')].filter((a) => /^\s*javascript:/i.test(a.getAttribute('href') ?? '')).length;
          return { comments, handlers, imgs, scripts, jsLinks, text: document.body.textContent ?? '' };
        });

      await tab.goto(`file://${join(scratch, 'report.html')}`);
      const md = await census();
      expect(md.comments).toEqual([]);
      expect(md.handlers).toBe(0);
      expect(md.scripts).toBe(0);
      expect(md.jsLinks).toBe(0);
      expect(md.imgs).toEqual(figures.map((f) => `figures/${f.name}.png`));
      expect(md.text).toContain(SHOWN);

      await tab.goto(`file://${join(scratch, 'index.html')}`);
      await tab.evaluate(() => (window as unknown as { pageReady: Promise<unknown> }).pageReady);
      const html = await census();
      expect(html.comments).toEqual([]);
      expect(html.handlers).toBe(0);
      expect(html.imgs).toEqual([]);
      expect(html.scripts).toBe(vendorScripts().length + 1);
      expect(html.jsLinks).toBe(0);
      expect(html.text).toContain(HOSTILE.split('\n')[0]);
      // The page drew its figure from the spec in spite of the hostile strings around it.
      expect(await tab.evaluate(() => Object.keys((window as unknown as { vegaViews: object }).vegaViews).length)).toBe(figures.length);
      await tab.waitForTimeout(300); // an onerror would fire on the image's failed load
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);
});

