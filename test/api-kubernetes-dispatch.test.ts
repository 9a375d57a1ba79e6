/**
 * The API's `kubernetes` dispatch on real parts only: a real control plane (etcd,
 * kube-apiserver, scheduler, controller-manager), the operator as its own process, the Job's Pod
 * run by the emulated kubelet as `nfc worker job`, and a real MinIO. The dispatcher runs as the
 * API's service account with exactly the chart's API Role. What is asserted is what the API
 * would write into its rows and show a coach: the updates (queued → running with progress →
 * succeeded with the hand-counted reps, result keys that exist in the bucket), resources
 * applied with kubectl reported as discovered, updates made while the API server was restarting
 * still delivered, and cancel removing the resource and its artifacts.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import type { AnalysisTask, AnalysisUpdate } from '../services/api/dispatch/dispatcher.js';
import { KubernetesDispatcher } from '../services/api/dispatch/kubernetes.js';
import { KubernetesDispatchError, kubernetesError } from '../services/api/dispatch/kubernetes-errors.js';
import { startAnalysisCluster } from './support/analysis-cluster.js';
import { apiServiceAccountKubeConfig } from './support/api-service-account.js';
import { clip } from './support/clips.js';
import { type ControlPlane, startControlPlane } from './support/control-plane.js';
import type { KubeletEmulator } from './support/kubelet-emulator.js';
import { type Minio, startMinio } from './support/minio.js';
import { eventually, type OperatorProcess, operatorTestClient, videoAnalysis } from './support/operator-process.js';

const NS = 'athletes';
const API_SA = 'nfc-api';
const CLIP = clip('formfit_squat.mp4');
const RANK = { queued: 0, running: 1, succeeded: 2, failed: 2, cancelled: 2 } as const;

describe('kubernetes dispatch: VideoAnalysis out, status back through a watch', { timeout: 420_000 }, () => {
  let cp: ControlPlane;
  let minio: Minio;
  let s3: S3Client;
  let kubelet: KubeletEmulator;
  let op: OperatorProcess;
  let client: ReturnType<typeof operatorTestClient>;
  let dispatcher: KubernetesDispatcher;
  let apiKubeConfig: KubeConfig;
  const updates: Array<AnalysisUpdate & { at: number }> = [];
  const logs: string[] = [];

  before(async () => {
    [cp, minio] = await Promise.all([startControlPlane({ scheduler: true, controllerManager: true }), startMinio()]);
    const kc = cp.kubeConfig();
    client = operatorTestClient(kc);
    s3 = minio.client();
    ({ kubelet, op } = await startAnalysisCluster(cp, minio, {
      namespace: NS,
      operatorEnv: {
        // GPU analyses need a node labelled for GPUs (none here: they stay Pending); CPU ones
        // (gpu: 0) run on the emulated kubelet.
        NFC_GPU_NODE_SELECTOR: '{"nutrifitcoach.io/gpu":"true"}',
        // A lease that outlives a kube-apiserver restart: the operator keeps leading through it
        // (with the tests' 4 s lease it would step down and exit, as it should, for its pod to restart).
        NFC_OPERATOR_LEASE_DURATION_SECONDS: '60',
        NFC_OPERATOR_RENEW_DEADLINE_SECONDS: '45',
        NFC_OPERATOR_RETRY_PERIOD_SECONDS: '2',
      },
    }));
    apiKubeConfig = await apiServiceAccountKubeConfig(cp, kc, NS, API_SA);

    dispatcher = new KubernetesDispatcher({
      namespace: NS,
      kubeConfig: apiKubeConfig,
      log: pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) }),
      gpu: 0,
      deadlineSeconds: 600,
      // Short retries so the restart test does not wait long for the watch to come back.
      backoffBaseMs: 500,
      backoffMaxMs: 4000,
    });
    await dispatcher.start((u) => updates.push({ ...u, at: Date.now() }));
    assert.equal(dispatcher.synced, true, 'start() returns once the namespace is listed');
  });

  after(async () => {
    await dispatcher?.stop();
    await op?.kill('SIGTERM');
    await kubelet?.stop();
    s3?.destroy();
    await Promise.all([cp?.stop(), minio?.stop()]);
  });

  const updatesOf = (id: string) => updates.filter((u) => u.analysisId === id);
  const waitForUpdate = (what: string, id: string, timeoutMs: number, match: (u: AnalysisUpdate) => boolean) =>
    eventually(what, timeoutMs, async () => updatesOf(id).find(match)).catch((err: Error) => {
      const worker = kubelet.runs.map((r) => kubelet.logsOf(r.pod)).join('\n');
      throw new Error(
        `${err.message}\nupdates: ${JSON.stringify(updatesOf(id))}\nworker:\n${worker.slice(-3000)}\noperator:\n${op.logs().slice(-2000)}\ndispatcher:\n${logs.join('').slice(-2000)}`,
      );
    });
  const task = (id: string, key: string, extra: Partial<AnalysisTask> = {}): AnalysisTask => ({
    analysisId: id,
    source: { bucket: 'videos', key },
    exercise: CLIP.exercise,
    fps: 15,
    output: { bucket: 'results', prefix: `analyses/${id}/` },
    ...extra,
  });
  const exists = async (bucket: string, key: string) =>
    ((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ContentLength ?? 0) > 0;
  const gone = (name: string) =>
    eventually(`${name} deleted`, 30_000, async () => {
      try {
        await client.get(name, NS);
        return undefined;
      } catch (err) {
        return (err as { code?: number }).code === 404 ? true : undefined;
      }
    });

  let squatId = '';

  test(`a submitted ${CLIP.file} goes queued → running with progress → succeeded with ${CLIP.reps} reps and result keys in the bucket`, async () => {
    await dispatcher.ready();
    squatId = randomUUID();
    const key = `uploads/${squatId}/squat.mp4`;
    await s3.send(new PutObjectCommand({ Bucket: 'videos', Key: key, Body: readFileSync(CLIP.path) }));
    await dispatcher.submit(task(squatId, key));
    // A retried request (same analysis): no error, still one resource.
    await dispatcher.submit(task(squatId, key));
    const resources = (await client.list(NS)).filter((va) => va.metadata.name === `a-${squatId}`);
    assert.equal(resources.length, 1);
    const va = resources[0] as (typeof resources)[number] & { metadata: { labels?: Record<string, string> } };
    assert.deepEqual(va.metadata.labels, {
      'nutrifitcoach.io/analysis-id': squatId,
      'app.kubernetes.io/managed-by': 'nfc-api',
    });
    assert.deepEqual(va.spec, {
      source: { s3: { bucket: 'videos', key } },
      exercise: 'squat',
      view: 'auto',
      model: 'movenet-lightning',
      sampling: { fps: 15 },
      resources: { gpu: 0 },
      output: { bucket: 'results', prefix: `analyses/${squatId}/` },
      deadlineSeconds: 600,
      cleanupPolicy: 'Delete',
    });

    const done = await waitForUpdate(
      'succeeded',
      squatId,
      300_000,
      (u) => u.status !== 'running' && RANK[u.status ?? 'queued'] === 2,
    );
    const seen = updatesOf(squatId);
    assert.equal(done.status, 'succeeded', JSON.stringify(seen));
    // The row's status only moves forward, through every state a coach would see.
    const statuses = seen.map((u) => u.status ?? 'queued');
    for (let i = 1; i < statuses.length; i++) {
      assert.ok(RANK[statuses[i - 1] as keyof typeof RANK] <= RANK[statuses[i] as keyof typeof RANK], statuses.join());
    }
    assert.equal(statuses[0], 'queued', statuses.join());
    assert.ok(statuses.includes('running'), statuses.join());
    const during = seen.filter((u) => u.status === 'running' && u.progress);
    assert.ok(during.length >= 1, `progress while running: ${JSON.stringify(seen.map((u) => u.progress))}`);
    assert.ok(
      during.some((u) => (u.progress?.framesDone ?? 0) < (u.progress?.framesTotal ?? 0)),
      'partial progress',
    );
    assert.ok(
      seen.every((u) => u.discovered === undefined),
      'its own analysis is not discovered',
    );

    assert.equal(done.summary?.reps, CLIP.reps, JSON.stringify(done.summary));
    assert.equal(done.summary?.exercise, 'squat');
    assert.equal(typeof done.summary?.score, 'number');
    assert.equal(done.progress?.framesDone, done.progress?.framesTotal);
    assert.equal(done.attempts, 0);
    assert.ok(done.startedAt && done.finishedAt && done.finishedAt >= done.startedAt, JSON.stringify(done));
    const results = done.results;
    assert.ok(results, JSON.stringify(done));
    assert.equal(results.bucket, 'results');
    assert.equal(results.prefix, `analyses/${squatId}/`);
    assert.equal(results.report, `analyses/${squatId}/report.json`);
    assert.equal(results.framesCsv, `analyses/${squatId}/frames.csv`);
    assert.equal(results.thumbnails.length, CLIP.reps);
    for (const k of [results.report, results.framesCsv, ...results.thumbnails]) {
      assert.ok(await exists(results.bucket, k), k);
    }
  });

  test('a VideoAnalysis applied with kubectl is reported as discovered, under its uid, and its failure too', async () => {
    const created = await client.create(
      videoAnalysis('kubectl-pushup', {
        namespace: NS,
        spec: {
          source: { s3: { bucket: 'videos', key: 'uploads/never-uploaded.mp4' } },
          exercise: 'pushup',
          sampling: { fps: 10 },
          resources: { gpu: 0 },
        },
      }),
    );
    const uid = created.metadata.uid ?? '';
    assert.match(uid, /^[0-9a-f-]{36}$/);
    const first = await waitForUpdate('discovered', uid, 20_000, (u) => u.discovered !== undefined);
    assert.deepEqual(first.discovered, { resource: `${NS}/kubectl-pushup`, exercise: 'pushup', fps: 10 });
    const failed = await waitForUpdate('failed', uid, 120_000, (u) => u.status === 'failed');
    assert.equal(
      failed.message,
      'the source video s3://videos/uploads/never-uploaded.mp4 does not exist (deleted after upload, or a wrong key)',
    );
    assert.equal(failed.errorCode, 'PodFailurePolicy');
    assert.ok(failed.finishedAt, 'a failure has an end time');
    assert.ok(failed.discovered, 'every update of a discovered resource says so (the row may not exist yet)');
  });

  test('kube-apiserver restarted while watching: what changed meanwhile is still delivered', async () => {
    // A GPU analysis: no GPU node, so it stays Running (its Pod Pending) until deleted.
    const before = await client.create(
      videoAnalysis('before-restart', { namespace: NS, spec: { resources: { gpu: 1 } } }),
    );
    const beforeUid = before.metadata.uid ?? '';
    await waitForUpdate('before-restart running', beforeUid, 30_000, (u) => u.status === 'running');
    const failuresBefore = logs.filter((l) => l.includes('list/watch failed')).length;

    await cp.restartApiServer();
    // Right away, while the dispatcher's watch is still down or backing off.
    const during = await client.create(
      videoAnalysis('made-after-restart', { namespace: NS, spec: { resources: { gpu: 1 } } }),
    );
    await client.remove('before-restart', NS);

    const duringUid = during.metadata.uid ?? '';
    const discovered = await waitForUpdate('made-after-restart discovered', duringUid, 60_000, (u) => !!u.discovered);
    assert.equal(discovered.discovered?.resource, `${NS}/made-after-restart`);
    await waitForUpdate('made-after-restart running', duringUid, 60_000, (u) => u.status === 'running');
    const cancelled = await waitForUpdate(
      'before-restart cancelled',
      beforeUid,
      60_000,
      (u) => u.status === 'cancelled',
    );
    assert.equal(cancelled.message, `the VideoAnalysis ${NS}/before-restart was deleted before it finished`);
    assert.ok(
      logs.filter((l) => l.includes('list/watch failed')).length > failuresBefore,
      'the watch really lost the API server',
    );
    await dispatcher.ready();
    // A kubectl resource is cancelled through its own name, found by its uid (the analysis id).
    await dispatcher.cancel(duringUid);
    await gone('made-after-restart');
    await waitForUpdate('made-after-restart cancelled', duringUid, 30_000, (u) => u.status === 'cancelled');
  });

  test('another API replica (or a restarted API) gets the state of every resource at once, and again on every relist', async () => {
    const seen: AnalysisUpdate[] = [];
    const replica = new KubernetesDispatcher({
      namespace: NS,
      kubeConfig: apiKubeConfig,
      log: pino({ level: 'silent' }),
      gpu: 0,
      resyncSeconds: 1,
    });
    try {
      await replica.start((u) => seen.push(u));
      const squat = seen.find((u) => u.analysisId === squatId);
      assert.equal(squat?.status, 'succeeded', JSON.stringify(seen));
      assert.equal(squat?.summary?.reps, CLIP.reps);
      const pushup = seen.find((u) => u.discovered?.resource === `${NS}/kubectl-pushup`);
      assert.equal(pushup?.status, 'failed');
      // A full relist about every second: each resource is sent again, so an update the API
      // failed to store (or one missed while disconnected) is not lost.
      await eventually('a second full relist', 15_000, async () =>
        seen.filter((u) => u.analysisId === squatId).length >= 2 ? true : undefined,
      );
    } finally {
      await replica.stop();
    }
  });

  test('cancel deletes the resource (cancelled update, Job gone); deleting a finished one removes its artifacts', async () => {
    const id = randomUUID();
    await dispatcher.submit(task(id, `uploads/${id}/never.mp4`, { gpu: 1 }));
    await waitForUpdate('running', id, 30_000, (u) => u.status === 'running');
    await eventually('its Job', 15_000, async () =>
      (await client.jobs(NS)).find((j) => j.metadata?.name === `nfc-a-${id}`),
    );
    await dispatcher.cancel(id);
    await gone(`a-${id}`);
    const cancelled = await waitForUpdate('cancelled', id, 30_000, (u) => u.status === 'cancelled');
    assert.match(cancelled.message ?? '', /was deleted before it finished/);
    await eventually('Job removed', 60_000, async () =>
      (await client.jobs(NS)).some((j) => j.metadata?.name === `nfc-a-${id}`) ? undefined : true,
    );
    await dispatcher.cancel(id); // idempotent

    // The succeeded analysis of the first test: its artifacts go with it (cleanupPolicy Delete).
    assert.ok(squatId, 'the first test ran');
    await dispatcher.cancel(squatId);
    await gone(`a-${squatId}`);
    const left = await s3.send(new ListObjectsV2Command({ Bucket: 'results', Prefix: `analyses/${squatId}/` }));
    assert.deepEqual(left.Contents ?? [], [], 'no artifacts left');
    assert.ok(
      updatesOf(squatId).every((u) => u.status !== 'cancelled'),
      'a finished analysis keeps its outcome when deleted',
    );
  });

  test('ready() names what is wrong: an unreachable API server, a namespace the Role does not cover, a CRD that is not installed', async () => {
    const nowhere = new KubeConfig();
    nowhere.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
      users: [{ name: 'u', token: 'x' }],
      contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
      currentContext: 'ctx',
    });
    const offline = new KubernetesDispatcher({
      namespace: NS,
      kubeConfig: nowhere,
      log: pino({ level: 'silent' }),
      gpu: 0,
    });
    await assert.rejects(offline.ready(), (err: unknown) => {
      assert.ok(err instanceof KubernetesDispatchError);
      assert.equal(err.code, 'KUBERNETES_UNAVAILABLE');
      assert.match(err.message, /cannot reach the Kubernetes API server at https:\/\/127\.0\.0\.1:1/);
      return true;
    });
    // What the API server answers for a resource type it does not serve, mapped as ready() maps it.
    const custom = cp.kubeConfig().makeApiClient(CustomObjectsApi);
    const missing = await custom
      .listNamespacedCustomObject({ group: 'absent.example.com', version: 'v1', plural: 'things', namespace: NS })
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    const mapped = kubernetesError(missing, `list VideoAnalyses in ${NS}`, cp.server);
    // A namespace the API's Role does not cover.
    const elsewhere = new KubernetesDispatcher({
      namespace: 'elsewhere',
      kubeConfig: apiKubeConfig,
      log: pino({ level: 'silent' }),
      gpu: 0,
    });
    await assert.rejects(elsewhere.ready(), (err: unknown) => {
      assert.ok(err instanceof KubernetesDispatchError);
      assert.equal(err.code, 'KUBERNETES_FORBIDDEN');
      assert.match(err.message, /check the API's Role/);
      return true;
    });
    assert.equal(mapped.code, 'KUBERNETES_CRD_MISSING');
    assert.match(mapped.message, /videoanalyses\.nutrifitcoach\.io CRD is not installed/);
  });
});
