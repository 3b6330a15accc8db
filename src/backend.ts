/**
 * Choosing the tfjs backend. `auto` prefers tfjs-node (native TensorFlow: measured faster than
 * wasm on the suite's training steps, trials and evaluation, `npm run bench`), then the wasm
 * backend (ships its .wasm in the package, works offline), then the pure-JS cpu backend.
 * Asking for one by name that cannot load is an error, never a silent fallback.
 */
import { availableParallelism } from 'node:os';
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
  // `npm run native` builds it from TensorFlow's own library where that download cannot work.
  tensorflow: async () => {
    setTensorflowEnvironment();
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

/**
 * TensorFlow reads these when tfjs-node creates its context (at import), so they are set
 * before: TF_NUM_INTRAOP_THREADS (threads one kernel may use), TF_NUM_INTEROP_THREADS (kernels
 * run side by side; tfjs runs one at a time), TF_ENABLE_ONEDNN_OPTS (oneDNN's kernels, TensorFlow's
 * default on x86: with them a product gives the same bits with 1 or 2 intra-op threads, with
 * Eigen's it does not, and the two give different bits from each other, so it is fixed, not
 * left to the caller's environment). Worker processes inherit them from the process that
 * starts them.
 */
export const TENSORFLOW_ONEDNN_OPTS = '1';

/**
 * Shares the cores among `processes` processes that each run TensorFlow (the --workers of a
 * run): each gets cores / processes intra-op threads, at least one, so that two workers on
 * two cores do not run four threads. A TF_NUM_INTRAOP_THREADS the caller set is kept.
 */
export function shareCoresAmong(processes: number, env: NodeJS.ProcessEnv = process.env): void {
  const intra = Math.max(1, Math.floor(availableParallelism() / Math.max(1, processes)));
  if (!env.TF_NUM_INTRAOP_THREADS) env.TF_NUM_INTRAOP_THREADS = String(intra);
  setTensorflowEnvironment(env);
}

/** Fills in what TensorFlow's context reads at start-up (see TENSORFLOW_ONEDNN_OPTS). */
export function setTensorflowEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  if (!env.TF_NUM_INTRAOP_THREADS) env.TF_NUM_INTRAOP_THREADS = String(availableParallelism());
  if (!env.TF_NUM_INTEROP_THREADS) env.TF_NUM_INTEROP_THREADS = '1';
  env.TF_ENABLE_ONEDNN_OPTS = TENSORFLOW_ONEDNN_OPTS;
  // TensorFlow's start-up log lines (CPU features, oneDNN) are not errors; warnings still show.
  if (!env.TF_CPP_MIN_LOG_LEVEL) env.TF_CPP_MIN_LOG_LEVEL = '1';
}

/** The TensorFlow library behind the tensorflow backend and the settings it runs with; null on other backends. */
export function tensorflowInfo(): { version: string; intraOpThreads: number; interOpThreads: number; onednnOpts: string } | null {
  if (tf.getBackend() !== 'tensorflow') return null;
  const binding = (tf.backend() as unknown as { binding?: { TF_Version?: string } }).binding;
  return {
    version: binding?.TF_Version ?? 'unknown',
    intraOpThreads: Number(process.env.TF_NUM_INTRAOP_THREADS),
    interOpThreads: Number(process.env.TF_NUM_INTEROP_THREADS),
    onednnOpts: process.env.TF_ENABLE_ONEDNN_OPTS ?? '',
  };
}

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
