/**
 * The worker in its Kubernetes Job, end to end on real parts: etcd, kube-apiserver, scheduler
 * and controller-manager (the Job controller, backoff, podFailurePolicy), a real MinIO, and an
 * emulated kubelet that runs the Job's container as `bin/nfc worker job …` with the Pod's
 * environment. The operator is not running: each test creates the Job the operator would
 * (`buildJob`) and checks what a user sees: the Job's outcome, the VideoAnalysis status, and the
 * objects in the bucket.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  ApiextensionsV1Api,
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubernetesObject,
  KubernetesObjectApi,
  loadAllYaml,
  type V1Job,
  type V1Pod,
  Watch,
} from '@kubernetes/client-node';
import { buildJob } from '../operator/plan/job-spec.js';
import type { Desired, OperatorConfig } from '../operator/plan/types.js';
import type { Report } from '../services/analysis/report/schema.js';
import { GROUP, PLURAL, VERSION, type VideoAnalysis } from '../services/platform/kube/video-analysis.js';
import { objectStoreConfigFromEnv } from '../services/platform/object-store/config.js';
import { ObjectStore } from '../services/platform/object-store/object-store.js';
import { parseS3Uri } from '../services/platform/object-store/s3-uri.js';
import { clipsDir, REPO_ROOT } from './support/clips.js';
import { type ControlPlane, startControlPlane } from './support/control-plane.js';
import { type KubeletEmulator, startKubeletEmulator } from './support/kubelet-emulator.js';
import { type Minio, startMinio } from './support/minio.js';
import { eventually, freePort } from './support/wait.js';

const NS = 'athletes';
const CONFIG: OperatorConfig = {
  workerImage: 'ghcr.io/nutrifitcoach/worker:test',
  workerServiceAccount: 'nfc-worker',
  s3SecretName: 'nfc-s3',
  gpuResourceName: 'nvidia.com/gpu',
  gpuNodeSelector: {},
  gpuTolerations: [],
  maxRunning: 5,
  maxRunningPerNamespace: 5,
  backoffLimit: 1,
  ttlSecondsAfterFinished: 3600,
  badInputExitCode: 3,
  allowedUrlHosts: [],
  cpu: { request: '100m', limit: '2' },
  memory: { request: '256Mi', limit: '2Gi' },
};

describe('the worker Job: real control plane, MinIO and an emulated kubelet', { timeout: 300_000 }, () => {
  let cp: ControlPlane;
  let minio: Minio;
  let kubelet: KubeletEmulator;
  let s3: S3Client;
  let custom: CustomObjectsApi;
  let batch: BatchV1Api;
  let core: CoreV1Api;

  before(async () => {
    [cp, minio] = await Promise.all([startControlPlane({ scheduler: true, controllerManager: true }), startMinio()]);
    const kc = cp.kubeConfig();
    custom = kc.makeApiClient(CustomObjectsApi);
    batch = kc.makeApiClient(BatchV1Api);
    core = kc.makeApiClient(CoreV1Api);
    s3 = minio.client();

    // What the Helm chart would install: the CRD, a namespace, the worker's service account and
    // the S3 Secret the Job reads with envFrom.
    const objects = KubernetesObjectApi.makeApiClient(kc);
    const crds = loadAllYaml(readFileSync(join(REPO_ROOT, 'crds/videoanalyses.nutrifitcoach.io.yaml'), 'utf8'));
    for (const crd of crds as KubernetesObject[]) await objects.create(crd);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    await core.createNamespacedServiceAccount({
      namespace: NS,
      body: { metadata: { name: CONFIG.workerServiceAccount } },
    });
    await core.createNamespacedSecret({
      namespace: NS,
      body: { metadata: { name: CONFIG.s3SecretName }, stringData: minio.env },
    });
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    await eventually('CRD Established', 30_000, async () => {
      const crd = await ext.readCustomResourceDefinition({ name: `${PLURAL}.${GROUP}` });
      return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') || undefined;
    });

    await s3.send(new CreateBucketCommand({ Bucket: 'videos' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'results' }));
    await s3.send(
      new PutObjectCommand({
        Bucket: 'videos',
        Key: 'uploads/u1/squat.mp4',
        Body: readFileSync(join(clipsDir(), 'formfit_squat.mp4')),
        ContentType: 'video/mp4',
      }),
    );
    await s3.send(
      new PutObjectCommand({
        Bucket: 'videos',
        Key: 'uploads/u1/corrupt.mp4',
        Body: 'this is a text file, not a video\n'.repeat(100),
        ContentType: 'video/mp4',
      }),
    );

    kubelet = await startKubeletEmulator({
      kubeConfig: kc,
      kubeconfigPath: cp.kubeconfigPath,
      nodeName: 'worker-0',
      entrypoint: [join(REPO_ROOT, 'bin/nfc')],
      cwd: REPO_ROOT,
    });
  });

  after(async () => {
    await kubelet?.stop();
    s3?.destroy();
    await Promise.all([cp?.stop(), minio?.stop()]);
  });

  /** Creates the VideoAnalysis and the Job the operator would create for it. */
  async function submit(name: string, source: { bucket: string; key: string }, config = CONFIG) {
    const va = (await custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: NS,
      plural: PLURAL,
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: 'VideoAnalysis',
        metadata: { name, namespace: NS },
        spec: {
          source: { s3: source },
          exercise: 'squat',
          sampling: { fps: 15 },
          resources: { gpu: 0 },
          output: { bucket: 'results', prefix: `analyses/${name}/` },
          deadlineSeconds: 600,
        },
      },
    })) as Desired;
    const job = buildJob(va, config);
    await batch.createNamespacedJob({ namespace: NS, body: job });
    return { jobName: job.metadata?.name ?? '' };
  }

  /**
   * Every version of one VideoAnalysis, as `kubectl get -w` shows them. A watch can be refused
   * (429 "storage is (re)initializing") or end early: it is restarted, versions already seen skipped.
   */
  function watchResource(name: string, onVersion: (va: VideoAnalysis) => void): () => void {
    const versions = new Set<string>();
    let stopped = false;
    let current: AbortController | undefined;
    const start = () => {
      if (stopped) return;
      const restart = () => {
        if (!stopped) setTimeout(start, 300);
      };
      new Watch(cp.kubeConfig())
        .watch(
          `/apis/${GROUP}/${VERSION}/namespaces/${NS}/${PLURAL}`,
          { fieldSelector: `metadata.name=${name}` },
          (_type, obj: VideoAnalysis) => {
            const rv = String(obj.metadata.resourceVersion ?? '');
            if (versions.has(rv)) return;
            versions.add(rv);
            onVersion(obj);
          },
          restart,
        )
        .then((ac) => {
          current = ac;
          if (stopped) ac.abort();
        }, restart);
    };
    start();
    return () => {
      stopped = true;
      current?.abort();
    };
  }

  const readVA = async (name: string) =>
    (await custom.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: NS,
      plural: PLURAL,
      name,
    })) as VideoAnalysis;

  /** Waits for the Job controller to finish the Job (Complete or Failed). */
  async function finished(jobName: string, timeoutMs: number): Promise<{ job: V1Job; type: string; reason: string }> {
    return eventually(`Job ${jobName} finished`, timeoutMs, async () => {
      const job = await batch.readNamespacedJob({ name: jobName, namespace: NS });
      const done = job.status?.conditions?.find(
        (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
      );
      return done ? { job, type: done.type, reason: done.reason ?? '' } : undefined;
    }).catch((err: Error) => {
      throw new Error(`${err.message}\n${logsOfJob(jobName)}`);
    });
  }

  function logsOfJob(jobName: string): string {
    return kubelet.runs
      .filter((r) => r.pod.startsWith(`${jobName}-`))
      .map((r) => kubelet.logsOf(r.pod))
      .join('\n');
  }

  async function podsOf(jobName: string): Promise<V1Pod[]> {
    return (await core.listNamespacedPod({ namespace: NS, labelSelector: `job-name=${jobName}` })).items;
  }

  const terminated = (pod: V1Pod) => pod.status?.containerStatuses?.[0]?.state?.terminated;

  test('a squat video in the bucket: the Job completes, the report, thumbnails and status are there', async () => {
    const name = 'squat-001';
    // What `kubectl get va -w` would show while it runs.
    const seen: Array<{ at: number; status: VideoAnalysis['status'] }> = [];
    const stopWatch = watchResource(name, (obj) => seen.push({ at: Date.now(), status: obj.status }));
    const { jobName } = await submit(name, { bucket: 'videos', key: 'uploads/u1/squat.mp4' });
    const { job, type } = await finished(jobName, 150_000).finally(stopWatch);
    assert.equal(type, 'Complete', logsOfJob(jobName));
    assert.equal(job.status?.succeeded, 1);

    const va = await readVA(name);
    const status = va.status ?? {};
    assert.equal(status.summary?.reps, 3, JSON.stringify(status));
    assert.equal(status.summary?.exercise, 'squat');
    assert.ok((status.summary?.durationSeconds ?? 0) > 5);
    assert.equal(typeof status.summary?.score, 'number');
    assert.ok(Array.isArray(status.summary?.faults));
    // The operator owns phase and conditions; the worker never writes them.
    assert.equal(status.phase, undefined);
    assert.equal(status.conditions, undefined);
    assert.ok(status.progress && status.progress.framesTotal > 0, JSON.stringify(status.progress));
    assert.equal(status.progress.framesDone, status.progress.framesTotal);
    // Progress arrived while it ran, throttled: only changes, and about one patch per 2 s (counted
    // over the whole run, as event arrival times jitter; the exact rule has unit tests).
    const running = seen.filter((s) => s.status?.progress && !s.status.summary);
    const shown = JSON.stringify(seen.map((s) => ({ at: s.at, progress: s.status?.progress })));
    assert.ok(running.length >= 1, `progress before the summary: ${shown}`);
    for (let i = 1; i < running.length; i++) {
      assert.notDeepEqual(running[i - 1]?.status?.progress, running[i]?.status?.progress, shown);
    }
    const last = seen.find((s) => s.status?.summary) ?? seen.at(-1);
    const span = (last?.at ?? 0) - (running[0]?.at ?? 0);
    assert.ok(
      running.length <= Math.floor(span / 2000) + 2,
      `${running.length} progress patches in ${span} ms: ${shown}`,
    );

    assert.equal(status.results?.report, `s3://results/analyses/${name}/report.json`);
    const loc = parseS3Uri(status.results?.report ?? '');
    assert.ok(loc);
    const body = await (
      await s3.send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key }))
    ).Body?.transformToString();
    const report = JSON.parse(body ?? '{}') as Report;
    assert.equal(report.summary.reps, 3);
    assert.equal(report.summary.exercise, 'squat');
    // The report in the bucket names objects in the bucket, not the worker's scratch files.
    assert.equal(report.files.report, status.results?.report);
    assert.equal(report.video.file, 's3://videos/uploads/u1/squat.mp4');
    assert.deepEqual(report.files.thumbnails, status.results?.thumbnails);

    assert.equal(status.results?.thumbnails.length, 3);
    for (const uri of [...(status.results?.thumbnails ?? []), report.files.framesCsv, report.files.chart ?? '']) {
      const object = parseS3Uri(uri);
      assert.ok(object, uri);
      const head = await s3.send(new HeadObjectCommand({ Bucket: object.bucket, Key: object.key }));
      assert.ok((head.ContentLength ?? 0) > 0, uri);
    }
    const [thumb] = status.results?.thumbnails ?? [];
    const png = parseS3Uri(thumb ?? '');
    assert.ok(png);
    const head = await s3.send(new HeadObjectCommand({ Bucket: png.bucket, Key: png.key }));
    assert.equal(head.ContentType, 'image/png');

    const [pod] = await podsOf(jobName);
    assert.equal(pod?.status?.phase, 'Succeeded');
    assert.equal(terminated(pod as V1Pod)?.exitCode, 0);
    assert.match(terminated(pod as V1Pod)?.message ?? '', /report\.json/);
  });

  test('a corrupt video: the worker exits 3 and the Job fails at once, with the reason in the status', async () => {
    const name = 'corrupt-001';
    const { jobName } = await submit(name, { bucket: 'videos', key: 'uploads/u1/corrupt.mp4' });
    const { job, type, reason } = await finished(jobName, 60_000);
    assert.equal(type, 'Failed');
    assert.equal(reason, 'PodFailurePolicy', logsOfJob(jobName));
    assert.equal(job.status?.failed, 1, 'no retry');
    const pods = await podsOf(jobName);
    assert.equal(pods.length, 1);
    assert.equal(terminated(pods[0] as V1Pod)?.exitCode, 3);

    const va = await readVA(name);
    assert.match(va.status?.message ?? '', /cannot be analysed/, JSON.stringify(va.status));
    assert.equal(va.status?.summary, undefined);
    assert.equal(va.status?.results, undefined);
    assert.equal(terminated(pods[0] as V1Pod)?.message, va.status?.message);
  });

  test('a source object that does not exist: exit 3, no retry, the message names the object', async () => {
    const name = 'missing-001';
    const { jobName } = await submit(name, { bucket: 'videos', key: 'uploads/u1/never-uploaded.mp4' });
    const { job, type, reason } = await finished(jobName, 60_000);
    assert.equal(type, 'Failed');
    assert.equal(reason, 'PodFailurePolicy', logsOfJob(jobName));
    assert.equal(job.status?.failed, 1);
    assert.equal(terminated((await podsOf(jobName))[0] as V1Pod)?.exitCode, 3);
    const va = await readVA(name);
    assert.equal(
      va.status?.message,
      'the source video s3://videos/uploads/u1/never-uploaded.mp4 does not exist (deleted after upload, or a wrong key)',
    );
  });

  test('S3 unreachable: the worker exits 1 (transient) and the Job retries until its backoff limit', async () => {
    const name = 'unreachable-001';
    const closed = await freePort(); // free a moment ago: nothing listens there
    await core.createNamespacedSecret({
      namespace: NS,
      body: {
        metadata: { name: 'nfc-s3-unreachable' },
        stringData: { ...minio.env, S3_ENDPOINT: `http://127.0.0.1:${closed}` },
      },
    });
    const { jobName } = await submit(
      name,
      { bucket: 'videos', key: 'uploads/u1/squat.mp4' },
      { ...CONFIG, s3SecretName: 'nfc-s3-unreachable' },
    );
    const { job, type, reason } = await finished(jobName, 90_000);
    assert.equal(type, 'Failed');
    assert.equal(reason, 'BackoffLimitExceeded', logsOfJob(jobName));
    assert.ok((job.status?.failed ?? 0) >= 2, `retried: failed=${job.status?.failed}`);
    const pods = await podsOf(jobName);
    assert.ok(pods.length >= 2);
    for (const pod of pods) {
      assert.equal(terminated(pod)?.exitCode, 1);
      assert.match(terminated(pod)?.message ?? '', /unreachable/);
    }
    // A transient failure is not the user's problem: no message, no results.
    const va = await readVA(name);
    assert.equal(va.status?.message, undefined);
    assert.equal(va.status?.results, undefined);
  });

  test("deleting an analysis's artifacts (the finalizer's cleanup) removes its prefix only, page by page", async () => {
    const store = new ObjectStore(objectStoreConfigFromEnv(minio.env));
    try {
      const file = join(cp.dir, 'artifact.txt');
      writeFileSync(file, 'x');
      for (let i = 0; i < 5; i++) await store.uploadFile('results', `analyses/gone-001/thumbnails/rep-0${i}.png`, file);
      await store.uploadFile('results', 'analyses/gone-001/report.json', file);
      await store.uploadFile('results', 'analyses/gone-0010/report.json', file); // same characters, other analysis
      assert.equal(await store.deletePrefix('results', 'analyses/gone-001/', { pageSize: 2 }), 6);
      assert.equal(await store.head('results', 'analyses/gone-001/report.json'), undefined);
      assert.ok(await store.head('results', 'analyses/gone-0010/report.json'));
      assert.equal(await store.deletePrefix('results', 'analyses/gone-001/'), 0, 'a second run finds nothing');
      await assert.rejects(store.deletePrefix('results', ''), /empty prefix/);
      await assert.rejects(store.deletePrefix('no-such-bucket', 'x/'), { code: 'NoSuchBucket', kind: 'permanent' });
    } finally {
      store.destroy();
    }
  });
});
