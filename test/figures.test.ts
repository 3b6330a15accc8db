/**
 * Figures: the Kaiser smoothing against numpy's numbers, every study's figure spec compiling
 * and rendering to a non-empty SVG and PNG from a small fixture (also with two seeds), the
 * figures command skipping foreign and malformed files by name, and the report's content.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { collectResults, figuresCli, figuresFor, pageFor, planFigures, reportFor } from '../src/cli/figures.js';
import { renderSpec } from '../src/plot/render.js';
import { besselI0, kaiserWindow, smoothKaiser } from '../src/plot/smooth.js';
import { readFontWidths, textWidth } from '../src/plot/text-width.js';
import { buildReport, formatValue } from '../src/report.js';
import type { StudyResult } from '../src/results/schema.js';
import { readResult } from '../src/results/store.js';
import { STUDIES } from '../experiments/index.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'results');
const fixture = (study: string): StudyResult => readResult(join(FIXTURES, `${study}.json`));
const tmp: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'figures-test-'));
  tmp.push(d);
  return d;
};
afterAll(() => {
  for (const d of tmp) rmSync(d, { recursive: true, force: true });
});

describe('Kaiser smoothing', () => {
  it('I0 matches known values', () => {
    expect(besselI0(0)).toBe(1);
    expect(besselI0(0.5)).toBeCloseTo(1.0634833707413234, 14);
    expect(besselI0(2)).toBeCloseTo(2.279585302336067, 14);
    expect(besselI0(10) / 2815.716628466254).toBeCloseTo(1, 12);
  });

  it('the 11-point window with beta 2 is numpy.kaiser(11, 2)', () => {
    const numpy = [0.43867628, 0.61139435, 0.767675, 0.89216143, 0.9723298, 1, 0.9723298, 0.89216143, 0.767675, 0.61139435, 0.43867628];
    kaiserWindow(11, 2).forEach((w, i) => expect(w).toBeCloseTo(numpy[i]!, 7));
  });

  it('smooths as the lecture does, mirrored ends included (numbers from numpy)', () => {
    const x = [0, 1, 0, 3, 2, 5, 4, 4, 1, 0, 2, 8, 3, 1];
    const numpy = [1.59998707, 1.629177, 1.88846351, 2.01614313, 2.18014072, 2.3116255, 2.7379311, 2.92122657, 2.99286488, 2.867012, 2.83963366, 2.96887014, 2.97270159, 2.87421668];
    const y = smoothKaiser(x);
    expect(y).toHaveLength(x.length);
    y.forEach((v, i) => expect(v).toBeCloseTo(numpy[i]!, 7));
  });

  it('keeps a constant series constant, leaves short series alone, and keeps gaps as gaps', () => {
    expect(smoothKaiser(new Array(30).fill(2.5)).every((v) => Math.abs(v! - 2.5) < 1e-12)).toBe(true);
    expect(smoothKaiser([3, 1, 2])).toEqual([3, 1, 2]);
    const gap = smoothKaiser([...new Array(20).fill(1), null, ...new Array(20).fill(1)]);
    expect(gap[20]).toBeNull();
    expect(gap[15]).toBeNull(); // its window reaches the gap
    expect(gap[14]).toBeCloseTo(1, 12);
    expect(gap[26]).toBeCloseTo(1, 12);
  });
});

describe('text widths from the font', () => {
  const path = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
  it.skipIf(!existsSync(path))('reads advance widths: i is narrower than m, and widths scale with the font size', () => {
    const font = readFontWidths(readFileSync(path));
    expect(textWidth(font, 'i', 10)).toBeLessThan(textWidth(font, 'm', 10));
    expect(textWidth(font, 'layer 1', 22)).toBeCloseTo(2 * textWidth(font, 'layer 1', 11), 10);
  });
});

const isPng = (b: Buffer) => b.length > 1000 && b.subarray(1, 4).toString('latin1') === 'PNG';

// Every registered study's figures are also drawn from its real quick run in test/regression.test.ts.
describe('figures drawn from the fixtures compile and render', () => {
  for (const s of STUDIES.filter((x) => existsSync(join(FIXTURES, `${x.name}.json`)))) {
    it(`${s.id} ${s.name}: SVG and PNG from the fixture`, async () => {
      const figures = figuresFor(fixture(s.name));
      expect(figures.length).toBeGreaterThan(0);
      for (const f of figures) {
        expect(f.name.startsWith(s.name)).toBe(true);
        const { svg, png } = await renderSpec(f.spec);
        expect(svg.startsWith('<svg')).toBe(true);
        expect(svg.length).toBeGreaterThan(2000);
        expect(svg).not.toContain('NaN');
        expect(isPng(png)).toBe(true);
      }
    });

    it(`${s.id} ${s.name}: with two seeds too`, async () => {
      const r = fixture(s.name);
      const twoSeeds: StudyResult = r.runs.length > 1 ? r : { ...r, seeds: [0, 1], runs: [r.runs[0]!, { ...r.runs[0]!, seed: 1 }] };
      for (const f of figuresFor(twoSeeds)) {
        const { svg, png } = await renderSpec(f.spec);
        expect(svg).not.toContain('NaN');
        expect(isPng(png)).toBe(true);
      }
    });
  }

  it('draws the same SVG whether a figure is drawn alone or after others', async () => {
    const s1 = figuresFor(fixture('optimizer-paths'))[0]!.spec;
    const first = (await renderSpec(s1)).svg;
    await renderSpec(figuresFor(fixture('optimizers-mnist'))[0]!.spec);
    expect((await renderSpec(s1)).svg).toBe(first);
  });

  it('S2 draws a min-max band when several seeds ran', () => {
    const spec = JSON.stringify(figuresFor(fixture('optimizers-mnist'))[0]!.spec);
    expect(spec).toContain('"area"');
    expect(spec).toContain('mean line, min-max band');
  });

  it('S2 and S4 use the lecture\'s y-ranges (0..1 and 0..2.5)', () => {
    const yDomain = (study: string) => JSON.stringify(figuresFor(fixture(study))[0]!.spec).match(/"field":"loss","type":"quantitative","title":"loss \(smoothed\)","scale":\{"domain":\[([^\]]*)\]/)?.[1];
    expect(yDomain('optimizers-mnist')).toBe('0,1');
    expect(yDomain('init-mnist')).toBe('0,2.5');
  });

  it('S4 keeps a diverged curve in the legend, saying when it diverged', () => {
    const spec = JSON.stringify(figuresFor(fixture('init-mnist'))[0]!.spec);
    expect(spec).toContain('std=1 (diverged at iteration 3)');
  });
});

describe('the figures command', () => {
  it('draws every valid result, skips foreign and malformed files by name, and exits 1', async () => {
    const dir = tempDir();
    for (const f of readdirSync(FIXTURES)) copyFileSync(join(FIXTURES, f), join(dir, f));
    writeFileSync(join(dir, 'notes.json'), '{"a": 1}\n'); // not a result file name
    writeFileSync(join(dir, 'overfit.json'), '{"truncated": '); // a known name, malformed
    const other = JSON.parse(readFileSync(join(FIXTURES, 'batchnorm.json'), 'utf8'));
    writeFileSync(join(dir, 'batchnorm.json'), JSON.stringify({ ...other, schemaVersion: 99 }));
    const quick = JSON.parse(readFileSync(join(FIXTURES, 'init-mnist.json'), 'utf8'));
    writeFileSync(join(dir, 'init-mnist.quick.json'), JSON.stringify(quick)); // holds a lecture result under a quick name

    const { found, skipped } = collectResults(dir, ['lecture', 'quick'], STUDIES.map((s) => s.name));
    expect(skipped.map((s) => s.file).sort()).toEqual(['batchnorm.json', 'init-mnist.quick.json', 'notes.json', 'overfit.json']);
    expect(skipped.find((s) => s.file === 'overfit.json')!.reason).toContain('not valid JSON');
    expect(skipped.find((s) => s.file === 'batchnorm.json')!.reason).toContain('schema version 99');
    expect(found.map((f) => f.result.study).sort()).toEqual(['hyperparameter-search', 'init-activations', 'init-mnist', 'optimizer-paths', 'optimizers-mnist', 'search-strategies']);

    const code = await figuresCli(['--out', dir]);
    expect(code).toBe(1);
    const figs = readdirSync(join(dir, 'figures'));
    for (const name of ['optimizer-paths', 'optimizers-mnist', 'init-activations', 'init-mnist', 'hyperparameter-search-top20', 'hyperparameter-search-scatter']) {
      for (const ext of ['svg', 'png', 'vl.json']) expect(figs, `${name}.${ext}`).toContain(`${name}.${ext}`);
    }
    expect(figs.some((f) => f.startsWith('overfit') || f.startsWith('batchnorm'))).toBe(false);
    const report = readFileSync(join(dir, 'REPORT.md'), 'utf8');
    expect(report).toContain('## Files skipped');
    expect(report).toContain('`overfit.json`: not valid JSON');
    // The saved spec is the one drawn, and is valid JSON a user can open in the Vega editor.
    const spec = JSON.parse(readFileSync(join(dir, 'figures', 'optimizer-paths.vl.json'), 'utf8'));
    expect(spec.$schema).toContain('vega-lite');
  });

  it('exits 0 when everything is drawn, and rejects an unknown study or a missing folder', async () => {
    const dir = tempDir();
    copyFileSync(join(FIXTURES, 'optimizer-paths.json'), join(dir, 'optimizer-paths.json'));
    expect(await figuresCli(['--out', dir])).toBe(0);
    expect(existsSync(join(dir, 'figures', 'optimizer-paths.png'))).toBe(true);
    await expect(figuresCli(['no-such-study', '--out', dir])).rejects.toThrow(/unknown study 'no-such-study'/);
    await expect(figuresCli(['--out', join(dir, 'missing')])).rejects.toThrow(/no such folder/);
  });
});

describe('REPORT.md', () => {
  it('the committed results/REPORT.md is current: regenerate it with `npm run figures` after committing a result', () => {
    const out = join(import.meta.dirname, '..', 'results');
    const plan = planFigures(out, ['lecture'], STUDIES.map((s) => s.name));
    expect(plan.skipped).toEqual([]);
    // Every lecture result has all its figures committed beside it, drawn from its current data
    // (the saved Vega-Lite spec holds the data, so a stale figure shows as a different spec).
    for (const p of plan.planned) {
      for (const f of p.figures) {
        for (const ext of ['svg', 'png']) expect(existsSync(join(out, 'figures', `${f.name}.${ext}`)), `results/figures/${f.name}.${ext}`).toBe(true);
        expect(readFileSync(join(out, 'figures', `${f.name}.vl.json`), 'utf8'), `results/figures/${f.name}.vl.json`).toBe(JSON.stringify(f.spec) + '\n');
      }
    }
    expect(readFileSync(join(out, 'REPORT.md'), 'utf8')).toBe(reportFor(out, 'lecture', plan));
    // The interactive page too (compared as a whole: it inlines megabytes of specs and scripts).
    expect(existsSync(join(out, 'index.html')), 'results/index.html: run `npm run figures`').toBe(true);
    expect(readFileSync(join(out, 'index.html'), 'utf8') === pageFor(out, 'lecture', plan), 'results/index.html is not current: run `npm run figures`').toBe(true);
  });

  const studies = STUDIES.map((s) => ({ name: s.name, id: s.id, title: s.title, description: s.description }));

  it('shows each result\'s figure, claims with holds/FAILS and numbers, config, backend and wall time', () => {
    const r = fixture('init-mnist');
    const md = buildReport({
      kind: 'lecture',
      studies,
      entries: [{ file: 'init-mnist.json', result: r, figures: [{ png: 'figures/init-mnist.png', svg: 'figures/init-mnist.svg', spec: 'figures/init-mnist.vl.json', caption: 'the loss' }] }],
      skipped: [],
    });
    expect(md).toContain('![S4 the loss](figures/init-mnist.png)');
    expect(md).toContain('| holds | fixture claim small-std-stuck');
    expect(md).toContain('| **FAILS** | fixture claim he-fastest');
    expect(md).toContain('he = 0.3; xavier = 0.28');
    expect(md).toContain('backend wasm');
    expect(md).toContain('wall time 1.2 s');
    expect(md).toContain('"iterations": 40');
    expect(md).toContain('1/2 (**1 FAIL**)');
    // Studies without a result are listed with the command that makes one.
    expect(md).toContain('`npm run experiment -- optimizer-paths`');
    // Generated from the files only: the same input gives the same text.
    expect(buildReport({ kind: 'lecture', studies, entries: [], skipped: [] })).toBe(buildReport({ kind: 'lecture', studies, entries: [], skipped: [] }));
  });

  it('formats spreads of several seeds as mean (min..max)', () => {
    expect(formatValue({ mean: 0.5, std: 0.01, min: 0.49, max: 0.51, n: 2 })).toBe('0.5 (0.49..0.51)');
    expect(formatValue(1.23456e-7)).toBe('1.23e-7');
  });
});

describe('number labels', () => {
  it('writes rates as 1e-3 style, carrying 9.96e-3 to 1e-2', async () => {
    const { sci } = await import('../src/format.js');
    expect(sci(0.0079143)).toBe('7.9e-3');
    expect(sci(0.00996)).toBe('1e-2');
    expect(sci(1e-4)).toBe('1e-4');
    expect(sci(3.39e-8)).toBe('3.4e-8');
  });
});
