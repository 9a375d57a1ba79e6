/**
 * One AnalysisTask, start to finish, for the queue and inline workers: download the video from
 * object storage to a fresh directory under the scratch directory (size-capped), run the engine,
 * upload the outputs under the same keys as the Job mode (report.json last), and return the
 * report's headline and the object keys. The scratch directory is removed however it ends.
 *
 * Failures are thrown as they come (EngineError, ObjectStoreError, AbortError…): the caller
 * classifies them with `describeFailure` (permanent: never retried; transient: retried).
 */
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { analyzeVideo } from '../analysis/pipeline.js';
import type { Report } from '../analysis/report/schema.js';
import type { ExerciseChoice } from '../analysis/reps/exercises.js';
import type {
  AnalysisProgress,
  AnalysisResults,
  AnalysisSummary,
  AnalysisTask,
  AnalysisTaskResult,
} from '../platform/analysis-task.js';
import type { Logger } from '../platform/logging.js';
import { parseS3Uri } from '../platform/object-store/s3-uri.js';
import type { ObjectStorage } from '../platform/object-store/storage.js';
import type { Backend } from './config.js';
import { downloadSource } from './download-source.js';
import { uploadArtifacts } from './upload-artifacts.js';

export interface AnalysisTaskDeps {
  storage: ObjectStorage;
  /** A fresh `nfc-task-<pid>-*` directory is made (and removed) under it for each task. */
  scratchDir: string;
  /** Decode + pose worker threads (default: the engine's). */
  workers?: number;
  backend?: Backend;
  /** Stops the analysis (cancellation, shutdown): the task rejects with an AbortError. */
  signal?: AbortSignal;
  log: Logger;
  /** Every frame the engine finishes: throttle before sending it anywhere. */
  onProgress?: (progress: AnalysisProgress) => void;
}

/** Task directories are named after the process that made them (see removeStaleTaskDirs). */
const TASK_DIR_PREFIX = 'nfc-task-';

/** Runs one analysis; resolves with its summary and where its outputs are, or rejects. */
export async function runAnalysisTask(task: AnalysisTask, deps: AnalysisTaskDeps): Promise<AnalysisTaskResult> {
  const { storage, log, signal } = deps;
  const { source, output } = task;
  const sourceUri = storage.uri(source.bucket, source.key);
  await mkdir(deps.scratchDir, { recursive: true });
  const workDir = await mkdtemp(join(deps.scratchDir, `${TASK_DIR_PREFIX}${process.pid}-`));
  try {
    signal?.throwIfAborted();
    const started = performance.now();
    const { video, bytes } = await downloadSource(storage, source, sourceUri, workDir);
    log.info({ source: sourceUri, bytes, ms: Math.round(performance.now() - started) }, 'video downloaded');
    signal?.throwIfAborted();

    const report = await analyzeVideo(video, {
      exercise: task.exercise as ExerciseChoice,
      fps: task.fps,
      outDir: join(workDir, 'out'),
      ...(deps.workers !== undefined ? { workers: deps.workers } : {}),
      ...(deps.backend && deps.backend !== 'auto' ? { backend: deps.backend } : {}),
      ...(signal ? { signal } : {}),
      onProgress: ({ stage, framesDone, framesTotal }) => {
        if (stage !== 'probe') deps.onProgress?.({ framesDone, framesTotal });
      },
    });
    log.info(
      { reps: report.summary.reps, exercise: report.summary.exercise, backend: report.engine.backend },
      'analysis done',
    );
    signal?.throwIfAborted();

    const uploaded = await uploadArtifacts({
      store: storage,
      report,
      bucket: output.bucket,
      prefix: output.prefix,
      sourceUri,
    });
    log.info({ report: uploaded.report, thumbnails: uploaded.thumbnails.length }, 'outputs uploaded');
    return {
      summary: summaryOf(report, task),
      results: resultsOf(uploaded.uploadedReport, output),
    };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/** The report's headline (what the analysis row and the list endpoint show). */
export function summaryOf(report: Report, task: Pick<AnalysisTask, 'exercise'>): AnalysisSummary {
  return {
    exercise: report.summary.exercise ?? task.exercise,
    reps: report.summary.reps,
    partialReps: report.summary.partialReps,
    durationSeconds: report.summary.durationSeconds,
    score: report.summary.score,
    faults: report.summary.faults,
    message: report.summary.message,
  };
}

/** Object keys (not URIs) of the uploaded files, from the report as uploaded. */
function resultsOf(report: Report, output: AnalysisTask['output']): AnalysisResults {
  const key = (uri: string) => parseS3Uri(uri)?.key ?? uri;
  return {
    bucket: output.bucket,
    prefix: output.prefix,
    report: key(report.files.report),
    thumbnails: report.files.thumbnails.map(key),
    framesCsv: key(report.files.framesCsv),
  };
}

/**
 * Removes the task directories a killed process left in `scratchDir` (a SIGKILL or an OOM kill
 * skips every `finally`): those of processes that no longer run, and this process's own (a
 * restarted container is PID 1 again). Call it before this process starts any task; the
 * directories of other live processes sharing the scratch directory are left alone.
 */
export async function removeStaleTaskDirs(scratchDir: string, log: Logger): Promise<number> {
  let entries: string[];
  try {
    entries = await readdir(scratchDir);
  } catch {
    return 0; // no scratch directory yet: nothing left behind
  }
  let removed = 0;
  for (const name of entries) {
    const pid = Number(/^nfc-task-(\d+)-/.exec(name)?.[1]);
    if (!Number.isInteger(pid) || (pid !== process.pid && isRunning(pid))) continue;
    await rm(join(scratchDir, name), { recursive: true, force: true });
    removed++;
  }
  if (removed > 0) log.info({ scratchDir, removed }, 'removed the scratch directories of killed analyses');
  return removed;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
