/** Small builders for plan tests: `aVideoAnalysis('x').phase('Running').build()`. */
import type { Phase, VideoAnalysisSpec, VideoAnalysisStatus } from '../../services/platform/kube/video-analysis.js';
import type { Admission, Desired, Observed, ObservedJob, OperatorConfig } from './types.js';

export const TEST_CONFIG: OperatorConfig = {
  workerImage: 'ghcr.io/nutrifitcoach/worker:0.1.0',
  workerServiceAccount: 'nfc-worker',
  s3SecretName: 'nfc-s3',
  gpuResourceName: 'nvidia.com/gpu',
  gpuNodeSelector: { 'nutrifitcoach.io/gpu': 'true' },
  gpuTolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
  runtimeClassName: 'nvidia',
  priorityClassName: 'nfc-analysis',
  maxRunning: 5,
  maxRunningPerNamespace: 3,
  backoffLimit: 2,
  ttlSecondsAfterFinished: 3600,
  badInputExitCode: 3,
  allowedUrlHosts: ['videos.example.com'],
  cpu: { request: '1', limit: '2' },
  memory: { request: '1Gi', limit: '2Gi' },
};

class VideoAnalysisBuilder {
  private readonly va: Desired;
  constructor(name: string) {
    this.va = {
      apiVersion: 'nutrifitcoach.io/v1alpha1',
      kind: 'VideoAnalysis',
      metadata: { name, namespace: 'athletes', uid: `uid-${name}`, generation: 1 },
      spec: {
        source: { s3: { bucket: 'videos', key: `uploads/${name}.mp4` } },
        exercise: 'squat',
        resources: { gpu: 1 },
        output: { bucket: 'results', prefix: `analyses/${name}/` },
        deadlineSeconds: 900,
        cleanupPolicy: 'Retain',
      },
    };
  }
  spec(changes: Partial<VideoAnalysisSpec>): this {
    Object.assign(this.va.spec, changes);
    return this;
  }
  phase(phase: Phase): this {
    return this.status({ phase });
  }
  status(changes: VideoAnalysisStatus): this {
    this.va.status = { ...this.va.status, ...changes };
    return this;
  }
  finalizers(...names: string[]): this {
    this.va.metadata.finalizers = names;
    return this;
  }
  deleting(): this {
    this.va.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
    return this;
  }
  build(): Desired {
    return structuredClone(this.va);
  }
}

export const aVideoAnalysis = (name: string) => new VideoAnalysisBuilder(name);

export function observed(job?: Partial<ObservedJob>, admission: Partial<Admission> = {}): Observed {
  return {
    ...(job ? { job: { name: 'nfc-x', active: 0, failed: 0, succeeded: 0, ...job } } : {}),
    admission: { runningClusterWide: 0, runningInNamespace: 0, queuePosition: 0, ...admission },
  };
}
