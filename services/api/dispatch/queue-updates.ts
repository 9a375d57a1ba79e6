/**
 * How the state of a BullMQ analysis job reads as an AnalysisUpdate: from a queue event as it
 * happens, or from the job itself when an API replica starts and catches up. Pure functions of
 * what Redis returned; the dispatcher (queue.ts) fetches and delivers.
 */
import type { Job } from 'bullmq';
import type { AnalysisProgress, AnalysisTaskResult } from '../../platform/analysis-task.js';
import { ANALYSIS_ATTEMPTS, CANCELLED, decodeFailure } from '../../platform/queue/analysis-queue.js';
import type { AnalysisUpdate } from './dispatcher.js';

/** The parts of a job the updates are made from (absent when the job could not be read). */
export type JobView = Pick<
  Job,
  'attemptsStarted' | 'attemptsMade' | 'processedOn' | 'finishedOn' | 'progress' | 'failedReason' | 'returnvalue'
>;

/**
 * Times the analysis was started: failed attempts, plus starts that did not count against the
 * retries (a worker that died or handed the job back), so the number shown never goes down.
 */
export function attemptsOf(job: Pick<JobView, 'attemptsStarted' | 'attemptsMade'>): number {
  return Math.max(job.attemptsStarted, job.attemptsMade);
}

export function asProgress(value: unknown): AnalysisProgress | undefined {
  const p = value as Partial<AnalysisProgress> | null | undefined;
  return p && typeof p === 'object' && typeof p.framesDone === 'number' && typeof p.framesTotal === 'number'
    ? { framesDone: p.framesDone, framesTotal: p.framesTotal }
    : undefined;
}

const iso = (ms: number | undefined) => new Date(ms ?? Date.now()).toISOString();

/** A job started (its progress is a previous attempt's, if any: a new start reports its own). */
export function runningUpdate(analysisId: string, job: JobView | undefined): AnalysisUpdate {
  return {
    analysisId,
    status: 'running',
    ...(job ? { attempts: Math.max(job.attemptsStarted, job.attemptsMade + 1) } : {}),
    ...(job?.processedOn ? { startedAt: iso(job.processedOn) } : {}),
  };
}

/** A job found running when a replica starts: where it is now. */
export function runningNowUpdate(analysisId: string, job: JobView): AnalysisUpdate {
  const progress = asProgress(job.progress);
  return { ...runningUpdate(analysisId, job), ...(progress ? { progress } : {}) };
}

export function progressUpdate(analysisId: string, data: unknown): AnalysisUpdate | undefined {
  const progress = asProgress(data);
  return progress ? { analysisId, status: 'running', progress } : undefined;
}

export function succeededUpdate(analysisId: string, job: JobView | undefined, value: unknown): AnalysisUpdate {
  const result = value as Partial<AnalysisTaskResult> | undefined;
  const progress = job ? asProgress(job.progress) : undefined;
  return {
    analysisId,
    status: 'succeeded',
    ...(result?.summary ? { summary: result.summary } : {}),
    ...(result?.results ? { results: result.results } : {}),
    ...(typeof result?.summary?.message === 'string' ? { message: result.summary.message } : {}),
    ...(progress ? { progress } : {}),
    ...(job ? { attempts: attemptsOf(job) } : {}),
    finishedAt: iso(job?.finishedOn),
  };
}

/** Failed for good (or cancelled: the worker stopped it on request). */
export function failedUpdate(analysisId: string, job: JobView | undefined, failedReason: string): AnalysisUpdate {
  const { code, message } = decodeFailure(failedReason);
  const finishedAt = iso(job?.finishedOn);
  if (code === CANCELLED) return { analysisId, status: 'cancelled', message, finishedAt };
  return {
    analysisId,
    status: 'failed',
    message,
    // BullMQ's own reasons have no code: the only one we can meet is a job that stalled too often.
    errorCode: code ?? (/stalled/i.test(message) ? 'WORKER_LOST' : 'QUEUE_FAILED'),
    ...(job ? { attempts: attemptsOf(job) } : {}),
    finishedAt,
  };
}

/** A job delayed after a failed attempt waits for its backoff before the next one. */
export function retryingUpdate(analysisId: string, job: JobView | undefined): AnalysisUpdate | undefined {
  if (!job || job.attemptsMade === 0) return undefined;
  const { message } = decodeFailure(job.failedReason);
  const left = ANALYSIS_ATTEMPTS - job.attemptsMade;
  return {
    analysisId,
    status: 'queued',
    attempts: attemptsOf(job),
    message: `attempt ${attemptsOf(job)} failed (${message}); retrying (${left} attempt${left === 1 ? '' : 's'} left)`,
  };
}

export function stalledUpdate(analysisId: string): AnalysisUpdate {
  return {
    analysisId,
    status: 'queued',
    message: 'the worker running this analysis stopped responding; another worker will take it over',
  };
}

/**
 * A running job went back to the queue: its worker, stopping (SIGTERM), handed it back, or it
 * stalled (then a stalled event follows and says so).
 */
export function handedBackUpdate(analysisId: string): AnalysisUpdate {
  return {
    analysisId,
    status: 'queued',
    message: 'the worker running this analysis stopped before finishing; another worker will take it over',
  };
}

/** States in which cancel() removes a job (no worker holds it). */
export const REMOVABLE_STATES: ReadonlySet<string> = new Set([
  'waiting',
  'wait',
  'delayed',
  'prioritized',
  'paused',
  'waiting-children',
]);

/** A job removed before it ran was cancelled; removing a finished one changes nothing. */
export function removedUpdate(analysisId: string, prev: string): AnalysisUpdate | undefined {
  return REMOVABLE_STATES.has(prev)
    ? { analysisId, status: 'cancelled', message: 'cancelled', finishedAt: iso(undefined) }
    : undefined;
}

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

/**
 * Remembers the analyses seen finished (the newest `capacity`) and drops any later update that
 * would make one look unfinished again: catching up on start reads the jobs' state while live
 * events that are older than that state may still be on their way.
 */
export class FinishedFilter {
  readonly #finished = new Map<string, true>();
  constructor(readonly capacity = 10_000) {}

  /** True when `update` should be delivered. */
  pass(update: AnalysisUpdate): boolean {
    if (update.status && TERMINAL.has(update.status)) {
      this.#finished.delete(update.analysisId);
      this.#finished.set(update.analysisId, true);
      if (this.#finished.size > this.capacity) {
        const oldest = this.#finished.keys().next().value;
        if (oldest !== undefined) this.#finished.delete(oldest);
      }
      return true;
    }
    return !this.#finished.has(update.analysisId);
  }
}
