/**
 * The VideoAnalysis the API creates for one analysis row, and how a VideoAnalysis (ours or one
 * applied with kubectl) maps back to an analysis id.
 */
import type { AnalysisTask } from '../../platform/analysis-task.js';
import type { CachedObject } from '../../platform/kube/cached-object.js';
import {
  GROUP,
  KIND,
  VERSION,
  type VideoAnalysis,
  type VideoAnalysisSpec,
} from '../../platform/kube/video-analysis.js';

/** Label carrying the analysis row's id on every VideoAnalysis the API creates. */
export const ANALYSIS_ID_LABEL = 'nutrifitcoach.io/analysis-id';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_API = 'nfc-api';

/** A VideoAnalysis as the watch caches it (raw JSON, labels and deletion time readable). */
export type WatchedAnalysis = VideoAnalysis & CachedObject;

export interface ResourceDefaults {
  /** GPUs when the task does not say (NFC_ANALYSIS_GPU). */
  gpu: number;
  /** Job active deadline; unset leaves the CRD's default. */
  deadlineSeconds?: number;
  /** Delete: deleting the analysis removes its artifacts (the operator's finalizer). */
  cleanupPolicy: 'Delete' | 'Retain';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The resource name of an analysis: deterministic, so a retried submit meets its own earlier
 * create (409) instead of starting a second analysis.
 */
export function resourceName(analysisId: string): string {
  return `a-${analysisId.toLowerCase()}`;
}

export function buildVideoAnalysis(task: AnalysisTask, namespace: string, defaults: ResourceDefaults): VideoAnalysis {
  const spec: VideoAnalysisSpec = {
    source: { s3: { bucket: task.source.bucket, key: task.source.key } },
    exercise: task.exercise as VideoAnalysisSpec['exercise'],
    sampling: { fps: task.fps },
    resources: { gpu: task.gpu ?? defaults.gpu },
    output: { bucket: task.output.bucket, prefix: task.output.prefix },
    cleanupPolicy: defaults.cleanupPolicy,
    ...(defaults.deadlineSeconds !== undefined ? { deadlineSeconds: defaults.deadlineSeconds } : {}),
  };
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: KIND,
    metadata: {
      name: resourceName(task.analysisId),
      namespace,
      labels: { [ANALYSIS_ID_LABEL]: task.analysisId, [MANAGED_BY_LABEL]: MANAGED_BY_API },
    },
    spec,
  };
}

/**
 * The analysis a resource stands for: its label when the API created it, else (applied with
 * kubectl, or a label that is not an id) its uid, which becomes the id of the row the API
 * creates for it.
 */
export function analysisIdOf(va: WatchedAnalysis): { id: string; discovered: boolean } {
  const label = va.metadata.labels?.[ANALYSIS_ID_LABEL];
  if (label && UUID.test(label)) return { id: label, discovered: false };
  return { id: va.metadata.uid ?? '', discovered: true };
}
