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
    await import('@tensorflow/tfjs-backend-wasm');
  },
  cpu: async () => {
    // The union package @tensorflow/tfjs registers the cpu backend when imported.
    await import('@tensorflow/tfjs');
  },
};

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
    if (failure === null) return { name, skipped };
    skipped.push({ name, reason: failure });
  }
  throw new UserError(`no tfjs backend could be loaded: ${skipped.map((s) => `${s.name} (${s.reason})`).join('; ')}`);
}
