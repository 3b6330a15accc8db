/**
 * `--tensorboard DIR` (src/live/tensorboard.ts): a quick S2 run with the tensorflow backend
 * writes TensorBoard event files, read back here by hand: the TFRecord framing (length, masked
 * CRC-32C of the length, data, masked CRC-32C of the data) checked record by record, and the few
 * fields of each tf.Event we need (step, and each summary value's tag and number) decoded from
 * the protobuf wire format. Without the tensorflow backend the test is skipped with one line
 * (it fails when CI is set); the one line the command says then is checked either way.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { curveScalars, runDir } from '../src/live/tensorboard.js';
import { runCli } from './helpers/cli.js';
import { announce, nativeUnavailable } from './helpers/native.js';

const dir = mkdtempSync(join(tmpdir(), 'tensorboard-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CRC32C = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return (bytes: Uint8Array): number => {
    let c = 0xffffffff;
    for (const b of bytes) c = table[(c ^ b) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
})();
/** TFRecord's masked CRC: rotated right by 15 bits plus a constant. */
const masked = (crc: number): number => ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;

/** The records of one TFRecord file, each frame's checksums verified. */
function records(file: string): Buffer[] {
  const buf = readFileSync(file);
  const out: Buffer[] = [];
  let at = 0;
  while (at < buf.length) {
    const len = Number(buf.readBigUInt64LE(at));
    expect(buf.readUInt32LE(at + 8)).toBe(masked(CRC32C(buf.subarray(at, at + 8))));
    const data = buf.subarray(at + 12, at + 12 + len);
    expect(buf.readUInt32LE(at + 12 + len)).toBe(masked(CRC32C(data)));
    out.push(data);
    at += 12 + len + 4;
  }
  return out;
}

/** Protobuf wire format: each field's number, wire type and value (varint as a number, length-delimited as bytes, fixed as their bytes). */
function fields(b: Buffer): { no: number; type: number; value: number | Buffer }[] {
  const out: { no: number; type: number; value: number | Buffer }[] = [];
  let at = 0;
  const varint = (): number => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const byte = b[at++]!;
      v |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return Number(v);
      shift += 7n;
    }
  };
  while (at < b.length) {
    const key = varint();
    const no = key >>> 3;
    const type = key & 7;
    if (type === 0) out.push({ no, type, value: varint() });
    else if (type === 1) out.push({ no, type, value: b.subarray(at, (at += 8)) });
    else if (type === 5) out.push({ no, type, value: b.subarray(at, (at += 4)) });
    else if (type === 2) {
      const len = varint();
      out.push({ no, type, value: b.subarray(at, (at += len)) });
    } else throw new Error(`wire type ${type} not expected in a tf.Event`);
  }
  return out;
}

/** A summary value's number: simple_value (2), or a scalar tensor's (8): float_val (5, packed) or tensor_content (4). */
function valueOf(v: { no: number; value: number | Buffer }[]): number {
  const simple = v.find((f) => f.no === 2);
  if (simple) return (simple.value as Buffer).readFloatLE(0);
  const tensor = fields(v.find((f) => f.no === 8)!.value as Buffer);
  const floats = tensor.find((f) => f.no === 5) ?? tensor.find((f) => f.no === 4);
  return (floats!.value as Buffer).readFloatLE(0);
}

/** Each tag's steps and values, from every event file in a run directory. tf.Event: step = 2, summary = 5; Summary.value = 1; Value.tag = 1. */
function scalars(runDirectory: string): Map<string, { step: number; value: number }[]> {
  const out = new Map<string, { step: number; value: number }[]>();
  for (const f of readdirSync(runDirectory).filter((n) => n.startsWith('events.out.tfevents'))) {
    for (const rec of records(join(runDirectory, f))) {
      const event = fields(rec);
      const step = (event.find((x) => x.no === 2)?.value as number | undefined) ?? 0;
      const summary = event.find((x) => x.no === 5);
      if (!summary) continue;
      for (const v of fields(summary.value as Buffer).filter((x) => x.no === 1)) {
        const value = fields(v.value as Buffer);
        const tag = (value.find((x) => x.no === 1)!.value as Buffer).toString('utf8');
        out.set(tag, [...(out.get(tag) ?? []), { step, value: valueOf(value) }]);
      }
    }
  }
  return out;
}

const why = await nativeUnavailable();
const RUNS = announce('tensorboard.test.ts', why);
const ITERATIONS = 60;

describe.runIf(RUNS)('--tensorboard with the tensorflow backend', () => {
  it('writes the streamed losses and the curves of S2 as scalars, one step per iteration', { timeout: 120_000 }, async () => {
    const tb = join(dir, 'tb');
    const out = await runCli('experiment.ts', ['optimizers-mnist', '--profile', 'quick', '--backend', 'tensorflow', '--out', join(dir, 'out'), '--tensorboard', tb, '--set', `iterations=${ITERATIONS}`, '--set', 'tail=20', '--quiet']);
    expect(out.stderr + out.stdout).toContain('tensorboard: scalars go to');
    expect(out.code).toBe(0);
    const named = readdirSync(tb);
    expect(named).toEqual([expect.stringMatching(/^optimizers-mnist\.quick\.quick-[0-9a-f]+$/)]);
    const runName = named[0]!.split('.').slice(2).join('.');
    const tags = scalars(runDir(tb, 'optimizers-mnist', 'quick', runName, 0));
    const optimizers = ['sgd', 'momentum', 'adagrad', 'adam', 'nesterov', 'rmsprop'];
    for (const o of optimizers) {
      const streamed = tags.get(`streamed/${o}`)!;
      expect(streamed.map((s) => s.step)).toEqual(Array.from({ length: ITERATIONS }, (_, i) => i + 1));
      expect(streamed.every((s) => Number.isFinite(s.value) && s.value > 0)).toBe(true);
    }
    const curves = [...tags.keys()].filter((t) => t.startsWith('training loss/'));
    expect(curves.sort()).toEqual(['AdaGrad', 'Adam', 'Momentum', 'Nesterov', 'RMSprop', 'SGD'].map((n) => `training loss/${n}`));
    for (const t of curves) expect(tags.get(t)!.map((s) => s.step)).toEqual(Array.from({ length: ITERATIONS }, (_, i) => i));
    // The streamed values are the result's own losses (as float32): what the run recorded, as it went.
    const result = JSON.parse(readFileSync(join(dir, 'out', 'runs', `optimizers-mnist.${runName}.json`), 'utf8'));
    const recorded = result.runs[0].series.loss.sgd as number[];
    expect(tags.get('streamed/sgd')!.map((s) => s.value)).toEqual(recorded.map((v) => Math.fround(v)));
  });
});

describe('--tensorboard without the tensorflow backend', () => {
  it('stops before any work with one line saying why', { timeout: 60_000 }, async () => {
    const out = await runCli('experiment.ts', ['optimizers-mnist', '--profile', 'quick', '--backend', 'cpu', '--out', join(dir, 'cpu'), '--tensorboard', join(dir, 'tb-cpu')]);
    expect(out.code).toBe(2);
    expect(out.stderr.trim().split('\n').filter((l) => l.startsWith('error:'))).toEqual([expect.stringContaining('--tensorboard writes through tfjs-node\'s summary writer, which needs the tensorflow backend; this run has cpu')]);
    expect(out.stdout).not.toContain('S2 optimizers-mnist (quick');
  });

  it('keeps only the curves over time, with whole steps', () => {
    const got = curveScalars([
      { panel: 'loss', x: 'iteration', y: 'loss', lines: [{ name: 'a', y: [1, null, 0.5] }] },
      { panel: 'by size', x: 'test batch size', y: 'accuracy', lines: [{ name: 'b', y: [0.9] }] },
      { panel: 'acc', x: 'epoch', y: 'accuracy', lines: [{ name: 'c', x: [0.5, 1], y: [0.1, 0.2] }, { name: 'd', x: [2, 4], y: [0.3, Infinity] }] },
    ]);
    expect(got).toEqual([
      ['loss/a', 1, 0],
      ['loss/a', 0.5, 2],
      ['acc/c', 0.1, 0],
      ['acc/c', 0.2, 1],
      ['acc/d', 0.3, 2],
    ]);
  });
});
