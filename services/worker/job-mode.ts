/**
 * Job mode: one analysis in one Kubernetes Job. Reads its VideoAnalysis, streams the video from
 * the bucket to the scratch directory, runs the engine, uploads the outputs, and writes what the
 * worker owns in the status (progress, summary, results; message when the video can never be
 * analysed). Phase and conditions belong to the operator and are never touched here.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CustomObjectsApi } from '@kubernetes/client-node';
import { analyzeVideo } from '../analysis/pipeline.js';
import type { Report } from '../analysis/report/schema.js';
import type { ExerciseChoice } from '../analysis/reps/exercises.js';
import {
  type MergePatch,
  patchVideoAnalysisStatus,
  type ResourceRef,
  readVideoAnalysis,
} from '../platform/kube/client.js';
import type { VideoAnalysis, VideoAnalysisStatus } from '../platform/kube/video-analysis.js';
import type { Logger } from '../platform/logging.js';
import type { ObjectStore } from '../platform/object-store/object-store.js';
import { formatS3Uri } from '../platform/object-store/s3-uri.js';
import type { WorkerJobConfig } from './config.js';
import { downloadSource } from './download-source.js';
import { describeFailure, type Failure, JobError, kubeCall } from './failure.js';
import { ProgressReporter } from './progress-reporter.js';
import { uploadArtifacts } from './upload-artifacts.js';

export const FIELD_MANAGER = 'nfc-worker';

export interface JobModeDeps {
  config: WorkerJobConfig;
  log: Logger;
  kube: CustomObjectsApi;
  store: ObjectStore;
  /** Aborted when the Pod is being stopped (SIGTERM). */
  signal?: AbortSignal;
}

export type JobOutcome = { kind: 'done'; message: string } | Failure;

/** Runs the analysis; never throws: every ending is an outcome the command maps to an exit code. */
export async function runJobMode(deps: JobModeDeps): Promise<JobOutcome> {
  const { config, kube } = deps;
  const ref: ResourceRef = { namespace: config.namespace, name: config.name };
  const log = deps.log.child({ analysis: ref.name, namespace: ref.namespace });
  let va: VideoAnalysis | undefined;
  try {
    va = await kubeCall(`read VideoAnalysis ${ref.namespace}/${ref.name}`, () => readVideoAnalysis(kube, ref));
    return await analyse(va, { ...deps, log }, ref);
  } catch (error) {
    const failure = describeFailure(error);
    log.error({ err: error, code: failure.code, kind: failure.kind }, 'analysis failed');
    // The user reads why in `kubectl get va -o yaml` (transient failures are retried, and the
    // operator reports the attempts).
    if (failure.kind === 'permanent' && va) {
      await patchWithRetry(kube, ref, { message: failure.message }, log).catch((err: unknown) =>
        log.warn({ err }, 'could not write status.message'),
      );
    }
    return failure;
  }
}

async function analyse(va: VideoAnalysis, deps: JobModeDeps, ref: ResourceRef): Promise<JobOutcome> {
  const { config, log, kube, store } = deps;
  const source = va.spec.source.s3;
  if (!source) {
    throw new JobError(
      'permanent',
      'UNSUPPORTED_SOURCE',
      'spec.source.url is not supported by the worker yet: put the video in object storage and use spec.source.s3',
    );
  }
  const sourceUri = formatS3Uri(source.bucket, source.key);
  await mkdir(config.scratchDir, { recursive: true });
  const workDir = await mkdtemp(join(config.scratchDir, 'nfc-job-'));
  const progress = new ProgressReporter({
    intervalMs: config.progressIntervalMs,
    send: (p) => patchVideoAnalysisStatus(kube, ref, { progress: p }, FIELD_MANAGER).then(() => undefined),
    onError: (err) => log.warn({ err }, 'progress patch failed'),
  });
  try {
    const started = performance.now();
    const { video, bytes } = await downloadSource(store, source, sourceUri, workDir);
    log.info({ source: sourceUri, bytes, ms: Math.round(performance.now() - started) }, 'video downloaded');

    const report = await analyzeVideo(video, {
      exercise: (va.spec.exercise ?? 'auto') as ExerciseChoice,
      fps: va.spec.sampling?.fps ?? 15,
      outDir: join(workDir, 'out'),
      workers: config.workers,
      ...(config.backend !== 'auto' ? { backend: config.backend } : {}),
      ...(deps.signal ? { signal: deps.signal } : {}),
      onProgress: ({ stage, framesDone, framesTotal }) => {
        if (stage !== 'probe') progress.update({ framesDone, framesTotal });
      },
    });
    const finalProgress = await progress.close();
    log.info(
      { reps: report.summary.reps, exercise: report.summary.exercise, backend: report.engine.backend },
      'analysis done',
    );

    const uploaded = await uploadArtifacts({
      store,
      report,
      bucket: va.spec.output.bucket,
      prefix: va.spec.output.prefix,
      sourceUri,
    });
    log.info({ report: uploaded.report, thumbnails: uploaded.thumbnails.length }, 'outputs uploaded');

    await patchWithRetry(
      kube,
      ref,
      {
        ...(finalProgress ? { progress: finalProgress } : {}),
        summary: summaryOf(report),
        results: { report: uploaded.report, thumbnails: uploaded.thumbnails },
      },
      log,
    );
    return { kind: 'done', message: `${report.summary.message} Report: ${uploaded.report}` };
  } finally {
    await progress.close();
    await rm(workDir, { recursive: true, force: true });
  }
}

/** status.summary: the report's headline, with absent values removed from a previous attempt's. */
function summaryOf(report: Report): MergePatch<NonNullable<VideoAnalysisStatus['summary']>> {
  return {
    exercise: report.summary.exercise,
    reps: report.summary.reps,
    durationSeconds: report.summary.durationSeconds,
    score: report.summary.score,
    faults: report.summary.faults,
  };
}

/** The final status patch is worth a few quick retries: losing it would rerun the whole analysis. */
async function patchWithRetry(
  kube: CustomObjectsApi,
  ref: ResourceRef,
  status: MergePatch<VideoAnalysisStatus>,
  log: Logger,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await kubeCall(`update the status of VideoAnalysis ${ref.namespace}/${ref.name}`, () =>
        patchVideoAnalysisStatus(kube, ref, status, FIELD_MANAGER),
      );
      return;
    } catch (err) {
      if (attempt >= 4 || (err as JobError).kind === 'permanent') throw err;
      log.warn({ err, attempt }, 'status patch failed; retrying');
      await sleep(500 * 2 ** (attempt - 1));
    }
  }
}
