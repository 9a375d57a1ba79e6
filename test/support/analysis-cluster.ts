/**
 * What the chart puts in an analysis namespace, on a test control plane: the CRD, the namespace,
 * the worker's service account, the S3 Secret and the two buckets; then a node whose kubelet
 * (emulated) runs worker Pods as local `nfc worker job` processes, and the operator, leading.
 */
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { CoreV1Api } from '@kubernetes/client-node';
import { REPO_ROOT } from './clips.js';
import type { ControlPlane } from './control-plane.js';
import { type KubeletEmulator, startKubeletEmulator } from './kubelet-emulator.js';
import type { Minio } from './minio.js';
import { installCrd, type OperatorProcess, startOperator } from './operator-process.js';

export interface AnalysisCluster {
  kubelet: KubeletEmulator;
  op: OperatorProcess;
  stop(): Promise<void>;
}

export async function startAnalysisCluster(
  cp: ControlPlane,
  minio: Minio,
  options: { namespace: string; operatorEnv?: Record<string, string> },
): Promise<AnalysisCluster> {
  const { namespace } = options;
  const kc = cp.kubeConfig();
  await installCrd(kc);
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'nfc-worker' } } });
  await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'nfc-s3' }, stringData: minio.env } });
  const s3 = minio.client();
  await s3.send(new CreateBucketCommand({ Bucket: 'videos' }));
  await s3.send(new CreateBucketCommand({ Bucket: 'results' }));
  s3.destroy();

  const kubelet = await startKubeletEmulator({
    kubeConfig: kc,
    kubeconfigPath: cp.kubeconfigPath,
    nodeName: 'worker-0',
    entrypoint: [join(REPO_ROOT, 'bin/nfc')],
    cwd: REPO_ROOT,
  });
  const op = await startOperator({
    kubeconfigPath: cp.kubeconfigPath,
    env: {
      ...minio.env,
      NFC_WATCH_NAMESPACES: namespace,
      NFC_S3_SECRET_NAME: 'nfc-s3',
      NFC_JOB_BACKOFF_LIMIT: '1',
      NFC_RUNTIME_CLASS_NAME: '',
      ...options.operatorEnv,
    },
  });
  await op.waitForLog(/became leader/);
  return {
    kubelet,
    op,
    async stop() {
      await op.kill('SIGTERM');
      await kubelet.stop();
    },
  };
}
