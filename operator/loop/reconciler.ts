/**
 * One reconcile of one VideoAnalysis: observe (the resource and its Job from the caches, the
 * admission counts), let the pure plan decide, apply its actions in order. Applying is thin;
 * the only decisions here are about API outcomes:
 * - CreateJob answered 409 AlreadyExists is success: the Job has a deterministic name, so a
 *   reconcile cut short after creating it (a crash, a lost leadership) simply finds it again;
 * - CreateJob refused as invalid (400/422) can never work: the resource fails with a condition
 *   and is not retried;
 * - anything else transient throws, and the queue retries with exponential backoff.
 * Resources that might take a slot are decided under one FIFO lock, so two workers never both
 * take the last slot; while more wait than there are slots, it is held until the Job is
 * created, so that Jobs are created in queue order.
 */
import type { Logger } from 'pino';
import type { VideoAnalysisStatus } from '../../services/platform/kube/video-analysis.js';
import { conditionsWith } from '../plan/conditions.js';
import { jobNameFor } from '../plan/job-spec.js';
import { plan } from '../plan/plan.js';
import { type Action, FINALIZER, type Observed, type OperatorConfig } from '../plan/types.js';
import { type AdmissionIndex, isWaiting } from './admission.js';
import type { EventRecorder } from './events.js';
import type { KubeApi } from './kube-api.js';
import { apiErrorStatus } from './kube-connection.js';
import type { Mutex } from './mutex.js';
import { type JobObject, OWNED_STATUS, slimAnalysis, slimJob, type VideoAnalysisObject } from './objects.js';
import { isOwnedBy, observeJob } from './observe.js';
import type { OwnWrites } from './own-writes.js';

/** Removes every object under a prefix of a bucket: the finalizer's cleanup (cleanupPolicy Delete). */
export interface ArtifactStore {
  deletePrefix(bucket: string, prefix: string): Promise<unknown>;
}

export interface ReconcilerDeps {
  config: OperatorConfig;
  api: KubeApi;
  analysis(namespace: string, name: string): VideoAnalysisObject | undefined;
  job(namespace: string, name: string): JobObject | undefined;
  admission: AdmissionIndex;
  admissionLock: Mutex;
  writes: OwnWrites;
  events: EventRecorder;
  store?: ArtifactStore;
  clock: () => Date;
  log: Logger;
  /** Testing: called right after a Job was created (the failpoint kills the process there). */
  afterCreateJob?: () => void;
}

export interface ReconcileResult {
  requeueAfterMs?: number;
}

const NO_ADMISSION = { runningClusterWide: 0, runningInNamespace: 0, queuePosition: 0 };
/** A Job of this name still belongs to a deleted namesake: look again after this. */
const FOREIGN_JOB_RECHECK_MS = 5_000;

export class Reconciler {
  constructor(private readonly d: ReconcilerDeps) {}

  /**
   * Must not await before taking the admission lock: workers that got their keys in queue order
   * then queue for the lock in that order.
   */
  async reconcile(namespace: string, name: string): Promise<ReconcileResult> {
    const cached = this.d.analysis(namespace, name);
    if (!cached) return {};
    let va = this.d.writes.analysis(cached);
    const job = this.d.job(namespace, jobNameFor(name));
    if (job && failedAndNotYetShown(job, va)) {
      // The worker writes why the video cannot be analysed just before it exits; the two
      // watches need not deliver that before the Job's failure, so the final status is
      // decided on the resource as it is now (one read per failed analysis).
      try {
        va = slimAnalysis(await this.d.api.getAnalysis(namespace, name));
      } catch (err) {
        if (apiErrorStatus(err) === 404) return {};
        throw err;
      }
    }
    if (job && !isOwnedBy(job, va)) {
      this.d.log.info(
        { analysis: name, namespace, job: job.metadata.name },
        'a Job of that name belongs to a deleted namesake; waiting for it to go',
      );
      return { requeueAfterMs: FOREIGN_JOB_RECHECK_MS };
    }
    const mayAdmit = !job && isWaiting(va);
    const release = mayAdmit ? await this.d.admissionLock.acquire() : undefined;
    try {
      const observed: Observed = {
        ...(job ? { job: observeJob(job) } : {}),
        admission: mayAdmit ? this.d.admission.for(va) : NO_ADMISSION,
      };
      const actions = plan(va, observed, this.d.clock(), this.d.config);
      // Not taking a slot (Queued, failed…): nothing for the lock to protect.
      if (!actions.some((a) => a.kind === 'CreateJob')) release?.();
      // Without contention for slots everyone waiting is admitted now: no order to keep, so
      // Job creations need not queue behind one another.
      const keepOrder = mayAdmit && this.d.admission.contended();
      return await this.apply(va, actions, release, keepOrder);
    } finally {
      release?.();
    }
  }

  private async apply(
    start: VideoAnalysisObject,
    actions: Action[],
    release?: () => void,
    keepOrder = false,
  ): Promise<ReconcileResult> {
    const log = this.d.log.child({ analysis: start.metadata.name, namespace: start.metadata.namespace });
    let va = start;
    let requeueAfterMs: number | undefined;
    for (const action of actions) {
      switch (action.kind) {
        case 'AddFinalizer':
        case 'RemoveFinalizer': {
          const current = va.metadata.finalizers ?? [];
          const next =
            action.kind === 'AddFinalizer' ? [...current, FINALIZER] : current.filter((f) => f !== FINALIZER);
          try {
            va = this.wrote(va, await this.d.api.setFinalizers(va, next));
          } catch (err) {
            if (apiErrorStatus(err) === 404) return {};
            throw err;
          }
          log.info({ finalizer: FINALIZER, action: action.kind }, 'finalizer updated');
          break;
        }
        case 'CreateJob': {
          const ns = action.job.metadata?.namespace ?? 'default';
          const jobName = action.job.metadata?.name ?? '';
          this.d.writes.addPendingJob(slimJob(action.job as JobObject));
          this.d.admission.jobAdded(action.job as JobObject);
          // The slot is taken (the pending Job counts); the lock stays only to keep creation order.
          if (!keepOrder) release?.();
          try {
            await this.d.api.createJob(action.job);
            log.info({ job: jobName }, 'job created');
          } catch (err) {
            const status = apiErrorStatus(err);
            if (status === 409) {
              // Created by a reconcile cut short (a crash, a lost leadership): the name is ours.
              log.info({ job: jobName }, 'job already exists');
            } else {
              this.d.writes.dropPendingJob(ns, jobName);
              this.d.admission.invalidate();
              release?.();
              if (status === 400 || status === 422) {
                await this.rejectJob(va, err, log);
                return {};
              }
              if (status === 404) return {}; // the namespace is going away
              throw err;
            }
          } finally {
            release?.();
          }
          this.d.afterCreateJob?.();
          break;
        }
        case 'PatchStatus': {
          const owned: Partial<VideoAnalysisStatus> = {};
          for (const field of OWNED_STATUS) {
            if (action.status[field] !== undefined) (owned as Record<string, unknown>)[field] = action.status[field];
          }
          try {
            va = this.wrote(va, await this.d.api.patchStatus(va, owned));
          } catch (err) {
            if (apiErrorStatus(err) === 404) return {};
            throw err;
          }
          log.info({ phase: owned.phase, message: owned.message }, 'status updated');
          break;
        }
        case 'DeleteArtifacts':
          await this.deleteArtifacts(va, action.bucket, action.prefix, log);
          break;
        case 'RecordEvent':
          this.d.events.record(va, action);
          break;
        case 'Requeue':
          requeueAfterMs = Math.min(requeueAfterMs ?? Number.POSITIVE_INFINITY, action.afterSeconds * 1000);
          break;
      }
    }
    return requeueAfterMs !== undefined ? { requeueAfterMs } : {};
  }

  /**
   * The finalizer's cleanup. A prefix that would name the whole bucket is refused (the resource
   * goes, its artifacts stay, and an Event says so); a bucket that does not exist has nothing to
   * delete; any other failure is retried (the resource stays until the cleanup succeeds).
   */
  private async deleteArtifacts(va: VideoAnalysisObject, bucket: string, prefix: string, log: Logger): Promise<void> {
    if (prefix.replace(/^\/+/, '') === '') {
      const message = `cleanupPolicy Delete skipped: output.prefix "${prefix}" would delete all of bucket ${bucket}`;
      log.warn({ bucket, prefix }, 'cleanup skipped');
      this.d.events.record(va, { type: 'Warning', reason: 'CleanupSkipped', message });
      return;
    }
    if (!this.d.store) throw new Error('cleanupPolicy Delete needs an object store, and none is configured');
    try {
      const deleted = await this.d.store.deletePrefix(bucket, prefix);
      log.info({ bucket, prefix, deleted }, 'artifacts deleted');
      this.d.events.record(va, {
        type: 'Normal',
        reason: 'ArtifactsDeleted',
        message: `deleted s3://${bucket}/${prefix}*`,
      });
    } catch (err) {
      if ((err as { code?: unknown }).code === 'NoSuchBucket') return;
      this.d.events.record(va, {
        type: 'Warning',
        reason: 'CleanupFailed',
        message: `could not delete s3://${bucket}/${prefix}* (will retry): ${(err as Error).message}`,
      });
      throw err;
    }
  }

  private wrote(before: VideoAnalysisObject, after: VideoAnalysisObject): VideoAnalysisObject {
    this.d.writes.recordAnalysis(before, after);
    return after;
  }

  /** The API server refused the Job as invalid: retrying the same Job cannot help. */
  private async rejectJob(va: VideoAnalysisObject, err: unknown, log: Logger): Promise<void> {
    const detail = apiMessage(err);
    const message = `the worker Job was refused by the API server: ${detail}`;
    const now = this.d.clock().toISOString();
    const generation = va.metadata.generation ?? 1;
    log.error({ err: detail }, 'job refused');
    const written = await this.d.api.patchStatus(va, {
      phase: 'Failed',
      observedGeneration: generation,
      message,
      completionTime: now,
      conditions: conditionsWith(va.status?.conditions, generation, now, {
        type: 'Failed',
        status: 'True',
        reason: 'JobRejected',
        message,
      }),
    });
    this.wrote(va, written);
    this.d.events.record(written, { type: 'Warning', reason: 'JobRejected', message });
  }
}

function failedAndNotYetShown(job: JobObject, va: VideoAnalysisObject): boolean {
  return va.status?.phase !== 'Failed' && observeJob(job).finished?.type === 'Failed';
}

/** The Status message of an API error (what kubectl would print). */
export function apiMessage(err: unknown): string {
  const body = (err as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      return (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      return body;
    }
  }
  if (body && typeof body === 'object' && 'message' in body) return String((body as { message: unknown }).message);
  return err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err);
}
