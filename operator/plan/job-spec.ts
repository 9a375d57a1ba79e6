/**
 * The worker Job for one VideoAnalysis: deterministic name (so a second create is a
 * conflict, never a duplicate), controller ownerReference, GPU scheduling from the
 * operator's config, podFailurePolicy that fails at once on the worker's bad-input exit and
 * ignores disruptions, and a restricted pod.
 */
import { createHash } from 'node:crypto';
import type { V1Job } from '@kubernetes/client-node';
import { GROUP, KIND, VERSION } from '../../services/platform/kube/video-analysis.js';
import type { Desired, OperatorConfig } from './types.js';

export const WORKER_CONTAINER = 'worker';
const MAX_JOB_NAME = 63;

/** `nfc-<name>`, shortened with a hash when the resource's name is too long for a label value. */
export function jobNameFor(resourceName: string): string {
  const name = `nfc-${resourceName}`;
  if (name.length <= MAX_JOB_NAME) return name;
  const hash = createHash('sha256').update(resourceName).digest('hex').slice(0, 8);
  return `${name.slice(0, MAX_JOB_NAME - 9).replace(/[-.]+$/, '')}-${hash}`;
}

export function buildJob(va: Desired, config: OperatorConfig): V1Job {
  const gpus = va.spec.resources?.gpu ?? 1;
  const name = jobNameFor(va.metadata.name);
  const labels = {
    'app.kubernetes.io/name': 'nfc-worker',
    'app.kubernetes.io/managed-by': 'nfc-operator',
    'nutrifitcoach.io/analysis': va.metadata.name,
  };
  const limits: Record<string, string> = { cpu: config.cpu.limit, memory: config.memory.limit };
  if (gpus > 0) limits[config.gpuResourceName] = String(gpus);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: va.metadata.namespace ?? 'default',
      labels,
      ownerReferences: [
        {
          apiVersion: `${GROUP}/${VERSION}`,
          kind: KIND,
          name: va.metadata.name,
          uid: va.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      backoffLimit: config.backoffLimit,
      activeDeadlineSeconds: va.spec.deadlineSeconds ?? 900,
      ttlSecondsAfterFinished: config.ttlSecondsAfterFinished,
      podFailurePolicy: {
        rules: [
          {
            action: 'FailJob',
            onExitCodes: { containerName: WORKER_CONTAINER, operator: 'In', values: [config.badInputExitCode] },
          },
          { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
        ],
      },
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          serviceAccountName: config.workerServiceAccount,
          automountServiceAccountToken: true,
          ...(gpus > 0 && Object.keys(config.gpuNodeSelector).length > 0
            ? { nodeSelector: config.gpuNodeSelector }
            : {}),
          ...(gpus > 0 && config.gpuTolerations.length > 0 ? { tolerations: config.gpuTolerations } : {}),
          ...(gpus > 0 && config.runtimeClassName ? { runtimeClassName: config.runtimeClassName } : {}),
          ...(config.priorityClassName ? { priorityClassName: config.priorityClassName } : {}),
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 10001,
            runAsGroup: 10001,
            fsGroup: 10001,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: WORKER_CONTAINER,
              image: config.workerImage,
              args: ['worker', 'job', '--namespace', va.metadata.namespace ?? 'default', '--name', va.metadata.name],
              env: [
                { name: 'NFC_SCRATCH_DIR', value: '/scratch' },
                { name: 'NFC_BACKEND', value: gpus > 0 ? 'auto' : 'wasm' },
              ],
              envFrom: [{ secretRef: { name: config.s3SecretName } }],
              resources: { requests: { cpu: config.cpu.request, memory: config.memory.request }, limits },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              terminationMessagePolicy: 'FallbackToLogsOnError',
              volumeMounts: [
                { name: 'scratch', mountPath: '/scratch' },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ],
          volumes: [
            { name: 'scratch', emptyDir: { sizeLimit: '20Gi' } },
            { name: 'tmp', emptyDir: { sizeLimit: '1Gi' } },
          ],
        },
      },
    },
  };
}
