// Preloaded (NODE_OPTIONS=--import) by tests that need `auto` to behave as on a machine without
// tfjs-node, where it does load here: resolving '@tensorflow/tfjs-node' fails as if it were not installed.
import { register } from 'node:module';

const hook = `export async function resolve(specifier, context, next) {
  if (specifier === '@tensorflow/tfjs-node') throw new Error("Cannot find package '@tensorflow/tfjs-node' (hidden by test/helpers/no-native.mjs)");
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);
