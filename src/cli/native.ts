/**
 * `npm run native`: makes `--backend tensorflow` load on a machine where tfjs-node's own install
 * cannot download its libtensorflow and prebuilt addon. It takes TensorFlow's C library from
 * the official `tensorflow-cpu` wheel (through pip), builds tfjs-node's addon against it from
 * source, checks that the backend loads, and only then puts the package in place.
 *
 * Safe to repeat: when the backend already loads (a working normal install, or an earlier
 * run of this command) it does nothing; after `npm ci` it restores its last build from the
 * cache folder in seconds. The package is assembled and built in a staging
 * folder beside node_modules/@tensorflow and swapped in by one rename, so a failed or
 * interrupted build leaves no half-built package: the suite keeps running on wasm, and the
 * command says in one line why it failed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const NODE_MODULES = join(ROOT, 'node_modules');
const PACKAGE_DIR = join(NODE_MODULES, '@tensorflow', 'tfjs-node');
/** Downloads kept between runs (ignored by git). */
const CACHE_DIR = join(ROOT, '.cache', 'native');

/** The wheel whose shared libraries export TensorFlow's C and eager C API. */
export const TF_WHEEL = { name: 'tensorflow-cpu', version: '2.21.0' } as const;

/** What the addon needs from the wheel: two libraries and the C API's headers (under 1 MB). */
const WHEEL_LIBRARIES = ['tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2'];
const WHEEL_HEADER_PREFIXES = [
  'tensorflow/include/tensorflow/c/',
  'tensorflow/include/tensorflow/core/platform/ctstring',
  'tensorflow/include/tsl/platform/ctstring',
  'tensorflow/include/xla/tsl/c/',
];

class StepError extends Error {}

/** The line of a failed command's output that says what went wrong. */
function errorLine(output: string, status: number | null): string {
  const lines = output.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  const line = lines.find((l) => /error/i.test(l)) ?? lines.at(-1) ?? `exit code ${status}`;
  return line.slice(0, 300);
}

function run(step: string, command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const out = spawnSync(command, args, { cwd: options.cwd ?? ROOT, env: options.env ?? process.env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (out.error) throw new StepError(`${step}: ${command} could not start (${out.error.message})`);
  if (out.status !== 0) {
    throw new StepError(`${step}: ${errorLine(`${out.stderr}\n${out.stdout}`, out.status)}`);
  }
  return out.stdout;
}

/**
 * Loads tfjs-node from `packageDir` in a fresh process (a broken addon must not take this one
 * down) and returns the TensorFlow library version it reports, or the first line of the error.
 */
export function probeTensorflow(packageDir: string): { version: string } | { error: string } {
  const script = `
    const tf = require('@tensorflow/tfjs');
    require(${JSON.stringify(packageDir)});
    tf.setBackend('tensorflow').then((ok) => {
      if (!ok) throw new Error('tfjs could not initialise the tensorflow backend');
      const y = tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync()[0];
      if (y !== 11) throw new Error('a 1x2 by 2x1 product gave ' + y + ', not 11');
      process.stdout.write(tf.backend().binding.TF_Version);
    }).catch((e) => { process.stderr.write(String(e && e.message || e)); process.exit(1); });`;
  const env = { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' };
  const out = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, env, encoding: 'utf8' });
  if (out.status === 0) return { version: out.stdout.trim() };
  return { error: errorLine(out.stderr, out.status) };
}

/** The wheel in the cache folder, fetched through pip when missing. */
function ensureWheel(): string {
  mkdirSync(CACHE_DIR, { recursive: true });
  const find = () => {
    const listing = execFileSync('ls', [CACHE_DIR], { encoding: 'utf8' }).split('\n');
    const prefix = `${TF_WHEEL.name.replace('-', '_')}-${TF_WHEEL.version}-`;
    return listing.find((f) => f.startsWith(prefix) && f.endsWith('.whl'));
  };
  let wheel = find();
  if (wheel === undefined) {
    process.stdout.write(`  fetching ${TF_WHEEL.name} ${TF_WHEEL.version} through pip (about 270 MB) ...\n`);
    run('pip download', 'python3', ['-m', 'pip', 'download', '--quiet', '--no-deps', '--only-binary=:all:', `${TF_WHEEL.name}==${TF_WHEEL.version}`, '-d', CACHE_DIR]);
    wheel = find();
    if (wheel === undefined) throw new StepError(`pip download: no ${TF_WHEEL.name} ${TF_WHEEL.version} wheel in ${CACHE_DIR} afterwards`);
  }
  return join(CACHE_DIR, wheel);
}

/** The wheel's libraries into deps/lib under the names tfjs-node's build expects, headers into deps/include. */
function unpackLibrary(wheel: string, packageDir: string, tfjsNodeLibVersion: string): void {
  const unpacked = join(packageDir, 'deps', 'wheel');
  const extract = `
import sys, zipfile
wheel, dest, libs, prefixes = sys.argv[1], sys.argv[2], sys.argv[3].split(','), sys.argv[4].split(',')
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if n in libs or (any(n.startswith(p) for p in prefixes) and not n.endswith('/'))]
    missing = [l for l in libs if l not in names]
    if missing: sys.exit('the wheel has no ' + ', '.join(missing))
    for n in names: z.extract(n, dest)`;
  run('unpacking the wheel', 'python3', ['-c', extract, wheel, unpacked, WHEEL_LIBRARIES.join(','), WHEEL_HEADER_PREFIXES.join(',')]);
  const lib = join(packageDir, 'deps', 'lib');
  mkdirSync(lib, { recursive: true });
  renameSync(join(unpacked, 'tensorflow', 'libtensorflow_cc.so.2'), join(lib, 'libtensorflow_cc.so.2'));
  renameSync(join(unpacked, 'tensorflow', 'libtensorflow_framework.so.2'), join(lib, 'libtensorflow_framework.so.2'));
  // The linker looks for libtensorflow.so and libtensorflow_framework.so; the addon then records
  // the libraries' own names (libtensorflow_cc.so.2, libtensorflow_framework.so.2). tfjs-node's
  // install script skips its download when libtensorflow.so.<its version> exists, so a later
  // `npm rebuild` builds against these files too.
  for (const [link, target] of [
    ['libtensorflow.so', 'libtensorflow_cc.so.2'],
    [`libtensorflow.so.${tfjsNodeLibVersion}`, 'libtensorflow_cc.so.2'],
    ['libtensorflow_framework.so', 'libtensorflow_framework.so.2'],
    [`libtensorflow_framework.so.${tfjsNodeLibVersion}`, 'libtensorflow_framework.so.2'],
  ] as const) symlinkSync(target, join(lib, link));
  renameSync(join(unpacked, 'tensorflow', 'include'), join(packageDir, 'deps', 'include'));
  rmSync(unpacked, { recursive: true, force: true });
}

/** The libtensorflow version tfjs-node's install script checks for (LIBTENSORFLOW_VERSION). */
function tfjsNodeLibVersion(packageDir: string): string {
  const text = readFileSync(join(packageDir, 'scripts', 'deps-constants.js'), 'utf8');
  const m = /LIBTENSORFLOW_VERSION\s*=\s*'([0-9.]+)'/.exec(text);
  if (m === null) throw new StepError(`cannot read LIBTENSORFLOW_VERSION from ${packageDir}/scripts/deps-constants.js`);
  return m[1]!;
}

/**
 * tfjs-node's sources in a staging folder. npm removes the package when its install script
 * fails, so it is put back from the lock file with scripts off (`--no-save`: package.json and
 * package-lock.json are not touched) and moved straight to the staging folder.
 */
function stagePackage(staging: string): void {
  rmSync(staging, { recursive: true, force: true });
  if (!existsSync(join(PACKAGE_DIR, 'package.json'))) {
    run('npm install', 'npm', ['install', '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error']);
    if (!existsSync(join(PACKAGE_DIR, 'package.json'))) {
      throw new StepError('npm install: @tensorflow/tfjs-node is not in package-lock.json (npm install it as an optional dependency first)');
    }
    renameSync(PACKAGE_DIR, staging);
  } else {
    // Present but not loading: build a clean copy, leaving the installed one as it is until the swap.
    const skip = new Set(['deps', 'build', 'lib']);
    cpSync(PACKAGE_DIR, staging, { recursive: true, filter: (src) => !(dirname(src) === PACKAGE_DIR && skip.has(src.slice(PACKAGE_DIR.length + 1))) });
  }
}

/** node-gyp, as npm runs it (npm sets npm_config_node_gyp for its scripts). */
function nodeGypPath(): string {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return fromNpm;
  const npmCli = process.env.npm_execpath;
  const candidate = npmCli ? join(dirname(npmCli), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js') : '';
  if (candidate && existsSync(candidate)) return candidate;
  throw new StepError('node-gyp not found: run this as `npm run native` (npm brings node-gyp)');
}

function buildAddon(staging: string): void {
  const preGyp = join(NODE_MODULES, '@mapbox', 'node-pre-gyp', 'bin', 'node-pre-gyp');
  const env = { ...process.env, npm_config_node_gyp: nodeGypPath(), JOBS: 'max' };
  run('building the addon (node-gyp, g++)', process.execPath, [preGyp, 'rebuild', '--build-from-source'], { cwd: staging, env });
}

/**
 * Built packages are kept in the cache folder, keyed by everything the addon depends on, so
 * that after `npm ci` (which removes the package again) the next run takes seconds. The copy
 * is made of hard links (no extra disk space; the folder is on the same file system).
 */
function builtCacheDir(packageDir: string): string {
  const version = (JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string }).version;
  const key = `tfjs-node-${version}-tensorflow-${TF_WHEEL.version}-abi${process.versions.modules}-napi${process.versions.napi}-${process.platform}-${process.arch}`;
  return join(CACHE_DIR, 'built', key);
}

/** A copy of a folder made of hard links (symbolic links copied as links); `skip` names top-level entries to leave out. */
function linkTree(from: string, to: string, skip: ReadonlySet<string> = new Set()): void {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) {
    if (skip.has(name)) continue;
    const src = join(from, name);
    const dst = join(to, name);
    const st = lstatSync(src);
    if (st.isSymbolicLink()) symlinkSync(readlinkSync(src), dst);
    else if (st.isDirectory()) linkTree(src, dst);
    else linkSync(src, dst);
  }
}

function storeBuilt(staging: string, cached: string): void {
  const tmp = `${cached}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  linkTree(staging, tmp, new Set(['build'])); // the object files are not needed to load it
  rmSync(cached, { recursive: true, force: true });
  renameSync(tmp, cached);
}

/** Puts the built package in place with one rename (the old one, if any, is moved aside first). */
function swapIn(staging: string): void {
  const old = `${staging}-old`;
  rmSync(old, { recursive: true, force: true });
  if (existsSync(PACKAGE_DIR)) renameSync(PACKAGE_DIR, old);
  renameSync(staging, PACKAGE_DIR);
  rmSync(old, { recursive: true, force: true });
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

export function main(): number {
  const start = Date.now();
  const before = existsSync(join(PACKAGE_DIR, 'package.json')) ? probeTensorflow(PACKAGE_DIR) : { error: 'not installed' };
  if ('version' in before) {
    process.stdout.write(`native: the tensorflow backend already loads (TensorFlow ${before.version}); nothing to do (${seconds(start)})\n`);
    return 0;
  }
  process.stdout.write(`native: tfjs-node does not load (${before.error}); setting it up with ${TF_WHEEL.name} ${TF_WHEEL.version}\n`);
  const staging = join(NODE_MODULES, '@tensorflow', '.tfjs-node-staging');
  try {
    stagePackage(staging);
    const cached = builtCacheDir(staging);
    if (existsSync(cached)) {
      rmSync(staging, { recursive: true, force: true });
      linkTree(cached, staging);
      const restored = probeTensorflow(staging);
      if ('version' in restored) {
        swapIn(staging);
        process.stdout.write(`native: --backend tensorflow loads (TensorFlow ${restored.version}), restored from ${cached.slice(ROOT.length + 1)}; took ${seconds(start)}\n`);
        return 0;
      }
      process.stdout.write(`  the cached build does not load (${restored.error}); building again\n`);
      rmSync(cached, { recursive: true, force: true });
      stagePackage(staging);
    }
    const wheel = ensureWheel();
    process.stdout.write(`  wheel ${wheel.slice(ROOT.length + 1)} (${seconds(start)})\n`);
    unpackLibrary(wheel, staging, tfjsNodeLibVersion(staging));
    process.stdout.write(`  libraries and headers unpacked (${seconds(start)})\n`);
    buildAddon(staging);
    process.stdout.write(`  addon built (${seconds(start)})\n`);
    const after = probeTensorflow(staging);
    if ('error' in after) throw new StepError(`the built backend does not load: ${after.error}`);
    storeBuilt(staging, cached);
    swapIn(staging);
    process.stdout.write(`native: --backend tensorflow loads (TensorFlow ${after.version}); took ${seconds(start)}\n`);
    return 0;
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    const reason = err instanceof StepError ? err.message : err instanceof Error ? err.message.split('\n')[0] : String(err);
    process.stderr.write(`native: failed after ${seconds(start)}, nothing changed (the suite runs on wasm): ${reason}\n`);
    return 1;
  }
}

process.exitCode = main();
