/**
 * The BullMQ queue shared by the API (producer, `QueueDispatcher`) and `nfc worker queue`
 * (consumers): its name, the job's name and data, the retry policy, how a failure's code
 * travels with its message, and the key that asks a worker to cancel a running analysis.
 */
import type { AnalysisProgress, AnalysisTask, AnalysisTaskResult } from '../analysis-task.js';

/** One queue for every analysis. */
export const ANALYSIS_QUEUE = 'nfc-analyses';

/** The name every job has (BullMQ jobs carry a name; the id is the analysis id). */
export const ANALYSIS_JOB = 'analyse';

/** A job's data is the task itself; its return value is the task's result. */
export type AnalysisJobData = AnalysisTask;
export type AnalysisJobResult = AnalysisTaskResult;
export type AnalysisJobProgress = AnalysisProgress;

/** Attempts for a transient failure (a permanent one fails at the first). */
export const ANALYSIS_ATTEMPTS = 3;

/** Exponential backoff between attempts: 2 s, then 4 s. */
export const ANALYSIS_BACKOFF = { type: 'exponential', delay: 2_000 } as const;

/**
 * Finished jobs kept in Redis: long enough for every API replica to read the outcome (the rows
 * are the record), bounded so Redis does not grow with the history.
 */
export const KEEP_COMPLETED = { age: 24 * 3600, count: 10_000 } as const;
export const KEEP_FAILED = { age: 7 * 24 * 3600, count: 10_000 } as const;

/**
 * Set by `QueueDispatcher.cancel` for an analysis that is running; the worker running it checks
 * it every second and stops. Expires by itself (a day) in case no worker ever sees it.
 */
export function cancelKey(analysisId: string): string {
  return `nfc:cancel:${analysisId}`;
}
export const CANCEL_TTL_SECONDS = 24 * 3600;

/** The failure code of a cancelled analysis. */
export const CANCELLED = 'CANCELLED';

/**
 * BullMQ keeps only a failure's message, so the worker puts the code in front of it:
 * `[CORRUPT_VIDEO] the video cannot be analysed: …`.
 */
export function encodeFailure(code: string, message: string): string {
  return `[${code}] ${message}`;
}

/** The code and message of a job's failedReason (no code: BullMQ's own reasons, e.g. too many stalls). */
export function decodeFailure(reason: string | undefined): { code?: string; message: string } {
  const text = reason ?? '';
  const match = /^\[([A-Za-z0-9_.-]{1,64})\] ([\s\S]*)$/.exec(text);
  if (match?.[1] !== undefined && match[2] !== undefined) return { code: match[1], message: match[2] };
  return { message: text || 'the analysis failed' };
}
