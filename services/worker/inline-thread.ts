/**
 * Inline mode's worker thread: runs one analysis (runAnalysisTask) off the API's event loop and
 * reports back by message — progress (at most every 500 ms), then one `done` or `failed`. The
 * API's InlineDispatcher (services/api/dispatch/inline.ts) starts one thread per analysis and
 * terminates it to cancel.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { AnalysisProgress, AnalysisTask, AnalysisTaskResult } from '../platform/analysis-task.js';
import { createLogger } from '../platform/logging.js';
import { type ObjectStorageConfig, openObjectStorage } from '../platform/object-store/open-object-storage.js';
import { runAnalysisTask } from './analysis-task.js';
import { describeFailure, type Failure } from './failure.js';

export interface InlineThreadInput {
  task: AnalysisTask;
  storage: ObjectStorageConfig;
  scratchDir: string;
  workers?: number;
  /** The API's log level (the thread logs like its parent). */
  logLevel: string;
}

export type InlineThreadMessage =
  | { type: 'progress'; progress: AnalysisProgress }
  | { type: 'done'; result: AnalysisTaskResult }
  | { type: 'failed'; failure: Failure };

const PROGRESS_INTERVAL_MS = 500;

async function main(input: InlineThreadInput): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('inline-thread.ts runs as a worker thread');
  const post = (message: InlineThreadMessage) => port.postMessage(message);
  const log = createLogger({ LOG_LEVEL: input.logLevel }, { analysis: input.task.analysisId, thread: 'inline' });
  const storage = openObjectStorage(input.storage);
  let lastSent = 0;
  try {
    const result = await runAnalysisTask(input.task, {
      storage,
      scratchDir: input.scratchDir,
      ...(input.workers !== undefined ? { workers: input.workers } : {}),
      log,
      onProgress: (progress) => {
        const now = Date.now();
        if (now - lastSent < PROGRESS_INTERVAL_MS && progress.framesDone < progress.framesTotal) return;
        lastSent = now;
        post({ type: 'progress', progress });
      },
    });
    post({ type: 'done', result });
  } catch (err) {
    const failure = describeFailure(err);
    log.warn({ err, code: failure.code, kind: failure.kind }, 'analysis failed');
    post({ type: 'failed', failure });
  } finally {
    storage.destroy();
  }
}

void main(workerData as InlineThreadInput);
