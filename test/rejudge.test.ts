import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { figuresCli } from '../src/cli/figures.js';
import { rejudge } from '../src/results/rejudge.js';
import { readResult } from '../src/results/store.js';
import { findStudy } from '../experiments/index.js';

const committed = readdirSync('results').filter((f) => f.endsWith('.json'));
const scratch = mkdtempSync(join(tmpdir(), 'rejudge-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('re-judging result files with the current rules', () => {
  it.each(committed)('the committed results/%s carries the verdicts the current rules give it', (file) => {
    const result = readResult(join('results', file));
    const again = rejudge(findStudy(result.study)!, result);
    expect(again.verdictChanges, 'run npm run figures to re-judge it').toEqual([]);
    expect(again.changed).toBe(false);
  });

  it('restores a tampered verdict and says which, and npm run figures rewrites the file', async () => {
    const result = readResult(join('results', 'optimizer-paths.json'));
    const tampered = { ...result, claims: result.claims.map((c, i) => (i === 0 ? { ...c, verdict: 'FAILS' as const } : c)) };
    const again = rejudge(findStudy(result.study)!, tampered);
    expect(again.changed).toBe(true);
    expect(again.verdictChanges).toEqual([`${result.claims[0]!.id}: FAILS -> holds`]);
    expect(again.result.claims).toEqual(result.claims);

    writeFileSync(join(scratch, 'optimizer-paths.json'), JSON.stringify(tampered));
    expect(await figuresCli(['--out', scratch, '--format', 'png'])).toBe(0);
    expect(readResult(join(scratch, 'optimizer-paths.json')).claims).toEqual(result.claims);
    copyFileSync(join('results', 'optimizer-paths.json'), join(scratch, 'optimizer-paths.json'));
  });
});
