/**
 * The lecture's layers, each a forward and a hand-written backward through tfjs ops, used for
 * every training step (Mlp.gradients) with no gradient tape.
 *
 * Bit-identical to the tape: each backward runs exactly the arithmetic that tfjs's own
 * gradient of the same forward ops runs (tfjs-core's gradients/*_grad.js and the dense and
 * loss ops of dense.ts/loss.ts), and where a tensor feeds several ops its gradient pieces are
 * summed in the tape's order (tape.js walks the recorded ops last to first and accumulates with
 * add(sum so far, new piece)). Kernels that only move or copy values (cast, reshape, clone,
 * multiplying by ones) are left out: they do not change a bit. test/backward.test.ts compares
 * every weight and loss, bit for bit, with the tape over 200 steps.
 *
 * Every function is meant to run inside tf.tidy (Mlp.gradients does).
 */
import * as tf from '@tensorflow/tfjs';
import { fusedAffine, logSoftmax, nativeBiasGrad, productTransposedA, productTransposedB, reluGrad } from './kernels.js';

/** Backends on which ones(1 x n) times x is checked to give tf.sum(x, 0)'s bits (test/backward*.test.ts). */
const SUM_AS_PRODUCT = new Set(['wasm', 'cpu']);

/**
 * The sum over the batch (rows) of a matrix. On wasm and cpu as the product ones(1 x n) times
 * it: the same bits as tf.sum(x, 0), which the tape uses (both add the rows one after
 * another, starting from zero, and multiplying by one is exact; the bit tests check it), and
 * about three times faster on wasm, whose Sum over axis 0 transposes first. Elsewhere (native
 * TensorFlow may sum in another order) tf.sum itself.
 */
export function sumRows(x: tf.Tensor2D): tf.Tensor1D {
  if (!SUM_AS_PRODUCT.has(tf.getBackend())) return tf.sum(x, 0) as tf.Tensor1D;
  const [n, d] = x.shape;
  return tf.reshape(tf.matMul(tf.ones([1, n]), x), [d]);
}

// --- Affine: out = x W + b ---------------------------------------------------------------

/**
 * The affine product. `addBias` says how the bias goes in, which matters for the bits:
 * 'fused' is one _FusedMatMul kernel (bias added inside the product), 'separate' is matMul
 * then add. The tape runs an affine layer followed directly by ReLU/sigmoid as matMul + add +
 * activation (tf.fused.matMul does not fuse a non-linear activation while a gradient is
 * recorded) and every other affine layer (before BN, tanh, or the output) as the fused kernel;
 * the two round differently, so each layer keeps its own.
 */
export function affineForward(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, addBias: 'fused' | 'separate'): tf.Tensor2D {
  if (addBias === 'fused') return fusedAffine(x, w, b, 'linear');
  return tf.add(tf.matMul(x, w), b) as tf.Tensor2D;
}

export interface AffineGrads {
  /** dL/dx = dout W^T; null for the first layer, whose input is data. */
  dx: tf.Tensor2D | null;
  /** dL/dW = x^T dout */
  dW: tf.Tensor2D;
  /** dL/db = sum of dout over the batch */
  db: tf.Tensor1D;
}

/**
 * Products with a transposed operand, as kernels.ts runs them best on each backend (on wasm:
 * transposed explicitly, then a plain matMul). `xT`, when given, is x transposed, built with the batch.
 */
export function affineBackward(dout: tf.Tensor2D, x: tf.Tensor2D, w: tf.Tensor2D, needDx: boolean, xT?: tf.Tensor2D): AffineGrads {
  return {
    dx: needDx ? productTransposedB(dout, w) : null,
    dW: productTransposedA(x, dout, xT),
    db: nativeBiasGrad(dout) ?? sumRows(dout),
  };
}

/** Weight decay 0.5*lambda*sum(W^2) adds lambda*W to dW (the tape's mul(0.5*lambda, 2*W) gives the same bits). */
export function weightDecayBackward(dW: tf.Tensor2D, w: tf.Tensor2D, lambda: number): tf.Tensor2D {
  return tf.add(tf.mul(w, lambda), dW) as tf.Tensor2D;
}

/** The penalty 0.5*lambda*sum over layers of sum(W^2), as the loss adds it. */
export function weightDecayLoss(weights: tf.Tensor[], lambda: number): tf.Scalar {
  return tf.mul(tf.addN(weights.map((w) => tf.sum(tf.square(w)))), 0.5 * lambda) as tf.Scalar;
}

// --- Activations -------------------------------------------------------------------------

/**
 * ReLU passes the gradient where the unit was on. `ref` is the tensor whose sign decides:
 * the tape's ReLU gradient looks at the input, the dense op's fused ReLU at the output
 * (relu(z) > 0 exactly where z > 0; both are kept as the tape has them).
 */
export function reluBackward(dout: tf.Tensor2D, ref: tf.Tensor2D): tf.Tensor2D {
  return reluGrad(dout, ref);
}

/** sigmoid' = y (1 - y), from the saved output y. */
export function sigmoidBackward(dout: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor2D {
  return tf.mul(dout, tf.mul(y, tf.sub(1, y))) as tf.Tensor2D;
}

/** tanh' = 1 - y^2, from the saved output y. */
export function tanhBackward(dout: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor2D {
  return tf.mul(tf.sub(1, tf.square(y)), dout) as tf.Tensor2D;
}

/**
 * Leaky ReLU passes the gradient where the input was positive and `slope` times it elsewhere
 * (the tape's: where(x > 0, dout, dout * slope), from the saved input x).
 */
export function leakyReluBackward(dout: tf.Tensor2D, x: tf.Tensor2D, slope: number): tf.Tensor2D {
  return tf.where(tf.greater(x, 0), dout, tf.mul(dout, slope)) as tf.Tensor2D;
}

/**
 * ELU (alpha 1): elu' = 1 where the output is positive, else exp(x) = y + 1, from the saved
 * output y: dout where y > 0, dout (y + 1) elsewhere. Through tfjs's EluGrad kernel, as the
 * tape does: it forms dout (y + 1) with one rounding (wasm and cpu compute it in double), so
 * the same formula as two float32 ops (add, then mul) differs in the last bit for about 2% of
 * the elements.
 */
export function eluBackward(dout: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor2D {
  return tf.engine().runKernel('EluGrad', { dy: dout, y }) as tf.Tensor2D;
}

// --- Dropout (the lecture's, not inverted) -------------------------------------------------

export function dropoutForward(x: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor2D {
  return tf.mul(x, mask) as tf.Tensor2D;
}

export function dropoutBackward(dout: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor2D {
  return tf.mul(dout, mask) as tf.Tensor2D;
}

// --- Batch norm (training mode) --------------------------------------------------------------

export interface BatchNormCache {
  /** x - mean (what tf.moments computes on its way to the variance; the same values as the normalisation's x - mean) */
  xc: tf.Tensor2D;
  /** sqrt(var + eps) */
  std: tf.Tensor1D;
  xhat: tf.Tensor2D;
  gamma: tf.Tensor1D;
}

export interface BatchNormForward {
  out: tf.Tensor2D;
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
  cache: BatchNormCache;
}

/**
 * y = gamma * (x - mean) / sqrt(var + eps) + beta with the batch's mean and biased variance,
 * computed with the same kernels as tf.moments followed by the normalisation.
 */
export function batchNormForward(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): BatchNormForward {
  const mean = tf.mean(x, [0]) as tf.Tensor1D;
  const xc = tf.sub(x, tf.reshape(mean, [1, mean.size])) as tf.Tensor2D;
  const variance = tf.mean(tf.square(xc), [0]) as tf.Tensor1D;
  const std = tf.sqrt(tf.add(variance, eps)) as tf.Tensor1D;
  const xhat = tf.div(xc, std) as tf.Tensor2D;
  const out = tf.add(tf.mul(xhat, gamma), beta) as tf.Tensor2D;
  return { out, mean, variance, cache: { xc, std, xhat, gamma } };
}

/**
 * The gradient through batch norm, term by term as the tape forms it: x reaches the loss
 * three ways (the normalisation's x - mean, the variance's x - mean, the mean itself) and the
 * mean two ways (the normalisation and the variance); the pieces are added in that order.
 */
export function batchNormBackward(dout: tf.Tensor2D, cache: BatchNormCache): { dx: tf.Tensor2D; dgamma: tf.Tensor1D; dbeta: tf.Tensor1D } {
  const { xc, std, xhat, gamma } = cache;
  const n = xc.shape[0];
  const dbeta = sumRows(dout);
  const dgamma = sumRows(tf.mul(dout, xhat) as tf.Tensor2D);
  const dxhat = tf.mul(dout, gamma);
  // xhat = xc / std
  const dxcNorm = tf.div(dxhat, std);
  const dstd = tf.neg(tf.div(sumRows(tf.mul(dxhat, xc) as tf.Tensor2D), tf.square(std)));
  // std = sqrt(var + eps); var = mean(xc^2)
  const dvar = tf.div(dstd, tf.mul(std, 2));
  const dxcVar = tf.mul(tf.div(dvar, n), tf.mul(xc, 2));
  // xc = x - mean, once in the normalisation, once in the variance
  const dmean = tf.add(tf.neg(sumRows(dxcNorm as tf.Tensor2D)), tf.neg(sumRows(dxcVar as tf.Tensor2D)));
  const dx = tf.add(tf.add(dxcNorm, dxcVar), tf.div(dmean, n)) as tf.Tensor2D;
  return { dx, dgamma, dbeta };
}

// --- Softmax with cross-entropy loss ---------------------------------------------------------

/** Mean cross-entropy of softmax(logits) against one-hot labels; returns the log-probabilities for the backward. */
export function softmaxWithLossForward(logits: tf.Tensor2D, yOneHot: tf.Tensor2D): { loss: tf.Scalar; logProb: tf.Tensor2D } {
  const logProb = logSoftmax(logits);
  const loss = tf.div(tf.sum(tf.mul(yOneHot, logProb)), -logits.shape[0]) as tf.Scalar;
  return { loss, logProb };
}

/** (softmax - y) / N */
export function softmaxWithLossBackward(logProb: tf.Tensor2D, yOneHot: tf.Tensor2D): tf.Tensor2D {
  return tf.mul(tf.sub(tf.exp(logProb), yOneHot), tf.div(tf.scalar(1), logProb.shape[0])) as tf.Tensor2D;
}
