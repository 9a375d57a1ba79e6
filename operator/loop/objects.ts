/**
 * The objects the operator caches, as the API server sends them (JSON: times are strings), with
 * only the fields it reads. Both watches and lists go through raw JSON so the cache holds one
 * shape whatever filled it.
 */
import type { CachedObject, ObjectMeta } from '../../services/platform/kube/cached-object.js';
import type { Desired } from '../plan/types.js';

export type { CachedObject, ObjectMeta } from '../../services/platform/kube/cached-object.js';
export { keyOf, objectKey } from '../../services/platform/kube/cached-object.js';

/** A VideoAnalysis as cached. */
export type VideoAnalysisObject = Desired & CachedObject;

export interface JobCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

/** A worker Job as cached. */
export interface JobObject extends CachedObject {
  status?: {
    active?: number;
    failed?: number;
    succeeded?: number;
    startTime?: string;
    completionTime?: string;
    conditions?: JobCondition[];
  };
}

export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** A VideoAnalysis as cached: without managedFields (often the largest part, never read). */
export function slimAnalysis(va: VideoAnalysisObject): VideoAnalysisObject {
  const { managedFields: _, ...metadata } = va.metadata as VideoAnalysisObject['metadata'] & {
    managedFields?: unknown;
  };
  return { ...va, metadata };
}

/** A Job as cached: metadata without managedFields, and status; the spec is never read. */
export function slimJob(job: JobObject): JobObject {
  const { managedFields: _, ...metadata } = job.metadata as ObjectMeta & { managedFields?: unknown };
  return { metadata, ...(job.status ? { status: job.status } : {}) };
}
