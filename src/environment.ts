import { execFileSync } from 'node:child_process';
import { cpus, platform, arch } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { tensorflowInfo } from './backend.js';
import type { Environment } from './results/schema.js';

function gitCommit(): string | null {
  try {
    const out = execFileSync('git', ['rev-parse', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
    return out.toString().trim() || null;
  } catch {
    return null;
  }
}

/**
 * Whether the code differs from the commit: changes outside results/ (which runs themselves
 * write), untracked files included. null when git cannot tell.
 */
function gitDirty(): boolean | null {
  try {
    const out = execFileSync('git', ['status', '--porcelain', '--', '.', ':(exclude)results'], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
    return out.toString().trim().length > 0;
  } catch {
    return null;
  }
}

/** Where a run happened: recorded in every result file. */
export function describeEnvironment(): Environment {
  const cpuList = cpus();
  const tensorflow = tensorflowInfo();
  return {
    backend: tf.getBackend(),
    tfjsVersion: tf.version_core,
    nodeVersion: process.version,
    platform: `${platform()}-${arch()}`,
    cpu: cpuList[0]?.model?.trim() ?? 'unknown',
    cpuCount: cpuList.length,
    gitCommit: gitCommit(),
    gitDirty: gitDirty(),
    ...(tensorflow ? { tensorflow } : {}),
  };
}
