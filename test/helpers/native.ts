/**
 * Whether the tensorflow backend (tfjs-node) loads here, for the tests that need it. Without
 * it they are skipped with one line (`npm run native` builds it); with CI set they fail instead,
 * as .ci/run builds it first.
 */
import * as tf from '@tensorflow/tfjs';
import { defaultLoaders } from '../../src/backend.js';

export const MUST_RUN_NATIVE = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';

/** null when the backend is registered (not activated), else why not. */
export async function nativeUnavailable(): Promise<string | null> {
  try {
    await defaultLoaders.tensorflow();
    return tf.findBackend('tensorflow') !== null || tf.findBackendFactory('tensorflow') !== null ? null : 'tfjs-node registered no tensorflow backend';
  } catch (err) {
    return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
  }
}

/** Prints the one skip line (or nothing); returns whether the file's tests run. */
export function announce(file: string, why: string | null): boolean {
  if (why !== null && !MUST_RUN_NATIVE) console.warn(`${file}: skipped, the tensorflow backend does not load (${why.slice(0, 120)}): \`npm run native\` builds it`);
  return why === null || MUST_RUN_NATIVE;
}
