/**
 * The worker's settings, read once in `main` from the command line and the environment the
 * Job gives it, checked (every problem reported at once) and frozen.
 */
import { availableParallelism, tmpdir } from 'node:os';
import { type ObjectStoreConfig, objectStoreConfigFromEnv } from '../platform/object-store/config.js';

export const BACKENDS = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm'] as const;
export type Backend = (typeof BACKENDS)[number];

export interface WorkerJobConfig {
  namespace: string;
  /** The VideoAnalysis this Job analyses. */
  name: string;
  /** Where the video and the outputs are written while the Job runs (an emptyDir in the Pod). */
  scratchDir: string;
  backend: Backend;
  /** Decode + pose worker threads. */
  workers: number;
  /** Minimum time between two status.progress patches, ms. */
  progressIntervalMs: number;
  /** The file the kubelet reads as the container's termination message (written only if it exists). */
  terminationLogPath: string;
  objectStore: ObjectStoreConfig;
}

/** A setting that can never work; the command reports it as a usage error. */
export class WorkerConfigError extends Error {
  override readonly name = 'WorkerConfigError';
  readonly code = 'WORKER_CONFIG';
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function loadWorkerJobConfig(
  args: { namespace?: string | undefined; name?: string | undefined },
  env: NodeJS.ProcessEnv,
): WorkerJobConfig {
  const problems: string[] = [];
  const namespace = args.namespace ?? env.NFC_NAMESPACE ?? '';
  const name = args.name ?? env.NFC_NAME ?? '';
  if (!DNS_LABEL.test(namespace))
    problems.push(`namespace must be a DNS label (--namespace or NFC_NAMESPACE; got "${namespace}")`);
  if (!DNS_SUBDOMAIN.test(name)) problems.push(`name must be a resource name (--name or NFC_NAME; got "${name}")`);

  const backend = (env.NFC_BACKEND?.trim() || 'auto') as Backend;
  if (!BACKENDS.includes(backend))
    problems.push(`NFC_BACKEND must be one of ${BACKENDS.join(', ')} (got "${backend}")`);

  // One thread per core the container may use (Node's count honours the cgroup CPU quota).
  const workers = env.NFC_WORKERS?.trim() ? Number(env.NFC_WORKERS) : Math.min(16, availableParallelism());
  if (!(Number.isInteger(workers) && workers >= 1 && workers <= 16)) {
    problems.push(`NFC_WORKERS must be an integer from 1 to 16 (got "${env.NFC_WORKERS}")`);
  }
  const interval = env.NFC_PROGRESS_INTERVAL_MS?.trim() ? Number(env.NFC_PROGRESS_INTERVAL_MS) : 2000;
  if (!(Number.isInteger(interval) && interval >= 100)) {
    problems.push(`NFC_PROGRESS_INTERVAL_MS must be an integer ≥ 100 (got "${env.NFC_PROGRESS_INTERVAL_MS}")`);
  }

  let objectStore: ObjectStoreConfig | undefined;
  try {
    objectStore = objectStoreConfigFromEnv(env);
  } catch (err) {
    problems.push((err as Error).message);
  }
  if (problems.length > 0 || !objectStore)
    throw new WorkerConfigError(`invalid worker settings: ${problems.join('; ')}`);
  return Object.freeze({
    namespace,
    name,
    scratchDir: env.NFC_SCRATCH_DIR?.trim() || tmpdir(),
    backend,
    workers,
    progressIntervalMs: interval,
    terminationLogPath: env.NFC_TERMINATION_LOG?.trim() || '/dev/termination-log',
    objectStore,
  });
}
