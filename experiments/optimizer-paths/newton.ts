/**
 * Second-order steps on a two-parameter quadratic, written out (the lesson, so no library):
 * Newton's method moves to the stationary point of the local quadratic model,
 * p <- p - H^-1 g. On a quadratic the model is the function itself, so one step reaches its
 * stationary point, whatever kind it is: the minimum of a bowl, or the saddle point of
 * x^2/20 - y^2, where plain gradient descent instead keeps going downhill.
 *
 * Everything here is float64: the claims compare with 1e-12, beyond float32's resolution.
 */

/** f(x, y) = a x^2 + b y^2: a bowl when a, b > 0, a saddle when their signs differ. */
export interface Quadratic {
  a: number;
  b: number;
}

export const BOWL: Quadratic = { a: 1 / 20, b: 1 };
export const SADDLE: Quadratic = { a: 1 / 20, b: -1 };

export const valueAt = (q: Quadratic, x: number, y: number): number => q.a * x * x + q.b * y * y;
export const gradientAt = (q: Quadratic, x: number, y: number): [number, number] => [2 * q.a * x, 2 * q.b * y];
/** The Hessian is constant and diagonal: diag(2a, 2b). */
export const hessianDiagonal = (q: Quadratic): [number, number] => [2 * q.a, 2 * q.b];

/** One Newton step: the gradient divided by the Hessian's diagonal (its inverse, for a diagonal H). */
export function newtonStep(q: Quadratic, x: number, y: number): [number, number] {
  const [gx, gy] = gradientAt(q, x, y);
  const [hx, hy] = hessianDiagonal(q);
  return [x - gx / hx, y - gy / hy];
}

/** One plain gradient step of rate lr. */
export function gradientStep(q: Quadratic, x: number, y: number, lr: number): [number, number] {
  const [gx, gy] = gradientAt(q, x, y);
  return [x - lr * gx, y - lr * gy];
}

/** Every point of `steps` steps of `step` from `start` (steps + 1 points). */
export function walk2d(start: [number, number], steps: number, step: (x: number, y: number) => [number, number]): { x: number[]; y: number[] } {
  const x = [start[0]];
  const y = [start[1]];
  for (let i = 0; i < steps; i++) {
    const [nx, ny] = step(x[i]!, y[i]!);
    x.push(nx);
    y.push(ny);
  }
  return { x, y };
}

/**
 * Parameters of a fully connected net (weights and biases), and its Hessian's size: one entry
 * per pair of parameters, 4 bytes each in float32.
 */
export function hessianSize(sizes: readonly number[]): { parameters: number; entries: number; float32Bytes: number } {
  let parameters = 0;
  for (let l = 0; l + 1 < sizes.length; l++) parameters += sizes[l]! * sizes[l + 1]! + sizes[l + 1]!;
  const entries = parameters * parameters;
  return { parameters, entries, float32Bytes: 4 * entries };
}
