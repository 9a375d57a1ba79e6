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
 * On start, a replica also reports the jobs running and those finished within the last hour:
 * what happened while no replica was listening (queue-updates.ts has the translations).
 *
 * Cancelling a running job sets a Redis key that the worker running it checks every second.
 */
import { type Job, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../../platform/logging.js';
import {
  ANALYSIS_ATTEMPTS,
  ANALYSIS_BACKOFF,
  ANALYSIS_JOB,
  ANALYSIS_QUEUE,
  type AnalysisJobData,
  type AnalysisJobResult,
  CANCEL_TTL_SECONDS,
  cancelKey,
  KEEP_COMPLETED,
  KEEP_FAILED,
} from '../../platform/queue/analysis-queue.js';
import type { RedisConfig } from '../../platform/queue/config.js';
import { createRedisConnection, describeRedis, redisOptions } from '../../platform/queue/connection.js';
import { errors } from '../errors.js';
import type { AnalysisTask, AnalysisUpdate, Dispatcher } from './dispatcher.js';
import {
  FinishedFilter,
  failedUpdate,
  handedBackUpdate,
  progressUpdate,
  removedUpdate,
  retryingUpdate,
  runningNowUpdate,
  runningUpdate,
  stalledUpdate,
  succeededUpdate,
} from './queue-updates.js';

export interface QueueDispatcherOptions {
  redis: RedisConfig;
  log: Logger;
  /** Queue name (tests use their own); default ANALYSIS_QUEUE. */
  queueName?: string;
  /** How long ready() waits for PONG, ms (default 2000). */
  pingTimeoutMs?: number;
  /** On start, jobs that finished this recently are reported again (default 1 h). */
  catchUpMs?: number;
}

const JOB_LOOKUP_TIMEOUT_MS = 5_000;

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
    const filter = new FinishedFilter();
    const deliver = (update: AnalysisUpdate | undefined) => {
      if (update && filter.pass(update)) onUpdate(update);
    };
    // Live events wait behind the catch-up, so what they say lands after the state read at start.
    let caughtUp!: () => void;
    this.#chain = new Promise<void>((resolve) => {
      caughtUp = resolve;
    });
    const handle = (what: string, fn: () => Promise<AnalysisUpdate | undefined>) => {
      this.#chain = this.#chain
        .then(fn)
        .then(deliver)
        .catch((err: unknown) => this.#log.warn({ err, event: what }, 'could not translate a queue event'));
    };
    events.on('active', ({ jobId }) => handle('active', async () => runningUpdate(jobId, await this.#job(jobId))));
    events.on('progress', ({ jobId, data }) => handle('progress', async () => progressUpdate(jobId, data)));
    events.on('completed', ({ jobId, returnvalue }) =>
      handle('completed', async () => succeededUpdate(jobId, await this.#job(jobId), returnvalue)),
    );
    events.on('failed', ({ jobId, failedReason }) =>
      handle('failed', async () => failedUpdate(jobId, await this.#job(jobId), failedReason)),
    );
    events.on('delayed', ({ jobId }) => handle('delayed', async () => retryingUpdate(jobId, await this.#job(jobId))));
    events.on('stalled', ({ jobId }) => handle('stalled', async () => stalledUpdate(jobId)));
    events.on('waiting', ({ jobId, prev }) =>
      handle('waiting', async () => (prev === 'active' ? handedBackUpdate(jobId) : undefined)),
    );
    events.on('removed', ({ jobId, prev }) => handle('removed', async () => removedUpdate(jobId, prev)));
    try {
      await events.waitUntilReady();
      await this.#catchUp(deliver);
    } finally {
      caughtUp();
    }
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

  /**
   * What happened while no replica was listening (all of them restarting): running jobs, and
   * jobs that finished within `catchUpMs`, as updates (the newest 1000 of each).
   */
  async #catchUp(deliver: (update: AnalysisUpdate) => void): Promise<void> {
    const since = Date.now() - (this.#opts.catchUpMs ?? 3_600_000);
    try {
      const [active, completed, failed] = await Promise.all([
        this.#queue.getJobs(['active'], 0, 999),
        this.#queue.getJobs(['completed'], 0, 999, false),
        this.#queue.getJobs(['failed'], 0, 999, false),
      ]);
      const recent = (job: { finishedOn?: number }) => (job.finishedOn ?? 0) >= since;
      for (const job of active) if (job.id) deliver(runningNowUpdate(job.id, job));
      for (const job of completed.filter(recent)) if (job.id) deliver(succeededUpdate(job.id, job, job.returnvalue));
      for (const job of failed.filter(recent)) if (job.id) deliver(failedUpdate(job.id, job, job.failedReason));
    } catch (err) {
      this.#log.warn({ err }, 'could not catch up with the queue');
    }
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

function messageOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]?.slice(0, 200) ?? '';
}
