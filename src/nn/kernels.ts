/**
 * The few products and gradients whose best kernels differ by backend. The training pass
 * (layers.ts, mlp.ts) and its tape reference (dense.ts, loss.ts) both call these, so on each
 * backend the two run the same kernels and can be compared bit for bit (test/backward*.test.ts).
 *
 * wasm and cpu: what the committed results were computed with. XNNPACK runs only plain 2-D
 * products fast, so operands are transposed explicitly.
 *
 * tensorflow (tfjs-node): each kernel call costs about 10-15 us on small tensors, and some tfjs
 * ops are several TensorFlow ops there (tfjs-node's Step is seven; its logSoftmax six; its
 * fused matMul is matMul + add + activation inside an extra tidy). So: transposes become the
 * product's transpose flags (TensorFlow reads the operand transposed at no cost), ReLU's
 * backward is TensorFlow's own ReluGrad kernel (dout where the input was positive, dout * 0
 * elsewhere: the bits of dout * step(x) for every input that is not NaN), log-softmax is its
 * LogSoftmax kernel, an affine layer's bias gradient its BiasAddGrad kernel, and the "fused" affine product is its three kernels called directly
 * (the bits of tfjs-node's fused matMul, one engine layer less).
 */
import * as tf from '@tensorflow/tfjs';

function native(): boolean {
  return tf.getBackend() === 'tensorflow';
}

// --- TensorFlow kernels tfjs does not expose, registered for the tensorflow backend ----------

interface TfBinding {
  TF_ATTR_TYPE: number;
  TF_FLOAT: number;
}
interface NodeBackend {
  binding: TfBinding;
  executeSingleOutput(name: string, attrs: { name: string; type: number; value: unknown }[], inputs: tf.Tensor[]): tf.Tensor;
}

const RELU_GRAD = 'LabNativeReluGrad';
const BIAS_GRAD = 'LabNativeBiasAddGrad';
const LOG_SOFTMAX = 'LabNativeLogSoftmax';
let registered = false;

function registerNativeKernels(): void {
  if (registered) return;
  registered = true;
  const floatT = (backend: NodeBackend) => [{ name: 'T', type: backend.binding.TF_ATTR_TYPE, value: backend.binding.TF_FLOAT }];
  tf.registerKernel({
    kernelName: RELU_GRAD,
    backendName: 'tensorflow',
    kernelFunc: ({ inputs, backend }) => {
      const b = backend as unknown as NodeBackend;
      return b.executeSingleOutput('ReluGrad', floatT(b), [inputs.dy as tf.Tensor, inputs.x as tf.Tensor]) as unknown as tf.TensorInfo;
    },
  });
  tf.registerKernel({
    kernelName: BIAS_GRAD,
    backendName: 'tensorflow',
    kernelFunc: ({ inputs, backend }) => {
      const b = backend as unknown as NodeBackend;
      return b.executeSingleOutput('BiasAddGrad', floatT(b), [inputs.dy as tf.Tensor]) as unknown as tf.TensorInfo;
    },
  });
  tf.registerKernel({
    kernelName: LOG_SOFTMAX,
    backendName: 'tensorflow',
    kernelFunc: ({ inputs, backend }) => {
      const b = backend as unknown as NodeBackend;
      return b.executeSingleOutput('LogSoftmax', floatT(b), [inputs.logits as tf.Tensor]) as unknown as tf.TensorInfo;
    },
  });
}

// --- Products -----------------------------------------------------------------------------

/** a^T b. `aT`, when given, is a^T built beforehand (a training batch's x^T); unused on tensorflow. */
export function productTransposedA(a: tf.Tensor2D, b: tf.Tensor2D, aT?: tf.Tensor2D): tf.Tensor2D {
  if (native()) return tf.matMul(a, b, true, false);
  return tf.matMul(aT ?? tf.transpose(a), b);
}

/** a b^T. */
export function productTransposedB(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (native()) return tf.matMul(a, b, false, true);
  return tf.matMul(a, tf.transpose(b));
}

export type FusedActivation = 'linear' | 'relu' | 'sigmoid';

/**
 * act(x W + b) as tf.fused.matMul computes it outside a gradient tape: one kernel on wasm and
 * cpu; on tensorflow, the matMul, add and activation tfjs-node's fused kernel runs, called
 * directly.
 */
export function fusedAffine(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, act: FusedActivation): tf.Tensor2D {
  if (!native()) return tf.fused.matMul({ a: x, b: w, bias: b, activation: act }) as tf.Tensor2D;
  const z = tf.add(tf.matMul(x, w), b) as tf.Tensor2D;
  return act === 'relu' ? tf.relu(z) : act === 'sigmoid' ? tf.sigmoid(z) : z;
}

// --- Sums and gradients ------------------------------------------------------------------------

/** ReLU's backward: dout where `ref` > 0, else dout * 0 (tfjs's own gradient: dout * step(ref)). */
export function reluGrad(dout: tf.Tensor2D, ref: tf.Tensor2D): tf.Tensor2D {
  if (!native()) return tf.mul(dout, tf.step(ref)) as tf.Tensor2D;
  registerNativeKernels();
  return tf.engine().runKernel(RELU_GRAD, { dy: dout, x: ref }) as tf.Tensor2D;
}

/**
 * An affine layer's bias gradient (the sum of dout over the batch) as TensorFlow's BiasAddGrad
 * kernel on tensorflow (tfjs-node's Sum uploads its axis as a tensor on every call); null on
 * other backends, whose callers keep their own sum.
 */
export function nativeBiasGrad(dout: tf.Tensor2D): tf.Tensor1D | null {
  if (!native()) return null;
  registerNativeKernels();
  return tf.engine().runKernel(BIAS_GRAD, { dy: dout }) as tf.Tensor1D;
}

/** log(softmax(z)) along the last axis; the loss's forward (its gradient is written by hand). */
export function logSoftmax(logits: tf.Tensor2D): tf.Tensor2D {
  if (!native()) return tf.logSoftmax(logits) as tf.Tensor2D;
  registerNativeKernels();
  return tf.engine().runKernel(LOG_SOFTMAX, { logits }) as tf.Tensor2D;
}
