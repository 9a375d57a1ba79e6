/** What the plan needs to know of a worker Job, read from the cached object. */
import type { ObservedJob } from '../plan/types.js';
import type { JobObject, VideoAnalysisObject } from './objects.js';

export function observeJob(job: JobObject): ObservedJob {
  const s = job.status ?? {};
  const terminal = s.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
  return {
    name: job.metadata.name,
    active: s.active ?? 0,
    failed: s.failed ?? 0,
    succeeded: s.succeeded ?? 0,
    ...(s.startTime ? { startTime: s.startTime } : {}),
    ...(terminal
      ? {
          finished: {
            type: terminal.type as 'Complete' | 'Failed',
            reason: terminal.reason ?? '',
            message: terminal.message ?? '',
            time: s.completionTime ?? terminal.lastTransitionTime ?? new Date().toISOString(),
          },
        }
      : {}),
  };
}

/** True when `job` is controlled by this very resource (not a namesake deleted and recreated). */
export function isOwnedBy(job: JobObject, va: VideoAnalysisObject): boolean {
  const owner = job.metadata.ownerReferences?.find((r) => r.controller);
  return owner?.uid === va.metadata.uid;
}

/** The controlling VideoAnalysis of a Job, if it has one. */
export function ownerOf(job: JobObject): { namespace: string; name: string } | undefined {
  const owner = job.metadata.ownerReferences?.find((r) => r.controller && r.kind === 'VideoAnalysis');
  return owner ? { namespace: job.metadata.namespace ?? '', name: owner.name } : undefined;
}
