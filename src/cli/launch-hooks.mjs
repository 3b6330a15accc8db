// Runs in Node's module-hooks thread (registered by launch.cjs before tsx registers its own
// hooks there): lets tsx's failed WebAssembly lexer start-up pass in that thread too (see
// launch.cjs). Defines no hooks.
process.on('unhandledRejection', (reason) => {
  const stack = reason instanceof Error ? String(reason.stack) : '';
  if (reason instanceof RangeError && /WebAssembly|Wasm memory/.test(reason.message) && /node_modules[\\/]tsx[\\/]/.test(stack)) return;
  throw reason;
});
