/**
 * Text widths for Vega's layout. Without a canvas, Vega guesses every character to be 0.8 em
 * wide, which is far off for DejaVu Sans (~0.55 em): headers, legends and titles get laid out
 * with wide gaps and labels are misplaced. Here the glyph advance widths are read from the
 * font file itself (its cmap and hmtx tables), so layout matches what resvg draws. Kerning is
 * ignored (a fraction of a pixel per pair). If the font file is not found, Vega's estimate
 * stays in use.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as vega from 'vega';

/** Advance widths in em by code point, plus the width used for characters the font lacks. */
export interface FontWidths {
  widths: Map<number, number>;
  fallback: number;
}

const FONT_FILES = {
  normal: ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', '/usr/share/fonts/TTF/DejaVuSans.ttf', '/usr/share/fonts/dejavu/DejaVuSans.ttf'],
  bold: ['/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf', '/usr/share/fonts/TTF/DejaVuSans-Bold.ttf', '/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf'],
};

/** Reads the advance width of every character of the Basic Multilingual Plane a TrueType font maps. */
export function readFontWidths(buf: Buffer): FontWidths {
  const numTables = buf.readUInt16BE(4);
  const tables = new Map<string, number>();
  for (let i = 0; i < numTables; i++) {
    const rec = 12 + 16 * i;
    tables.set(buf.toString('latin1', rec, rec + 4), buf.readUInt32BE(rec + 8));
  }
  const head = tables.get('head');
  const hhea = tables.get('hhea');
  const hmtx = tables.get('hmtx');
  const cmap = tables.get('cmap');
  if (head === undefined || hhea === undefined || hmtx === undefined || cmap === undefined) throw new Error('not a TrueType font with head/hhea/hmtx/cmap');
  const unitsPerEm = buf.readUInt16BE(head + 18);
  const numHMetrics = buf.readUInt16BE(hhea + 34);
  const advance = (glyph: number): number => buf.readUInt16BE(hmtx + 4 * Math.min(glyph, numHMetrics - 1)) / unitsPerEm;

  // The Unicode BMP subtable (platform 3 encoding 1, or platform 0), format 4: segments of codes.
  let sub = -1;
  const n = buf.readUInt16BE(cmap + 2);
  for (let i = 0; i < n; i++) {
    const platform = buf.readUInt16BE(cmap + 4 + 8 * i);
    const encoding = buf.readUInt16BE(cmap + 6 + 8 * i);
    const offset = cmap + buf.readUInt32BE(cmap + 8 + 8 * i);
    if (buf.readUInt16BE(offset) === 4 && ((platform === 3 && encoding === 1) || platform === 0)) sub = offset;
  }
  if (sub < 0) throw new Error('no format-4 Unicode cmap');
  const segX2 = buf.readUInt16BE(sub + 6);
  const ends = sub + 14;
  const starts = ends + segX2 + 2;
  const deltas = starts + segX2;
  const rangeOffsets = deltas + segX2;
  const widths = new Map<number, number>();
  for (let s = 0; s < segX2 / 2; s++) {
    const end = buf.readUInt16BE(ends + 2 * s);
    const start = buf.readUInt16BE(starts + 2 * s);
    const delta = buf.readInt16BE(deltas + 2 * s);
    const ro = buf.readUInt16BE(rangeOffsets + 2 * s);
    for (let c = start; c <= end && c !== 0xffff; c++) {
      let glyph: number;
      if (ro === 0) glyph = (c + delta) & 0xffff;
      else {
        const at = rangeOffsets + 2 * s + ro + 2 * (c - start);
        glyph = buf.readUInt16BE(at);
        if (glyph !== 0) glyph = (glyph + delta) & 0xffff;
      }
      if (glyph !== 0) widths.set(c, advance(glyph));
    }
  }
  return { widths, fallback: widths.get(0x6f) ?? 0.6 }; // 'o' for anything unmapped
}

export function textWidth(font: FontWidths, text: string, fontSize: number): number {
  let w = 0;
  for (const ch of text) w += font.widths.get(ch.codePointAt(0)!) ?? font.fallback;
  return w * fontSize;
}

function load(paths: string[]): FontWidths | null {
  const path = paths.find((p) => existsSync(p));
  if (!path) return null;
  try {
    return readFontWidths(readFileSync(path));
  } catch {
    return null;
  }
}

let installed = false;

/** Makes Vega measure text with the font's real widths (once per process); false if the font is missing. */
export function installTextMetrics(): boolean {
  if (installed) return true;
  const normal = load(FONT_FILES.normal);
  if (!normal) return false;
  const bold = load(FONT_FILES.bold) ?? normal;
  // vega re-exports vega-scenegraph's textMetrics (the hook vl-convert uses too); its typings omit it.
  const metrics = (vega as unknown as { textMetrics: { width: (item: { fontSize?: number; fontWeight?: string | number }, text: unknown) => number } }).textMetrics;
  metrics.width = (item, text) => {
    const s = text == null ? '' : String(text).trim();
    const size = item.fontSize != null ? Number(item.fontSize) || 0 : 11;
    const w = item.fontWeight === 'bold' || Number(item.fontWeight) >= 600 ? bold : normal;
    return textWidth(w, s, size);
  };
  installed = true;
  return true;
}
