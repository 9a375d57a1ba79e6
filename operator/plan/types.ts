/**
 * What the reconciler sees and what it may do. `plan()` turns (desired, observed, now) into
 * a list of these actions; the loop applies them. Keeping both sides as plain data makes the
 * decision logic a pure function, tested without a cluster.
 */
import type { V1Job } from '@kubernetes/client-node';
import type { VideoAnalysis, VideoAnalysisStatus } from '../../services/platform/kube/video-analysis.js';

export const FINALIZER = 'nutrifitcoach.io/artifacts';

export type Action =
  | { kind: 'AddFinalizer' }
  | { kind: 'RemoveFinalizer' }
  | { kind: 'CreateJob'; job: V1Job }
  | { kind: 'PatchStatus'; status: VideoAnalysisStatus }
  | { kind: 'DeleteArtifacts'; bucket: string; prefix: string }
  | { kind: 'RecordEvent'; type: 'Normal' | 'Warning'; reason: string; message: string }
  | { kind: 'Requeue'; afterSeconds: number };

/** The Job the operator owns for this resource, as far as planning needs it. */
export interface ObservedJob {
  name: string;
  active: number;
  failed: number;
  succeeded: number;
  /** Terminal condition, when the Job controller has set one. */
  finished?: { type: 'Complete' | 'Failed'; reason: string; message: string; time: string };
  startTime?: string;
}

export interface Admission {
  /** Jobs of ours running now, cluster-wide and in this resource's namespace. */
  runningClusterWide: number;
  runningInNamespace: number;
  /** 0-based place of this resource among those waiting (higher priority, then older, first). */
  queuePosition: number;
}

export interface Observed {
  job?: ObservedJob;
  admission: Admission;
}

export interface OperatorConfig {
  workerImage: string;
  workerServiceAccount: string;
  /** Secret with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / S3_ENDPOINT for the worker. */
  s3SecretName: string;
  gpuResourceName: string;
  gpuNodeSelector: Record<string, string>;
  gpuTolerations: Array<{ key: string; operator: 'Exists' | 'Equal'; value?: string; effect?: string }>;
  runtimeClassName?: string;
  priorityClassName?: string;
  maxRunning: number;
  maxRunningPerNamespace: number;
  backoffLimit: number;
  ttlSecondsAfterFinished: number;
  /** The worker's exit code for "this input can never be analysed". */
  badInputExitCode: number;
  /** Hosts a `source.url` may point at. */
  allowedUrlHosts: string[];
  cpu: { request: string; limit: string };
  memory: { request: string; limit: string };
}

export type Desired = VideoAnalysis & {
  metadata: VideoAnalysis['metadata'] & {
    uid: string;
    generation?: number;
    deletionTimestamp?: string;
    finalizers?: string[];
    creationTimestamp?: string;
  };
};
