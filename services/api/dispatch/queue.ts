/**
 * `queue` dispatch: each analysis is a BullMQ job whose id is the analysis id, consumed by the
 * `nfc worker queue` pool. Submitting twice is harmless (BullMQ ignores a second job with the
 * same id). What happens to the job reaches every API replica through its own QueueEvents
 * listener (a Redis stream), translated here into AnalysisUpdates:
 *
 * - active → running (attempt n); progress → running with frames done;
 * - completed → succeeded with the summary and the output keys;
 * - failed → failed with the worker's message and code (or cancelled, when it was);
 * - a retry after a transient failure, a job whose worker died (stalled) or was stopped (handed
 *   back) → queued again, with a message saying why;
 * - a waiting job removed by cancel() → cancelled.
 *
 * Cancelling a running job sets a Redis key that the worker running it checks every second.
 */
import { type Job, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AnalysisProgress, AnalysisTaskResult } from '../../platform/analysis-task.js';
import type { Logger } from '../../platform/logging.js';
import {
  ANALYSIS_ATTEMPTS,
  ANALYSIS_BACKOFF,
  ANALYSIS_JOB,
  ANALYSIS_QUEUE,
  type AnalysisJobData,
  type AnalysisJobResult,
  CANCEL_TTL_SECONDS,
  CANCELLED,
  cancelKey,
  decodeFailure,
  KEEP_COMPLETED,
  KEEP_FAILED,
} from '../../platform/queue/analysis-queue.js';
import type { RedisConfig } from '../../platform/queue/config.js';
import { createRedisConnection, describeRedis, redisOptions } from '../../platform/queue/connection.js';
import { errors } from '../errors.js';
import type { AnalysisTask, AnalysisUpdate, Dispatcher } from './dispatcher.js';

export interface QueueDispatcherOptions {
  redis: RedisConfig;
  log: Logger;
  /** Queue name (tests use their own); default ANALYSIS_QUEUE. */
  queueName?: string;
  /** How long ready() waits for PONG, ms (default 2000). */
  pingTimeoutMs?: number;
}

const JOB_LOOKUP_TIMEOUT_MS = 5_000;

/** States in which a job can simply be removed (no worker holds it). */
const REMOVABLE = new Set(['waiting', 'wait', 'delayed', 'prioritized', 'paused', 'waiting-children']);

export class QueueDispatcher implements Dispatcher {
  readonly mode = 'queue' as const;
  readonly #opts: QueueDispatcherOptions;
  readonly #log: Logger;
  readonly #queue: Queue<AnalysisJobData, AnalysisJobResult>;
  readonly #redis: Redis;
  #events: QueueEvents | undefined;
  /** Events are translated one at a time, so updates keep the order of the stream. */
  #chain: Promise<void> = Promise.resolve();

  constructor(opts: QueueDispatcherOptions) {
    this.#opts = opts;
    this.#log = opts.log.child({ component: 'queue-dispatcher' });
    const name = opts.queueName ?? ANALYSIS_QUEUE;
    this.#queue = new Queue(name, { connection: redisOptions(opts.redis, 'request', 'nfc-api-queue') });
    // BullMQ reports connection errors as 'error' events; without a listener they would crash the process.
    this.#queue.on('error', (err) => this.#log.warn({ err }, 'queue connection error'));
    this.#redis = createRedisConnection(opts.redis, 'request', 'nfc-api');
    this.#redis.on('error', (err) => this.#log.debug({ err }, 'redis connection error'));
  }

  async start(onUpdate: (update: AnalysisUpdate) => void): Promise<void> {
    if (this.#events) return;
    const events = new QueueEvents(this.#queue.name, {
      connection: redisOptions(this.#opts.redis, 'blocking', 'nfc-api-events'),
    });
    this.#events = events;
    events.on('error', (err) => this.#log.warn({ err }, 'queue events connection error'));
    const handle = (what: string, fn: () => Promise<AnalysisUpdate | undefined>) => {
      this.#chain = this.#chain
        .then(fn)
        .then((update) => {
          if (update) onUpdate(update);
        })
        .catch((err: unknown) => this.#log.warn({ err, event: what }, 'could not translate a queue event'));
    };
    events.on('active', ({ jobId }) => handle('active', () => this.#onActive(jobId)));
    events.on('progress', ({ jobId, data }) =>
      handle('progress', async () => {
        const progress = asProgress(data);
        return progress ? { analysisId: jobId, status: 'running', progress } : undefined;
      }),
    );
    events.on('completed', ({ jobId, returnvalue }) =>
      handle('completed', () => this.#onCompleted(jobId, returnvalue as unknown)),
    );
    events.on('failed', ({ jobId, failedReason }) => handle('failed', () => this.#onFailed(jobId, failedReason)));
    events.on('delayed', ({ jobId }) => handle('delayed', () => this.#onRetrying(jobId)));
    events.on('stalled', ({ jobId }) =>
      handle('stalled', async () => ({
        analysisId: jobId,
        status: 'queued',
        message: 'the worker running this analysis stopped responding; another worker will take it over',
      })),
    );
    // A worker stopping (SIGTERM) hands its running job back to the queue.
    events.on('waiting', ({ jobId, prev }) =>
      handle('waiting', async () =>
        prev === 'active'
          ? {
              analysisId: jobId,
              status: 'queued',
              message: 'the worker running this analysis was stopped; another worker will take it over',
            }
          : undefined,
      ),
    );
    events.on('removed', ({ jobId, prev }) =>
      handle('removed', async () =>
        REMOVABLE.has(prev)
          ? { analysisId: jobId, status: 'cancelled', message: 'cancelled', finishedAt: new Date().toISOString() }
          : undefined,
      ),
    );
    await events.waitUntilReady();
  }

  async submit(task: AnalysisTask): Promise<void> {
    // BullMQ refuses ids that look like integers or contain ':'; the API's ids are UUIDs.
    if (/^\d+$/.test(task.analysisId) || task.analysisId.includes(':')) {
      throw new Error(`analysis id "${task.analysisId}" cannot be a queue job id`);
    }
    await this.#unavailableOnError('submit the analysis', () =>
      this.#queue.add(ANALYSIS_JOB, task, {
        jobId: task.analysisId,
        attempts: ANALYSIS_ATTEMPTS,
        backoff: ANALYSIS_BACKOFF,
        removeOnComplete: KEEP_COMPLETED,
        removeOnFail: KEEP_FAILED,
      }),
    );
  }

  async cancel(analysisId: string): Promise<void> {
    await this.#unavailableOnError('cancel the analysis', async () => {
      const state = await this.#queue.getJobState(analysisId);
      if (state === 'unknown') return;
      // 1 when removed; 0 when a worker holds the job's lock (it is running, or just started).
      if (state !== 'active' && (await this.#queue.remove(analysisId)) === 1) return;
      if (state === 'completed' || state === 'failed') return;
      await this.#redis.set(cancelKey(analysisId), '1', 'EX', CANCEL_TTL_SECONDS);
      this.#log.info({ analysis: analysisId }, 'cancellation requested from the worker running it');
    });
  }

  async ready(): Promise<void> {
    const timeoutMs = this.#opts.pingTimeoutMs ?? 2_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.#redis.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (err) {
      throw errors.unavailable(`Redis at ${describeRedis(this.#opts.redis)} is unreachable: ${messageOf(err)}`);
    } finally {
      clearTimeout(timer);
    }
  }

  async stop(): Promise<void> {
    await this.#events?.close();
    this.#events = undefined;
    await this.#chain;
    await this.#queue.close();
    this.#redis.disconnect();
  }

  async #onActive(jobId: string): Promise<AnalysisUpdate> {
    const job = await this.#job(jobId);
    return {
      analysisId: jobId,
      status: 'running',
      ...(job ? { attempts: Math.max(job.attemptsStarted, job.attemptsMade + 1) } : {}),
      ...(job?.processedOn ? { startedAt: new Date(job.processedOn).toISOString() } : {}),
    };
  }

  async #onCompleted(jobId: string, value: unknown): Promise<AnalysisUpdate> {
    const job = await this.#job(jobId);
    const result = value as Partial<AnalysisTaskResult> | undefined;
    const progress = job ? asProgress(job.progress) : undefined;
    return {
      analysisId: jobId,
      status: 'succeeded',
      ...(result?.summary ? { summary: result.summary } : {}),
      ...(result?.results ? { results: result.results } : {}),
      ...(typeof result?.summary?.message === 'string' ? { message: result.summary.message } : {}),
      ...(progress ? { progress } : {}),
      ...(job ? { attempts: attemptsOf(job) } : {}),
      finishedAt: new Date(job?.finishedOn ?? Date.now()).toISOString(),
    };
  }

  async #onFailed(jobId: string, failedReason: string): Promise<AnalysisUpdate> {
    const { code, message } = decodeFailure(failedReason);
    const job = await this.#job(jobId);
    const finishedAt = new Date(job?.finishedOn ?? Date.now()).toISOString();
    if (code === CANCELLED) return { analysisId: jobId, status: 'cancelled', message, finishedAt };
    return {
      analysisId: jobId,
      status: 'failed',
      message,
      // BullMQ's own reasons have no code: the only one we can meet is a job that stalled too often.
      errorCode: code ?? (/stalled/i.test(message) ? 'WORKER_LOST' : 'QUEUE_FAILED'),
      ...(job ? { attempts: attemptsOf(job) } : {}),
      finishedAt,
    };
  }

  /** A job delayed after a failed attempt waits for its backoff before the next one. */
  async #onRetrying(jobId: string): Promise<AnalysisUpdate | undefined> {
    const job = await this.#job(jobId);
    if (!job || job.attemptsMade === 0) return undefined;
    const { message } = decodeFailure(job.failedReason);
    const left = ANALYSIS_ATTEMPTS - job.attemptsMade;
    return {
      analysisId: jobId,
      status: 'queued',
      attempts: attemptsOf(job),
      message: `attempt ${attemptsOf(job)} failed (${message}); retrying (${left} attempt${left === 1 ? '' : 's'} left)`,
    };
  }

  /**
   * The job's details, or undefined when it is gone or Redis does not answer within 5 s: the
   * update then goes out without them rather than holding up every later one.
   */
  async #job(jobId: string): Promise<Job<AnalysisJobData, AnalysisJobResult> | undefined> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.#queue.getJob(jobId).then((job) => job ?? undefined),
        new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), JOB_LOOKUP_TIMEOUT_MS);
        }),
      ]);
    } catch (err) {
      this.#log.warn({ err, analysis: jobId }, 'could not read the job');
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  async #unavailableOnError<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      this.#log.warn({ err }, `could not ${what}`);
      throw errors.unavailable(
        `could not ${what}: the queue (Redis at ${describeRedis(this.#opts.redis)}) is unavailable (${messageOf(err)})`,
      );
    }
  }
}

/**
 * Times the analysis was started: failed attempts, plus starts that did not count against the
 * retries (a worker that died or handed the job back), so the number shown never goes down.
 */
function attemptsOf(job: Pick<Job, 'attemptsStarted' | 'attemptsMade'>): number {
  return Math.max(job.attemptsStarted, job.attemptsMade);
}

function asProgress(value: unknown): AnalysisProgress | undefined {
  const p = value as Partial<AnalysisProgress> | null | undefined;
  return p && typeof p === 'object' && typeof p.framesDone === 'number' && typeof p.framesTotal === 'number'
    ? { framesDone: p.framesDone, framesTotal: p.framesTotal }
    : undefined;
}

function messageOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]?.slice(0, 200) ?? '';
}
