/**
 * The API in `kubernetes` dispatch, end to end through HTTP, on real parts only: PostgreSQL,
 * MinIO, a real control plane (etcd, kube-apiserver, scheduler, controller-manager), the
 * operator as its own process and the Job's Pod run by the emulated kubelet as `nfc worker job`.
 * The API reaches the cluster as its service account bound to the chart's API Role, through a
 * kubeconfig named in KUBECONFIG, as a developer running `nfc serve` against a cluster would.
 * What is asserted is what a coach (or an admin) sees: the events of their analysis up to the
 * hand-counted reps, the report, the VideoAnalysis behind it, analyses applied with kubectl
 * showing up for admins only, deletes reaching the cluster and the bucket, and an analysis
 * whose VideoAnalysis was deleted while no API ran no longer shown as unfinished.
 */
import assert from 'node:assert/strict';
import { openAsBlob } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { startAnalysisCluster } from './support/analysis-cluster.js';
import { readEvents, startTestApi, type TestApi, type UserClient } from './support/api.js';
import { apiServiceAccountKubeConfig } from './support/api-service-account.js';
import { clip } from './support/clips.js';
import { type ControlPlane, startControlPlane } from './support/control-plane.js';
import type { KubeletEmulator } from './support/kubelet-emulator.js';
import { type Minio, startMinio } from './support/minio.js';
import {
  eventually,
  GROUP,
  MERGE_PATCH,
  type OperatorProcess,
  operatorTestClient,
  PLURAL,
  VERSION,
  videoAnalysis,
} from './support/operator-process.js';
import { type Postgres, startPostgres } from './support/postgres.js';

const NS = 'athletes';
const API_SA = 'nfc-api';
const ADMIN = 'coach-admin@example.com';
const CLIP = clip('formfit_squat.mp4');
const HOLD = 'example.com/hold';
const VA = { group: GROUP, version: VERSION, plural: PLURAL };

interface View {
  id: string;
  status: string;
  exercise: string;
  fps: number;
  uploadId: string | null;
  dispatch: string;
  resource: string | null;
  progress: { framesDone: number; framesTotal: number } | null;
  summary: { reps: number; exercise: string } | null;
  message: string | null;
  errorCode: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

describe('the API with kubernetes dispatch, through HTTP', { timeout: 600_000 }, () => {
  let cp: ControlPlane;
  let minio: Minio;
  let postgres: Postgres;
  let s3: S3Client;
  let kubelet: KubeletEmulator;
  let op: OperatorProcess;
  let client: ReturnType<typeof operatorTestClient>;
  let api: TestApi;
  let scratch: string;
  let coach: UserClient;
  let admin: UserClient;
  let uploadKey = '';

  before(async () => {
    [cp, minio, postgres] = await Promise.all([
      startControlPlane({ scheduler: true, controllerManager: true }),
      startMinio(),
      startPostgres(),
    ]);
    scratch = await mkdtemp(join(tmpdir(), 'nfc-api-kubernetes-'));
    const kc = cp.kubeConfig();
    client = operatorTestClient(kc);
    s3 = minio.client();
    ({ kubelet, op } = await startAnalysisCluster(cp, minio, {
      namespace: NS,
      operatorEnv: {
        // GPU analyses need a node labelled for GPUs (none here: they stay Pending); CPU ones run.
        NFC_GPU_NODE_SELECTOR: '{"nutrifitcoach.io/gpu":"true"}',
        NFC_OPERATOR_LEASE_DURATION_SECONDS: '60',
        NFC_OPERATOR_RENEW_DEADLINE_SECONDS: '45',
        NFC_OPERATOR_RETRY_PERIOD_SECONDS: '2',
      },
    }));
    const kubeconfigPath = join(scratch, 'api-kubeconfig.json');
    await writeFile(kubeconfigPath, (await apiServiceAccountKubeConfig(cp, kc, NS, API_SA)).exportConfig());

    api = await startTestApi({ dispatch: 'kubernetes', postgres, minio, env: apiEnv(kubeconfigPath) });
    [coach, admin] = await Promise.all([api.signUp(), api.signUp({ email: ADMIN })]);
  });

  after(async () => {
    await api?.close();
    await op?.kill('SIGTERM');
    await kubelet?.stop();
    s3?.destroy();
    await Promise.all([cp?.stop(), minio?.stop(), postgres?.stop()]);
    if (scratch) await rm(scratch, { recursive: true, force: true });
    if (restartedDataDir) await rm(restartedDataDir, { recursive: true, force: true });
  });

  const apiEnv = (kubeconfigPath: string) => ({
    KUBECONFIG: kubeconfigPath,
    NFC_ANALYSIS_NAMESPACE: NS,
    NFC_ANALYSIS_GPU: '0',
    NFC_ADMIN_EMAILS: ADMIN,
  });

  /** Everything a failed wait should show: the worker, the operator, the API's rows. */
  const diagnostics = async () => {
    const worker = kubelet.runs.map((r) => kubelet.logsOf(r.pod)).join('\n');
    const rows = await api.api.db.selectFrom('analyses').selectAll().execute();
    return `rows: ${JSON.stringify(rows)}\nworker:\n${worker.slice(-3000)}\noperator:\n${op.logs().slice(-2000)}`;
  };
  const waitFor = <T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>) =>
    eventually(what, timeoutMs, probe).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${await diagnostics()}`);
    });
  const gone = (name: string) =>
    waitFor(`VideoAnalysis ${name} deleted`, 60_000, async () => {
      try {
        await client.get(name, NS);
        return undefined;
      } catch (err) {
        return (err as { code?: number }).code === 404 ? true : undefined;
      }
    });
  const resultKeys = async (prefix: string) =>
    ((await s3.send(new ListObjectsV2Command({ Bucket: 'results', Prefix: prefix }))).Contents ?? []).map((o) =>
      String(o.Key),
    );
  const listed = async (user: UserClient) => {
    const res = await user.json<{ items: View[] }>('GET', '/v1/analyses?limit=100');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.items;
  };

  let squatId = '';
  let kubectlUid = '';
  let stuckUid = '';
  let restartedDataDir = '';

  test('/readyz reports the database, the object store and the Kubernetes API as ok', async () => {
    const res = await fetch(`${api.url}/readyz`);
    const body = (await res.json()) as { status: string; checks: Record<string, { ok: boolean; error?: string }> };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.status, 'ready');
    assert.deepEqual(Object.keys(body.checks).sort(), ['database', 'kubernetes', 'objectStore']);
    for (const [name, check] of Object.entries(body.checks)) assert.equal(check.ok, true, `${name}: ${check.error}`);
  });

  test(`an uploaded ${CLIP.file} is analysed as a VideoAnalysis: events up to succeeded with ${CLIP.reps} reps, the report from the bucket`, async () => {
    const upload = await coach.upload(await openAsBlob(CLIP.path), 'squat.mp4');
    assert.equal(upload.status, 201, JSON.stringify(upload.body));
    const row = await api.api.db
      .selectFrom('uploads')
      .select(['bucket', 'key'])
      .where('id', '=', upload.body.id)
      .executeTakeFirstOrThrow();
    uploadKey = row.key;

    const created = await coach.json<View>('POST', '/v1/analyses', { uploadId: upload.body.id, exercise: 'squat' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.status, 'queued');
    assert.equal(created.body.dispatch, 'kubernetes');
    squatId = created.body.id;
    assert.equal(created.body.resource, `${NS}/a-${squatId}`, 'the row names its VideoAnalysis');

    // The VideoAnalysis the API created: named after the analysis, labelled with its id, the
    // uploaded object as source, the results bucket under the analysis' prefix, on CPU.
    const va = (await client.get(`a-${squatId}`, NS)) as Awaited<ReturnType<typeof client.get>> & {
      metadata: { labels?: Record<string, string> };
    };
    assert.equal(va.metadata.labels?.['nutrifitcoach.io/analysis-id'], squatId);
    assert.equal(va.metadata.labels?.['app.kubernetes.io/managed-by'], 'nfc-api');
    const spec = va.spec as Record<string, unknown>;
    assert.deepEqual(spec.source, { s3: { bucket: row.bucket, key: row.key } });
    assert.equal(spec.exercise, 'squat');
    assert.deepEqual(spec.sampling, { fps: 15 });
    assert.deepEqual(spec.resources, { gpu: 0 });
    assert.deepEqual(spec.output, { bucket: 'results', prefix: `analyses/${squatId}/` });
    assert.equal(spec.cleanupPolicy, 'Delete');

    const events = await readEvents<View>(`${api.url}/v1/analyses/${squatId}/events`, coach.token);
    const final = events.at(-1);
    assert.equal(final?.status, 'succeeded', `${JSON.stringify(events)}\n${await diagnostics()}`);
    assert.equal(final?.summary?.reps, CLIP.reps);
    assert.equal(final?.summary?.exercise, 'squat');
    assert.ok(final?.startedAt && final.finishedAt && final.finishedAt >= final.startedAt, JSON.stringify(final));
    assert.ok(
      events.some((e) => e.status === 'running' && e.progress !== null),
      `progress seen while running: ${events.map((e) => `${e.status}:${JSON.stringify(e.progress)}`).join(' ')}`,
    );
    assert.equal(final?.progress?.framesDone, final?.progress?.framesTotal);

    const report = await coach.json<{ summary: { reps: number } }>('GET', `/v1/analyses/${squatId}/report`);
    assert.equal(report.status, 200, JSON.stringify(report.body));
    assert.equal(report.body.summary.reps, CLIP.reps);
    const files = await coach.json<{ thumbnails: string[] }>('GET', `/v1/analyses/${squatId}/artifacts`);
    assert.equal(files.status, 200, JSON.stringify(files.body));
    assert.equal(files.body.thumbnails.length, CLIP.reps);
    const thumbnail = await fetch(files.body.thumbnails[0] as string);
    assert.equal(thumbnail.status, 200, 'the presigned MinIO URL serves the thumbnail');
  });

  test('a VideoAnalysis applied with kubectl shows up for an admin (resource ns/name) and ends succeeded; a coach does not see it', async () => {
    assert.ok(uploadKey, 'the upload test ran');
    const manifest = videoAnalysis('kubectl-squat', {
      namespace: NS,
      spec: {
        source: { s3: { bucket: 'videos', key: uploadKey } },
        exercise: 'squat',
        sampling: { fps: 10 },
        resources: { gpu: 0 },
        output: { bucket: 'results', prefix: 'analyses/kubectl-squat/' },
      },
    });
    // Someone else's finalizer (a backup tool, say): when deleted, it lingers in deletion.
    manifest.metadata.finalizers = [HOLD];
    const created = await client.create(manifest);
    kubectlUid = created.metadata.uid ?? '';
    assert.match(kubectlUid, /^[0-9a-f-]{36}$/);
    // For the last test: a GPU analysis (no GPU node here) that stays unfinished until deleted.
    const stuck = await client.create(
      videoAnalysis('kubectl-gpu', { namespace: NS, spec: { exercise: 'pushup', resources: { gpu: 1 } } }),
    );
    stuckUid = stuck.metadata.uid ?? '';

    const seen = await waitFor('the kubectl analysis listed for the admin', 30_000, async () =>
      (await listed(admin)).find((a) => a.id === kubectlUid),
    );
    assert.equal(seen.resource, `${NS}/kubectl-squat`);
    assert.equal(seen.dispatch, 'kubernetes');
    assert.equal(seen.uploadId, null);
    assert.equal(seen.exercise, 'squat');
    assert.equal(seen.fps, 10);

    const events = await readEvents<View>(`${api.url}/v1/analyses/${kubectlUid}/events`, admin.token);
    const final = events.at(-1);
    assert.equal(final?.status, 'succeeded', `${JSON.stringify(events)}\n${await diagnostics()}`);
    assert.equal(final?.summary?.reps, CLIP.reps);
    const report = await admin.json<{ summary: { reps: number } }>('GET', `/v1/analyses/${kubectlUid}/report`);
    assert.equal(report.status, 200, JSON.stringify(report.body));
    assert.equal(report.body.summary.reps, CLIP.reps);

    // A coach sees only their own analyses: not in the list, and 404 by id.
    const mine = await listed(coach);
    assert.deepEqual(
      mine.map((a) => a.id),
      [squatId],
    );
    const direct = await coach.json('GET', `/v1/analyses/${kubectlUid}`);
    assert.equal(direct.status, 404);
    // The admin sees both.
    const all = (await listed(admin)).map((a) => a.id);
    assert.ok(all.includes(squatId) && all.includes(kubectlUid), JSON.stringify(all));
    assert.ok(all.includes(stuckUid), JSON.stringify(all));
  });

  test('DELETE /v1/analyses/:id deletes the VideoAnalysis and the artifacts; the analysis does not come back', async () => {
    assert.ok(squatId && kubectlUid, 'the earlier tests ran');
    assert.ok((await resultKeys(`analyses/${squatId}/`)).length > 0, 'artifacts before');
    const del = await coach.json('DELETE', `/v1/analyses/${squatId}`);
    assert.equal(del.status, 204, JSON.stringify(del.body));
    await gone(`a-${squatId}`);
    assert.deepEqual(await resultKeys(`analyses/${squatId}/`), [], 'no artifacts left');
    assert.equal((await coach.json('GET', `/v1/analyses/${squatId}`)).status, 404);

    // The admin deletes the kubectl one: its own name, found by its uid.
    assert.ok((await resultKeys('analyses/kubectl-squat/')).length > 0, 'artifacts before');
    const delKubectl = await admin.json('DELETE', `/v1/analyses/${kubectlUid}`);
    assert.equal(delKubectl.status, 204, JSON.stringify(delKubectl.body));
    assert.deepEqual(await resultKeys('analyses/kubectl-squat/'), [], 'no artifacts left');
    // The operator's finalizer is done; the other one holds the resource in deletion, and it
    // still changes (here an annotation): those watch events must not bring the row back.
    await waitFor('only the other finalizer left', 60_000, async () => {
      const { metadata } = await client.get('kubectl-squat', NS);
      const deleting = (metadata as { deletionTimestamp?: string }).deletionTimestamp;
      return deleting && metadata.finalizers?.join() === HOLD ? true : undefined;
    });
    await client.custom.patchNamespacedCustomObject(
      { ...VA, namespace: NS, name: 'kubectl-squat', body: { metadata: { annotations: { touched: 'yes' } } } },
      MERGE_PATCH,
    );
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal((await admin.json('GET', `/v1/analyses/${kubectlUid}`)).status, 404, 'not back while in deletion');
    await client.custom.patchNamespacedCustomObject(
      { ...VA, namespace: NS, name: 'kubectl-squat', body: { metadata: { finalizers: null } } },
      MERGE_PATCH,
    );
    await gone('kubectl-squat');

    // Watch events of the resources being deleted (finalizer, then gone) arrive afterwards:
    // they must not bring a row back.
    await new Promise((r) => setTimeout(r, 3000));
    await api.api.dispatcher.ready();
    const ids = (await listed(admin)).map((a) => a.id);
    assert.ok(!ids.includes(squatId) && !ids.includes(kubectlUid), JSON.stringify(ids));
  });

  test('a VideoAnalysis deleted while no API ran: the next API to start shows its analysis cancelled, not running forever', async () => {
    assert.ok(stuckUid, 'the kubectl test ran');
    const running = await waitFor('the GPU analysis running', 60_000, async () => {
      const res = await admin.json<View>('GET', `/v1/analyses/${stuckUid}`);
      return res.status === 200 && res.body.status === 'running' ? res.body : undefined;
    });
    assert.equal(running.resource, `${NS}/kubectl-gpu`);

    // No API replica runs while it is deleted: no watch sees the delete event.
    const dataDir = api.dataDir;
    await api.close({ keepData: true });
    await client.remove('kubectl-gpu', NS);
    await gone('kubectl-gpu');

    // Rows younger than a minute are spared (their resource may still be on its way): the
    // row was written when the resource was discovered, so wait until it is older than that.
    const previous = api;
    const createdAt = Date.parse(running.createdAt);
    const wait = createdAt + 61_000 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    api = await startTestApi({
      dispatch: 'kubernetes',
      postgres,
      minio,
      dataDir,
      shareDatabaseWith: previous,
      env: previous.env,
    });
    restartedDataDir = dataDir;
    const adminAgain = await api.signUp({ email: ADMIN });

    const after = await waitFor('the analysis cancelled', 30_000, async () => {
      const res = await adminAgain.json<View>('GET', `/v1/analyses/${stuckUid}`);
      return res.status === 200 && res.body.status !== 'running' ? res.body : undefined;
    });
    assert.equal(after.status, 'cancelled');
    assert.equal(after.message, `the VideoAnalysis ${NS}/kubectl-gpu was deleted before it finished`);
    assert.ok(after.finishedAt, 'a cancelled analysis has an end time');
  });
});
