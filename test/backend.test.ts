import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { defaultLoaders, selectBackend, type BackendLoader, type BackendName } from '../src/backend.js';
import { UserError } from '../src/errors.js';

const fails = (message: string): BackendLoader => async () => {
  throw new Error(message);
};

function loaders(over: Partial<Record<BackendName, BackendLoader>>): Record<BackendName, BackendLoader> {
  return { ...defaultLoaders, ...over };
}

describe('backend choice', () => {
  it('auto takes tfjs-node when it loads', async () => {
    // A stand-in for tfjs-node: registers a backend named "tensorflow" (here, a cpu backend).
    const CpuBackend = tf.findBackendFactory('cpu')!;
    const fakeNode: BackendLoader = async () => {
      if (!tf.findBackend('tensorflow')) tf.registerBackend('tensorflow', CpuBackend);
    };
    const sel = await selectBackend('auto', loaders({ tensorflow: fakeNode }));
    expect(sel).toEqual({ name: 'tensorflow', skipped: [] });
    expect(tf.getBackend()).toBe('tensorflow');
    tf.removeBackend('tensorflow');
  });

  it('auto falls back to wasm when tfjs-node cannot load, and says why', async () => {
    const sel = await selectBackend('auto', loaders({ tensorflow: fails('libtensorflow not found') }));
    expect(sel.name).toBe('wasm');
    expect(sel.skipped).toEqual([{ name: 'tensorflow', reason: 'libtensorflow not found' }]);
    expect(tf.getBackend()).toBe('wasm');
  });

  it('auto falls back to cpu when neither tfjs-node nor wasm loads', async () => {
    const sel = await selectBackend('auto', loaders({ tensorflow: fails('no node'), wasm: fails('no wasm') }));
    expect(sel.name).toBe('cpu');
    expect(sel.skipped.map((s) => s.name)).toEqual(['tensorflow', 'wasm']);
    await tf.setBackend('wasm');
  });

  it('a named backend that cannot load is an error, not a fallback', async () => {
    const err = await selectBackend('tensorflow', loaders({ tensorflow: fails("Cannot find package '@tensorflow/tfjs-node'") })).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toBe("backend 'tensorflow' cannot be loaded: Cannot find package '@tensorflow/tfjs-node'");
    expect(tf.getBackend()).toBe('wasm');
  });

  it('without tfjs-node installed, auto picks wasm on this machine', async () => {
    const sel = await selectBackend('auto');
    expect(['tensorflow', 'wasm']).toContain(sel.name);
    await tf.setBackend('wasm');
  });
});

describe("TensorFlow's thread settings", () => {
  it('shares the cores among worker processes and fixes oneDNN', async () => {
    const { availableParallelism } = await import('node:os');
    const { shareCoresAmong } = await import('../src/backend.js');
    const cores = availableParallelism();
    const env: NodeJS.ProcessEnv = { TF_ENABLE_ONEDNN_OPTS: '0' };
    shareCoresAmong(2, env);
    expect(env.TF_NUM_INTRAOP_THREADS).toBe(String(Math.max(1, Math.floor(cores / 2))));
    expect(env.TF_NUM_INTEROP_THREADS).toBe('1');
    expect(env.TF_ENABLE_ONEDNN_OPTS).toBe('1');
    const one: NodeJS.ProcessEnv = {};
    shareCoresAmong(1, one);
    expect(one.TF_NUM_INTRAOP_THREADS).toBe(String(cores));
    const mine: NodeJS.ProcessEnv = { TF_NUM_INTRAOP_THREADS: '3' };
    shareCoresAmong(cores * 4, mine);
    expect(mine.TF_NUM_INTRAOP_THREADS).toBe('3');
  });
});
