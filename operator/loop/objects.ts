/**
 * The objects the operator caches, as the API server sends them (JSON: times are strings), with
 * only the fields it reads. Both watches and lists go through raw JSON so the cache holds one
 * shape whatever filled it.
 */
import type { CachedObject } from '../../services/platform/kube/cached-object.js';
import type { VideoAnalysisStatus } from '../../services/platform/kube/video-analysis.js';
import type { Desired } from '../plan/types.js';
import { intern } from './intern.js';

export type { CachedObject, ObjectMeta } from '../../services/platform/kube/cached-object.js';
export { keyOf, objectKey } from '../../services/platform/kube/cached-object.js';

/** The annotation that orders the admission queue (higher first). */
export const PRIORITY_ANNOTATION = 'nutrifitcoach.io/priority';

/** Fields of the status the operator owns (the worker owns progress, summary, results). */
export const OWNED_STATUS = [
  'phase',
  'observedGeneration',
  'conditions',
  'jobName',
  'attempts',
  'startTime',
  'completionTime',
  'message',
] as const satisfies ReadonlyArray<keyof VideoAnalysisStatus>;

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

/**
 * A VideoAnalysis as cached: only what planning reads (transform at decode time, as
 * controller-runtime's cache transforms do). Gone: managedFields, labels, annotations but the
 * priority, and the status the worker owns (progress, summary, results — never read here:
 * status patches send only the operator's own fields).
 */
export function slimAnalysis(va: VideoAnalysisObject): VideoAnalysisObject {
  const m = va.metadata;
  const priority = m.annotations?.[PRIORITY_ANNOTATION];
  const status = va.status;
  return {
    apiVersion: intern(va.apiVersion),
    kind: intern(va.kind),
    metadata: {
      name: m.name,
      ...(m.namespace !== undefined ? { namespace: intern(m.namespace) } : {}),
      uid: m.uid,
      ...(m.resourceVersion !== undefined ? { resourceVersion: m.resourceVersion } : {}),
      ...(m.generation !== undefined ? { generation: m.generation } : {}),
      ...(m.creationTimestamp !== undefined ? { creationTimestamp: m.creationTimestamp } : {}),
      ...(m.deletionTimestamp !== undefined ? { deletionTimestamp: m.deletionTimestamp } : {}),
      ...(m.finalizers !== undefined ? { finalizers: m.finalizers } : {}),
      ...(priority !== undefined ? { annotations: { [PRIORITY_ANNOTATION]: priority } } : {}),
    },
    spec: internSpec(va.spec),
    ...(status ? { status: internStatus(pick(status, OWNED_STATUS)) } : {}),
  };
}

/** The spec with its enum-like strings shared (keys and prefixes are each resource's own). */
function internSpec(spec: VideoAnalysisObject['spec']): VideoAnalysisObject['spec'] {
  if (!spec) return spec;
  const s3 = spec.source?.s3;
  if (s3) s3.bucket = intern(s3.bucket);
  if (spec.output) spec.output.bucket = intern(spec.output.bucket);
  if (spec.exercise !== undefined) spec.exercise = intern(spec.exercise);
  if (spec.view !== undefined) spec.view = intern(spec.view);
  if (spec.model !== undefined) spec.model = intern(spec.model);
  if (spec.cleanupPolicy !== undefined) spec.cleanupPolicy = intern(spec.cleanupPolicy);
  return spec;
}

function internStatus<S extends { phase?: string; message?: string; conditions?: JobCondition[] }>(status: S): S {
  if (status.phase !== undefined) status.phase = intern(status.phase);
  if (status.message !== undefined) status.message = intern(status.message);
  if (status.conditions) status.conditions = status.conditions.map(internCondition);
  return status;
}

function internCondition<C extends JobCondition>(c: C): C {
  return {
    ...c,
    type: intern(c.type),
    status: intern(c.status),
    ...(c.reason !== undefined ? { reason: intern(c.reason) } : {}),
    ...(c.message !== undefined ? { message: intern(c.message) } : {}),
  };
}

/**
 * A Job as cached: name, namespace, version, its controller, and the status counts with only
 * the terminal condition (Complete or Failed). The spec (a whole pod template) is never read.
 */
export function slimJob(job: JobObject): JobObject {
  const m = job.metadata;
  const owner = m.ownerReferences?.find((r) => r.controller);
  const s = job.status;
  const terminal = s?.conditions?.filter((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
  return {
    metadata: {
      name: m.name,
      ...(m.namespace !== undefined ? { namespace: intern(m.namespace) } : {}),
      ...(m.resourceVersion !== undefined ? { resourceVersion: m.resourceVersion } : {}),
      ...(owner
        ? {
            ownerReferences: [
              {
                apiVersion: intern(owner.apiVersion),
                kind: intern(owner.kind),
                name: owner.name,
                uid: owner.uid,
                controller: true,
              },
            ],
          }
        : {}),
    },
    ...(s
      ? {
          status: {
            ...pick(s, ['active', 'failed', 'succeeded', 'startTime', 'completionTime'] as const),
            ...(terminal && terminal.length > 0
              ? {
                  conditions: terminal.map((c) =>
                    internCondition({
                      type: c.type,
                      status: c.status,
                      ...pick(c, ['reason', 'message', 'lastTransitionTime'] as const),
                    }),
                  ),
                }
              : {}),
          },
        }
      : {}),
  };
}

function pick<T extends object, K extends keyof T>(from: T, keys: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const k of keys) if (from[k] !== undefined) out[k] = from[k];
  return out;
}
