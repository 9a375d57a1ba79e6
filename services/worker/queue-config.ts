/**
 * Settings of `nfc worker queue`, from the environment, checked (every problem reported at
 * once) and frozen:
 * - NFC_WORKER_CONCURRENCY: analyses at a time in this process (default 1);
 * - NFC_WORKERS: decode + pose threads per analysis (default: one per core, at most 16);
 * - NFC_SCRATCH_DIR, NFC_BACKEND: as for `nfc worker job`;
 * - NFC_QUEUE_LOCK_MS: how long a job stays locked by a worker that stopped renewing the lock
 *   (killed, frozen). The lock is renewed every half of it and stalled jobs are looked for as
 *   often, so a dead worker's job is back in the queue within 1.5 times this (default 15000:
 *   within ~23 s);
 * - NFC_PROGRESS_INTERVAL_MS: at most one progress update per interval (default 1000);
 * - NFC_SHUTDOWN_GRACE_MS: on SIGTERM, how long a running analysis may finish before it is
 *   stopped and handed back to the queue (default 20000, within Kubernetes' 30 s);
 * - the NFC_REDIS_* settings (platform/queue/config.ts) and the S3 settings.
 */
import { availableParallelism, tmpdir } from 'node:os';
import { type ObjectStoreConfig, objectStoreConfigFromEnv } from '../platform/object-store/config.js';
import { type RedisConfig, redisConfigFromEnv } from '../platform/queue/config.js';
import { BACKENDS, type Backend, WorkerConfigError } from './config.js';

export interface WorkerQueueConfig {
  concurrency: number;
  workers: number;
  scratchDir: string;
  backend: Backend;
  lockMs: number;
  progressIntervalMs: number;
  shutdownGraceMs: number;
  redis: RedisConfig;
  objectStore: ObjectStoreConfig;
}

export function loadWorkerQueueConfig(env: NodeJS.ProcessEnv): WorkerQueueConfig {
  const problems: string[] = [];
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name]?.trim();
    const value = raw ? Number(raw) : fallback;
    if (!(Number.isInteger(value) && value >= min && value <= max)) {
      problems.push(`${name} must be an integer from ${min} to ${max} (got "${env[name]}")`);
    }
    return value;
  };
  const concurrency = int('NFC_WORKER_CONCURRENCY', 1, 1, 64);
  const workers = int('NFC_WORKERS', Math.min(16, availableParallelism()), 1, 16);
  const lockMs = int('NFC_QUEUE_LOCK_MS', 15_000, 1_000, 600_000);
  const progressIntervalMs = int('NFC_PROGRESS_INTERVAL_MS', 1_000, 100, 60_000);
  const shutdownGraceMs = int('NFC_SHUTDOWN_GRACE_MS', 20_000, 0, 3_600_000);
  const backend = (env.NFC_BACKEND?.trim() || 'auto') as Backend;
  if (!BACKENDS.includes(backend)) {
    problems.push(`NFC_BACKEND must be one of ${BACKENDS.join(', ')} (got "${backend}")`);
  }
  let redis: RedisConfig | undefined;
  let objectStore: ObjectStoreConfig | undefined;
  try {
    redis = redisConfigFromEnv(env);
  } catch (err) {
    problems.push((err as Error).message);
  }
  try {
    objectStore = objectStoreConfigFromEnv(env);
  } catch (err) {
    problems.push((err as Error).message);
  }
  if (problems.length > 0 || !redis || !objectStore) {
    throw new WorkerConfigError(`invalid worker settings: ${problems.join('; ')}`);
  }
  return Object.freeze({
    concurrency,
    workers,
    scratchDir: env.NFC_SCRATCH_DIR?.trim() || tmpdir(),
    backend,
    lockMs,
    progressIntervalMs,
    shutdownGraceMs,
    redis,
    objectStore,
  });
}
