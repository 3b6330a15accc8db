/**
 * Choosing the tfjs backend. `auto` prefers tfjs-node (native TensorFlow), then the wasm
 * backend (ships its .wasm in the package, works offline), then the pure-JS cpu backend.
 * Asking for one by name that cannot load is an error, never a silent fallback.
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from './errors.js';

export const BACKEND_CHOICES = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
export type BackendName = Exclude<BackendChoice, 'auto'>;

/** Registers one backend with tfjs; throws when its package cannot load. */
export type BackendLoader = () => Promise<void>;

export const defaultLoaders: Record<BackendName, BackendLoader> = {
  // tfjs-node is an optional dependency: its install script downloads libtensorflow, which
  // fails on machines without that host. Importing it registers the 'tensorflow' backend.
  tensorflow: async () => {
    const name = '@tensorflow/tfjs-node';
    await import(/* @vite-ignore */ name);
  },
  wasm: async () => {
    // Reserve a wasm memory first: under a low `ulimit -v` this fails at once with a clear
    // RangeError, instead of inside tfjs's start-up (which prints a page of bundler advice).
    probeWasmMemory();
    await import('@tensorflow/tfjs-backend-wasm');
  },
  cpu: async () => {
    // The union package @tensorflow/tfjs registers the cpu backend when imported.
    await import('@tensorflow/tfjs');
  },
};

/** Throws the engine's RangeError when no WebAssembly memory can be reserved (e.g. `ulimit -v`). */
export function probeWasmMemory(): void {
  new WebAssembly.Memory({ initial: 1, maximum: 65536 });
}

/** A failure to get WebAssembly memory (V8 reserves ~10 GB of address space per wasm memory). */
export function isWasmMemoryError(err: unknown): boolean {
  const text = err instanceof Error ? err.message : String(err);
  return /out of memory|could not allocate|cannot allocate wasm memory|WebAssembly\.Memory\(\)/i.test(text) && (err instanceof RangeError || /wasm|webassembly/i.test(text));
}

export const WASM_MEMORY_HINT = 'wasm backend could not reserve its memory (ulimit -v? WebAssembly needs about 10 GB of address space; raise or remove the limit)';

const AUTO_ORDER: BackendName[] = ['tensorflow', 'wasm', 'cpu'];

export interface BackendSelection {
  name: BackendName;
  /** Why each earlier candidate of `auto` was passed over. */
  skipped: { name: BackendName; reason: string }[];
}

async function tryBackend(name: BackendName, loaders: Record<BackendName, BackendLoader>): Promise<string | null> {
  try {
    await loaders[name]();
    const ok = await tf.setBackend(name);
    if (!ok) return `tfjs could not initialise the '${name}' backend`;
    await tf.ready();
    return null;
  } catch (err) {
    if (name === 'wasm' && isWasmMemoryError(err)) return `${WASM_MEMORY_HINT}: ${firstLine(err)}`;
    return firstLine(err);
  }
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0]!.slice(0, 200);
}

/** Loads and activates a backend; `auto` walks tfjs-node -> wasm -> cpu. */
export async function selectBackend(
  choice: BackendChoice,
  loaders: Record<BackendName, BackendLoader> = defaultLoaders,
): Promise<BackendSelection> {
  if (choice !== 'auto') {
    const failure = await tryBackend(choice, loaders);
    if (failure !== null) throw new UserError(`backend '${choice}' cannot be loaded: ${failure}`);
    return { name: choice, skipped: [] };
  }
  const skipped: BackendSelection['skipped'] = [];
  for (const name of AUTO_ORDER) {
    const failure = await tryBackend(name, loaders);
    if (failure === null) {
      // Say which backend runs instead of wasm when wasm could not get its memory.
      for (const s of skipped) if (s.reason.startsWith(WASM_MEMORY_HINT)) s.reason += `; using ${name} instead`;
      return { name, skipped };
    }
    skipped.push({ name, reason: failure });
  }
  throw new UserError(`no tfjs backend could be loaded: ${skipped.map((s) => `${s.name} (${s.reason})`).join('; ')}`);
}
