/**
 * Picks the fastest TensorFlow.js backend that is installed: the CUDA build of tfjs-node
 * (GPU images), the CPU build of tfjs-node, then WebAssembly, which runs everywhere
 * (including machines where the native builds cannot be installed).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { EngineError } from '../errors.js';

export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm';

export interface BackendChoice {
  name: BackendName;
  /** The npm package that provided it. */
  package: string;
  threads: number;
}

const require = createRequire(import.meta.url);
let chosen: Promise<BackendChoice> | undefined;

export interface BackendOptions {
  /** Force one backend (e.g. `wasm` for reproducible benchmarks). */
  prefer?: BackendName | 'auto';
  /** WebAssembly threads; 1 keeps one analysis per core when several run side by side. */
  wasmThreads?: number;
}

/** Initialises TensorFlow.js once per process (or worker thread) and reports what ran. */
export function initBackend(options: BackendOptions = {}): Promise<BackendChoice> {
  chosen ??= pick(options);
  return chosen;
}

async function pick(options: BackendOptions): Promise<BackendChoice> {
  const prefer = options.prefer ?? 'auto';
  const candidates: Array<[BackendName, string]> = [
    ['tensorflow-gpu', '@tensorflow/tfjs-node-gpu'],
    ['tensorflow', '@tensorflow/tfjs-node'],
  ];
  for (const [name, pkg] of candidates) {
    if (prefer !== 'auto' && prefer !== name) continue;
    try {
      // Importing the native package registers the 'tensorflow' backend as a side effect.
      await import(pkg);
      if (await tf.setBackend('tensorflow')) {
        await tf.ready();
        return { name, package: pkg, threads: 0 };
      }
    } catch {
      // Not installed here (its install needs network access); try the next one.
    }
  }
  if (prefer !== 'auto' && prefer !== 'wasm') {
    throw new EngineError('BACKEND_UNAVAILABLE', `The ${prefer} backend is not installed.`, { prefer });
  }
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  wasm.setWasmPaths(`${join(dist, 'dist')}/`);
  const threads = Math.max(1, options.wasmThreads ?? 1);
  wasm.setThreadsCount(threads);
  if (!(await tf.setBackend('wasm'))) {
    throw new EngineError('BACKEND_UNAVAILABLE', 'No TensorFlow.js backend could start.', {});
  }
  await tf.ready();
  return { name: 'wasm', package: '@tensorflow/tfjs-backend-wasm', threads: wasm.getThreadsCount() };
}
