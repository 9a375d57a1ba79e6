/**
 * The whole path a platform user takes, on real parts only: a clip uploaded to a real MinIO, a
 * VideoAnalysis applied to a real control plane (etcd, kube-apiserver, scheduler,
 * controller-manager), the operator running as its own process (`nfc operator`), and the Job's
 * Pod run by the emulated kubelet as `nfc worker job` with the Pod's env. What is asserted is
 * what `kubectl get va` and the bucket show: phase Succeeded with the hand-counted reps, the
 * report and thumbnails; for a corrupt video, Failed at once with the worker's own words.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { EventsV1Api } from '@kubernetes/client-node';
import type { Report } from '../services/analysis/report/schema.js';
import { parseS3Uri } from '../services/platform/object-store/s3-uri.js';
import { startAnalysisCluster } from './support/analysis-cluster.js';
import { clip } from './support/clips.js';
import { type ControlPlane, startControlPlane } from './support/control-plane.js';
import type { KubeletEmulator } from './support/kubelet-emulator.js';
import { type Minio, startMinio } from './support/minio.js';
import {
  eventually,
  type OperatorProcess,
  operatorTestClient,
  type VideoAnalysisManifest,
  videoAnalysis,
} from './support/operator-process.js';

const NS = 'athletes';
const CLIP = clip('formfit_squat.mp4');

describe('end to end: kubectl apply → operator → Job → worker → status and bucket', { timeout: 360_000 }, () => {
  let cp: ControlPlane;
  let minio: Minio;
  let s3: S3Client;
  let kubelet: KubeletEmulator;
  let op: OperatorProcess;
  let client: ReturnType<typeof operatorTestClient>;

  before(async () => {
    [cp, minio] = await Promise.all([startControlPlane({ scheduler: true, controllerManager: true }), startMinio()]);
    const kc = cp.kubeConfig();
    client = operatorTestClient(kc);
    s3 = minio.client();
    // CPU analyses: no GPU scheduling constraints for the emulated node.
    ({ kubelet, op } = await startAnalysisCluster(cp, minio, {
      namespace: NS,
      operatorEnv: { NFC_GPU_NODE_SELECTOR: '{}', NFC_GPU_TOLERATIONS: '[]' },
    }));
    await s3.send(
      new PutObjectCommand({ Bucket: 'videos', Key: 'uploads/e2e/squat.mp4', Body: readFileSync(CLIP.path) }),
    );
    await s3.send(
      new PutObjectCommand({
        Bucket: 'videos',
        Key: 'uploads/e2e/corrupt.mp4',
        Body: 'not a video at all\n'.repeat(200),
      }),
    );
  });

  after(async () => {
    await op?.kill('SIGTERM');
    await kubelet?.stop();
    s3?.destroy();
    await Promise.all([cp?.stop(), minio?.stop()]);
  });

  const apply = (name: string, key: string) =>
    client.create(
      videoAnalysis(name, {
        namespace: NS,
        spec: {
          source: { s3: { bucket: 'videos', key } },
          exercise: CLIP.exercise,
          resources: { gpu: 0 },
          deadlineSeconds: 600,
        },
      }),
    );

  const finalPhase = (name: string, timeoutMs: number) =>
    eventually(`${name} finished`, timeoutMs, async () => {
      const va = await client.get(name, NS);
      return va.status?.phase === 'Succeeded' || va.status?.phase === 'Failed' ? va : undefined;
    }).catch((err: Error) => {
      const logs = kubelet.runs.map((r) => kubelet.logsOf(r.pod)).join('\n');
      throw new Error(`${err.message}\nworker logs:\n${logs.slice(-4000)}\noperator:\n${op.logs().slice(-3000)}`);
    });

  const eventsOf = async (name: string) => {
    const events = cp.kubeConfig().makeApiClient(EventsV1Api);
    const list = await events.listNamespacedEvent({ namespace: NS, fieldSelector: `regarding.name=${name}` });
    return list.items.map((e) => ({ reason: e.reason ?? '', note: e.note ?? '' }));
  };

  test(`a ${CLIP.file} in the bucket ends Succeeded with the hand-counted ${CLIP.reps} reps, report and thumbnails in the bucket`, async () => {
    const name = 'e2e-squat';
    await apply(name, 'uploads/e2e/squat.mp4');
    const va: VideoAnalysisManifest = await finalPhase(name, 240_000);
    const status = va.status as NonNullable<VideoAnalysisManifest['status']> & {
      summary?: { reps: number; exercise: string; score: number };
      results?: { report: string; thumbnails: string[] };
    };
    assert.equal(status.phase, 'Succeeded', JSON.stringify(status));
    assert.equal(status.summary?.reps, CLIP.reps);
    assert.equal(status.summary?.exercise, CLIP.exercise);
    assert.equal(typeof status.summary?.score, 'number');
    assert.equal(status.jobName, `nfc-${name}`);
    assert.equal(status.attempts, 0);
    assert.ok(status.startTime && status.completionTime, 'start and completion times');
    assert.ok(
      status.conditions?.some((c) => c.type === 'Succeeded' && c.status === 'True'),
      JSON.stringify(status.conditions),
    );

    // The worker really ran (once) as the Pod's command, in the Pod's env.
    const runs = kubelet.runs.filter((r) => r.pod.startsWith(`nfc-${name}-`));
    assert.equal(runs.length, 1);
    assert.deepEqual(runs[0]?.argv.slice(-6), ['worker', 'job', '--namespace', NS, '--name', name]);
    assert.equal(runs[0]?.exitCode, 0);

    // The report in the bucket agrees with the status; the thumbnails are PNGs.
    assert.equal(status.results?.report, `s3://results/analyses/${name}/report.json`);
    const loc = parseS3Uri(status.results?.report ?? '');
    assert.ok(loc);
    const body = await (
      await s3.send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key }))
    ).Body?.transformToString();
    const report = JSON.parse(body ?? '{}') as Report;
    assert.equal(report.summary.reps, CLIP.reps);
    assert.equal(report.video.file, 's3://videos/uploads/e2e/squat.mp4');
    assert.equal(status.results?.thumbnails.length, CLIP.reps);
    for (const uri of status.results?.thumbnails ?? []) {
      const object = parseS3Uri(uri);
      assert.ok(object, uri);
      const head = await s3.send(new HeadObjectCommand({ Bucket: object.bucket, Key: object.key }));
      assert.equal(head.ContentType, 'image/png', uri);
      assert.ok((head.ContentLength ?? 0) > 0, uri);
    }

    const reasons = (await eventsOf(name)).map((e) => e.reason);
    assert.ok(reasons.includes('JobCreated') && reasons.includes('Succeeded'), reasons.join(', '));
  });

  test("a corrupt video fails at once, no retry, with the worker's own message in status.message", async () => {
    const name = 'e2e-corrupt';
    await apply(name, 'uploads/e2e/corrupt.mp4');
    const va = await finalPhase(name, 120_000);
    const status = va.status ?? {};
    assert.equal(status.phase, 'Failed', JSON.stringify(status));
    const runs = kubelet.runs.filter((r) => r.pod.startsWith(`nfc-${name}-`));
    assert.equal(runs.length, 1, 'the bad-input exit is not retried');
    assert.equal(runs[0]?.exitCode, 3);
    // The user reads what the worker found, not the Job controller's words about exit codes.
    assert.match(status.message ?? '', /^the video cannot be analysed: /);
    assert.doesNotMatch(status.message ?? '', /exit code|FailJob|Container/);
    assert.equal(status.message, runs[0]?.message, 'the same words as the Pod termination message');
    const failed = status.conditions?.find((c) => c.type === 'Failed');
    assert.equal(failed?.reason, 'PodFailurePolicy');
    assert.equal(failed?.message, status.message);
    assert.equal((status as { summary?: unknown }).summary, undefined);
    const warning = (await eventsOf(name)).find((e) => e.reason === 'PodFailurePolicy');
    assert.equal(warning?.note, status.message);
  });
});
