/**
 * The reconciler's decision: a pure function of the resource, what was observed of its Job
 * and of admission, and the clock. Status is rebuilt from observation every time; a status
 * patch is planned only when something the user can see changed, so a resource costs few
 * writes over its life (finalizer if needed, Job, Running once the Job is seen, final phase).
 */
import type { VideoAnalysisStatus } from '../../services/platform/kube/video-analysis.js';
import { conditionsWith } from './conditions.js';
import { buildJob, jobNameFor } from './job-spec.js';
import { type Action, type Desired, FINALIZER, type Observed, type OperatorConfig } from './types.js';

/** How often a queued resource looks again even without a Job finishing somewhere. */
export const QUEUED_RECHECK_SECONDS = 30;

// What the operator writes in status.message while an analysis waits or runs. Anything else
// found there before the end was written by the worker (the reason a video cannot be analysed).
// ("analysis started" was written by earlier versions when they created the Job.)
const STARTED_MESSAGE = 'analysis started';
const RUNNING_MESSAGE = 'analysis running';
const RETRYING_PREFIX = 'retrying after ';
const QUEUED_PREFIX = 'waiting for a slot: ';

/** `message` when the worker wrote it, undefined when it is absent or one of the operator's own. */
export function workerMessage(message: string | undefined): string | undefined {
  if (!message || message === STARTED_MESSAGE || message === RUNNING_MESSAGE) return undefined;
  if (message.startsWith(RETRYING_PREFIX) || message.startsWith(QUEUED_PREFIX)) return undefined;
  return message;
}

export function plan(va: Desired, observed: Observed, now: Date, config: OperatorConfig): Action[] {
  const finalizers = va.metadata.finalizers ?? [];
  const hasFinalizer = finalizers.includes(FINALIZER);
  const wantsCleanup = (va.spec.cleanupPolicy ?? 'Retain') === 'Delete';

  if (va.metadata.deletionTimestamp) {
    if (!hasFinalizer) return [];
    return wantsCleanup
      ? [
          { kind: 'DeleteArtifacts', bucket: va.spec.output.bucket, prefix: va.spec.output.prefix },
          { kind: 'RemoveFinalizer' },
        ]
      : [{ kind: 'RemoveFinalizer' }];
  }

  const actions: Action[] = [];
  if (wantsCleanup && !hasFinalizer) actions.push({ kind: 'AddFinalizer' });
  if (!wantsCleanup && hasFinalizer) actions.push({ kind: 'RemoveFinalizer' });

  const status = va.status ?? {};
  const generation = va.metadata.generation ?? 1;
  const stamp = now.toISOString();

  const invalid = validate(va, config);
  if (invalid) {
    if (status.phase === 'Failed' && status.message === invalid) return actions;
    return [
      ...actions,
      patch(status, {
        phase: 'Failed',
        observedGeneration: generation,
        message: invalid,
        completionTime: stamp,
        conditions: conditionsWith(status.conditions, generation, stamp, {
          type: 'Failed',
          status: 'True',
          reason: 'InvalidSpec',
          message: invalid,
        }),
      }),
      { kind: 'RecordEvent', type: 'Warning', reason: 'InvalidSpec', message: invalid },
    ];
  }

  const job = observed.job;
  if (!job) {
    if (status.phase === 'Succeeded' || status.phase === 'Failed') return actions; // Job already cleaned up by its TTL
    const { admission } = observed;
    const free = Math.min(
      config.maxRunning - admission.runningClusterWide,
      config.maxRunningPerNamespace - admission.runningInNamespace,
    );
    if (admission.queuePosition >= free) {
      const message = `${QUEUED_PREFIX}${admission.runningClusterWide}/${config.maxRunning} analyses running, ${admission.queuePosition} ahead in the queue`;
      const queued: Action[] =
        status.phase === 'Queued'
          ? []
          : [
              patch(status, {
                phase: 'Queued',
                observedGeneration: generation,
                message,
                conditions: conditionsWith(status.conditions, generation, stamp, {
                  type: 'Admitted',
                  status: 'False',
                  reason: 'Queued',
                  message,
                }),
              }),
              { kind: 'RecordEvent', type: 'Normal', reason: 'Queued', message },
            ];
      return [...actions, ...queued, { kind: 'Requeue', afterSeconds: QUEUED_RECHECK_SECONDS }];
    }
    // The Job only: phase Running is written by the reconcile that sees the Job in the cache
    // (below). A reconcile is then one API round trip, so under a burst every waiting resource
    // gets its Job before any status is written (the Job's event queues the resource behind
    // those still waiting for theirs: work-queue.ts's lanes), and a Job that has already
    // finished when that reconcile comes goes straight to its final phase: one write fewer.
    const name = jobNameFor(va.metadata.name);
    return [
      ...actions,
      { kind: 'CreateJob', job: buildJob(va, config) },
      { kind: 'RecordEvent', type: 'Normal', reason: 'JobCreated', message: `created Job ${name}` },
    ];
  }

  // A Job exists: the phase follows it.
  if (job.finished?.type === 'Complete') {
    if (status.phase === 'Succeeded') return actions;
    return [
      ...actions,
      patch(status, {
        phase: 'Succeeded',
        observedGeneration: generation,
        jobName: job.name,
        attempts: job.failed,
        completionTime: job.finished.time,
        message: 'analysis finished',
        conditions: conditionsWith(status.conditions, generation, stamp, {
          type: 'Succeeded',
          status: 'True',
          reason: 'JobComplete',
          message: 'the worker finished',
        }),
      }),
      { kind: 'RecordEvent', type: 'Normal', reason: 'Succeeded', message: 'analysis finished' },
    ];
  }
  if (job.finished?.type === 'Failed') {
    if (status.phase === 'Failed') return actions;
    // The worker says in the user's words why a video can never be analysed; the Job's
    // condition only knows which exit code matched which rule.
    const message =
      (job.finished.reason === 'PodFailurePolicy' ? workerMessage(status.message) : undefined) ??
      failureMessage(job.finished.reason, job.finished.message, va.spec.deadlineSeconds ?? 900, job.failed);
    return [
      ...actions,
      patch(status, {
        phase: 'Failed',
        observedGeneration: generation,
        jobName: job.name,
        attempts: job.failed,
        completionTime: job.finished.time,
        message,
        conditions: conditionsWith(status.conditions, generation, stamp, {
          type: 'Failed',
          status: 'True',
          reason: job.finished.reason || 'JobFailed',
          message,
        }),
      }),
      { kind: 'RecordEvent', type: 'Warning', reason: job.finished.reason || 'Failed', message },
    ];
  }
  if (status.phase !== 'Running' || status.jobName !== job.name || (status.attempts ?? 0) !== job.failed) {
    return [
      ...actions,
      patch(status, {
        phase: 'Running',
        observedGeneration: generation,
        jobName: job.name,
        attempts: job.failed,
        startTime: status.startTime ?? job.startTime ?? stamp,
        message: job.failed > 0 ? `${RETRYING_PREFIX}${job.failed} failed attempt(s)` : RUNNING_MESSAGE,
        conditions: conditionsWith(status.conditions, generation, stamp, {
          type: 'Admitted',
          status: 'True',
          reason: 'JobCreated',
          message: `Job ${job.name}`,
        }),
      }),
    ];
  }
  return actions;
}

/** Spec problems the schema can't express; each can never work, so it fails without retry. */
function validate(va: Desired, config: OperatorConfig): string | undefined {
  const url = va.spec.source.url;
  if (url) {
    let host: string;
    try {
      host = new URL(url).hostname;
    } catch {
      return `spec.source.url is not a valid URL: ${url}`;
    }
    if (!config.allowedUrlHosts.includes(host)) {
      return `spec.source.url host ${host} is not allowed (allowed: ${config.allowedUrlHosts.join(', ') || 'none'})`;
    }
  }
  return undefined;
}

function failureMessage(reason: string, detail: string, deadline: number, failed: number): string {
  switch (reason) {
    case 'PodFailurePolicy':
      return `the video cannot be analysed (bad input): ${detail}`;
    case 'DeadlineExceeded':
      return `the analysis took longer than deadlineSeconds (${deadline} s)`;
    case 'BackoffLimitExceeded':
      return `the analysis failed after ${failed} attempt(s): ${detail}`;
    default:
      return detail || 'the analysis Job failed';
  }
}

/** The whole status with `changes` applied: progress/summary/results written by the worker are kept. */
function patch(current: VideoAnalysisStatus, changes: VideoAnalysisStatus): Action {
  return { kind: 'PatchStatus', status: { ...current, ...changes } };
}
