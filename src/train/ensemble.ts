/**
 * Model ensembles as the lecture notes build them: several trained models each give class
 * probabilities (softmax of their logits, evaluation mode), the ensemble predicts the class
 * with the highest *average* probability over its members.
 *
 * Probabilities are kept as plain float32 arrays (rows x classes), so that members trained in
 * different processes can be combined, and so any subset of members is an ensemble at no
 * further cost.
 */
import * as tf from '@tensorflow/tfjs';
import type { Mlp } from '../nn/mlp.js';
import { accuracyOf } from './batches.js';

/** Softmax probabilities of every row of x (evaluation mode, no tape), row-major rows x classes. */
export function probabilities(net: Mlp, x: tf.Tensor2D): Float32Array {
  return tf.tidy(() => tf.softmax(net.logits(x, 'eval')).dataSync() as Float32Array);
}

/**
 * The ensemble's class per row: the argmax of the members' mean probability (ties go to the
 * lower class, as argMax does). Every member holds rows x classes probabilities.
 */
export function averagedPrediction(members: readonly Float32Array[], classes: number): Int32Array {
  if (members.length === 0) throw new Error('an ensemble needs at least one member');
  const size = members[0]!.length;
  if (size % classes !== 0 || members.some((m) => m.length !== size)) throw new Error(`ensemble members must each hold rows x ${classes} probabilities of one shape`);
  const rows = size / classes;
  const out = new Int32Array(rows);
  const mean = new Float64Array(classes);
  for (let r = 0; r < rows; r++) {
    mean.fill(0);
    for (const m of members) for (let c = 0; c < classes; c++) mean[c]! += m[r * classes + c]!;
    let best = 0;
    for (let c = 1; c < classes; c++) if (mean[c]! > mean[best]!) best = c;
    out[r] = best;
  }
  return out;
}

/** Accuracy of the averaged-probability ensemble of `members` on rows labelled `labels`. */
export function ensembleAccuracy(members: readonly Float32Array[], labels: Uint8Array, classes = 10): number {
  return accuracyOf(averagedPrediction(members, classes), labels);
}

/** A float32 array as base64 of its bytes (exact, and small enough to journal a member's probabilities). */
export function encodeFloats(a: Float32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

export function decodeFloats(s: string): Float32Array {
  const bytes = Buffer.from(s, 'base64');
  if (bytes.length % 4 !== 0) throw new Error(`not a float32 array: ${bytes.length} bytes`);
  const out = new Float32Array(bytes.length / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}
