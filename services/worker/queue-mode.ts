/**
 * Queue mode: a pool of analyses fed by the BullMQ queue (`nfc worker queue`). Each job is one
 * AnalysisTask run by `runAnalysisTask`; progress goes back through `job.updateProgress` (at most
 * once per interval), the result becomes the job's return value.
 *
 * - A permanent failure (a corrupt video, a missing source) is thrown as an UnrecoverableError:
 *   the job fails at once, with `[CODE] message` as its reason. A transient one is retried by
 *   BullMQ with backoff.
 * - A worker that dies (SIGKILL, lost node) stops renewing its job's lock; another worker's
 *   stalled-job check puts the job back in the queue within 1.5 lock durations.
 * - SIGTERM (`stop()`): no new jobs; running ones get `shutdownGraceMs` to finish, then are
 *   stopped and handed back to the queue, without using up one of their attempts.
 * - A cancelled analysis (its cancel key set by the API) is stopped within a second.
 * - Redis restarts are ridden out: ioredis reconnects and BullMQ carries on.
 */
import { type Job, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import type { AnalysisTaskResult } from '../platform/analysis-task.js';
import type { Logger } from '../platform/logging.js';
import type { ObjectStorage } from '../platform/object-store/storage.js';
import {
  ANALYSIS_QUEUE,
  type AnalysisJobData,
  type AnalysisJobResult,
  CANCELLED,
  cancelKey,
  encodeFailure,
} from '../platform/queue/analysis-queue.js';
import { createRedisConnection, describeRedis, redisOptions } from '../platform/queue/connection.js';
import { removeStaleTaskDirs, runAnalysisTask } from './analysis-task.js';
import { describeFailure } from './failure.js';
import { ProgressReporter } from './progress-reporter.js';
import type { WorkerQueueConfig } from './queue-config.js';

export interface QueueWorkerDeps {
  config: WorkerQueueConfig;
  log: Logger;
  storage: ObjectStorage;
  /** Queue name (tests use their own); default ANALYSIS_QUEUE. */
  queueName?: string;
}

export interface QueueWorkerPool {
  /** Stops taking jobs, lets running ones finish (or hands them back after the grace), closes. */
  stop(): Promise<void>;
}

/** How often a running job's cancel key is checked, ms. */
const CANCEL_POLL_MS = 1_000;

type StopReason = 'cancel' | 'shutdown';

export async function startQueueWorker(deps: QueueWorkerDeps): Promise<QueueWorkerPool> {
  const { config, storage } = deps;
  const log = deps.log.child({ component: 'queue-worker' });
  const queueName = deps.queueName ?? ANALYSIS_QUEUE;
  // What a killed predecessor left (an OOM-killed worker can leave a whole video behind).
  await removeStaleTaskDirs(config.scratchDir, log);
  // Our own keys (cancellation): commands fail rather than pile up while Redis is away.
  const redis = createRedisConnection(config.redis, 'request', 'nfc-worker-keys');
  redis.on('error', (err) => log.debug({ err }, 'redis connection error'));
  const running = new Map<string, { stop: AbortController; reason?: StopReason }>();

  const stopJob = (jobId: string, reason: StopReason) => {
    const entry = running.get(jobId);
    if (!entry || entry.reason) return;
    entry.reason = reason;
    entry.stop.abort(new DOMException(`analysis stopped (${reason})`, 'AbortError'));
  };

  const processor = async (
    job: Job<AnalysisJobData, AnalysisJobResult>,
    token?: string,
    signal?: AbortSignal,
  ): Promise<AnalysisTaskResult> => {
    const jobId = job.id as string;
    const jobLog = log.child({ analysis: jobId, attempt: Math.max(job.attemptsStarted, job.attemptsMade + 1) });
    const entry: { stop: AbortController; reason?: StopReason } = { stop: new AbortController() };
    running.set(jobId, entry);
    const checkCancel = async () => {
      if ((await redis.exists(cancelKey(jobId)).catch(() => 0)) === 1) stopJob(jobId, 'cancel');
    };
    let checking = false;
    const poll = setInterval(() => {
      if (checking) return;
      checking = true;
      void checkCancel().finally(() => {
        checking = false;
      });
    }, CANCEL_POLL_MS);
    const progress = new ProgressReporter({
      intervalMs: config.progressIntervalMs,
      send: (p) => job.updateProgress(p),
      onError: (err) => jobLog.warn({ err }, 'progress update failed'),
    });
    jobLog.info(
      { exercise: job.data.exercise, source: storage.uri(job.data.source.bucket, job.data.source.key) },
      'analysis started',
    );
    try {
      await checkCancel();
      const result = await runAnalysisTask(job.data, {
        storage,
        scratchDir: config.scratchDir,
        workers: config.workers,
        backend: config.backend,
        // BullMQ's own signal aborts when the job is cancelled in this process (worker.cancelJob).
        signal: signal ? AbortSignal.any([entry.stop.signal, signal]) : entry.stop.signal,
        log: jobLog,
        onProgress: (p) => progress.update(p),
      });
      const last = await progress.close();
      if (last) await job.updateProgress(last).catch((err: unknown) => jobLog.warn({ err }, 'progress update failed'));
      jobLog.info({ reps: result.summary.reps, report: result.results.report }, 'analysis succeeded');
      return result;
    } catch (error) {
      await progress.close();
      if (entry.reason === 'cancel') {
        await redis.del(cancelKey(jobId)).catch(() => undefined);
        jobLog.info('analysis cancelled');
        throw new UnrecoverableError(encodeFailure(CANCELLED, 'the analysis was cancelled'));
      }
      if (entry.reason === 'shutdown' && token) {
        // Back to the queue for another worker, without counting as a failed attempt.
        await job.moveToWait(token);
        jobLog.warn('worker stopping: analysis handed back to the queue');
        throw new WaitingError();
      }
      const failure = describeFailure(error);
      jobLog.error({ err: error, code: failure.code, kind: failure.kind }, 'analysis failed');
      const reason = encodeFailure(failure.code, failure.message);
      throw failure.kind === 'permanent' ? new UnrecoverableError(reason) : new Error(reason);
    } finally {
      clearInterval(poll);
      running.delete(jobId);
    }
  };

  const worker = new Worker<AnalysisJobData, AnalysisJobResult>(queueName, processor, {
    connection: redisOptions(config.redis, 'blocking', 'nfc-worker'),
    concurrency: config.concurrency,
    lockDuration: config.lockMs,
    // Looked for twice per lock duration: a dead worker's lock expires within one lock duration
    // of its death, and its job is back in the queue at most half a lock duration later.
    stalledInterval: Math.max(500, Math.round(config.lockMs / 2)),
    // A job whose worker died twice (e.g. it kills the worker) fails instead of looping for ever.
    maxStalledCount: 2,
    autorun: false,
  });
  worker.on('error', (err) => log.warn({ err }, 'queue worker error'));
  worker.on('stalled', (jobId) => log.warn({ analysis: jobId }, 'job stalled (its worker stopped); back in the queue'));
  const runLoop = worker.run().catch((err: unknown) => log.error({ err }, 'queue worker stopped'));
  await worker.waitUntilReady();
  log.info(
    {
      queue: queueName,
      redis: describeRedis(config.redis),
      concurrency: config.concurrency,
      workers: config.workers,
      lockMs: config.lockMs,
    },
    'queue worker ready',
  );

  let stopping: Promise<void> | undefined;
  return {
    stop: () => {
      stopping ??= (async () => {
        log.info({ running: running.size, graceMs: config.shutdownGraceMs }, 'queue worker stopping');
        const grace = setTimeout(() => {
          for (const jobId of running.keys()) stopJob(jobId, 'shutdown');
        }, config.shutdownGraceMs);
        try {
          await worker.close();
          await runLoop;
        } finally {
          clearTimeout(grace);
          redis.disconnect();
        }
        log.info('queue worker stopped');
      })();
      return stopping;
    },
  };
}
