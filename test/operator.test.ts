/**
 * The operator (`nfc operator`, a child process) on a real API server (etcd + kube-apiserver):
 * the Job it creates for a VideoAnalysis, the phases as the Job finishes (its status written
 * through the status subresource as the Job controller writes it), invalid specs, the cleanup
 * finalizer against a real MinIO, events, and its HTTP endpoints.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { AdmissionregistrationV1Api, CoreV1Api, EventsV1Api, Watch } from '@kubernetes/client-node';
import { type ControlPlane, startControlPlane } from './support/control-plane.js';
import { type Minio, startMinio } from './support/minio.js';
import {
  eventually,
  installCrd,
  MERGE_PATCH,
  type OperatorProcess,
  operatorTestClient,
  startOperator,
  type VideoAnalysisManifest,
  videoAnalysis,
} from './support/operator-process.js';

const NS = 'default';

describe('operator: VideoAnalysis → worker Job → phase', () => {
  let cp: ControlPlane;
  let minio: Minio;
  let s3: S3Client;
  let op: OperatorProcess;
  let client: ReturnType<typeof operatorTestClient>;
  /** Every change to each VideoAnalysis, as a watch sees it: the operator's writes. */
  const modifications = new Map<string, Array<{ type: string; phase?: string }>>();
  let stopWatch: AbortController | undefined;

  before(async () => {
    [cp, minio] = await Promise.all([startControlPlane(), startMinio()]);
    const kc = cp.kubeConfig();
    await installCrd(kc);
    client = operatorTestClient(kc);
    s3 = minio.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'results' }));
    stopWatch = (await new Watch(kc).watch(
      `/apis/nutrifitcoach.io/v1alpha1/namespaces/${NS}/videoanalyses`,
      { resourceVersion: '0' },
      (type, obj: VideoAnalysisManifest) => {
        const list = modifications.get(obj.metadata.name) ?? [];
        list.push({ type, ...(obj.status?.phase ? { phase: obj.status.phase } : {}) });
        modifications.set(obj.metadata.name, list);
      },
      () => {},
    )) as AbortController;
    op = await startOperator({
      kubeconfigPath: cp.kubeconfigPath,
      env: { ...minio.env, NFC_JOB_BACKOFF_LIMIT: '2', NFC_JOB_TTL_SECONDS: '600', NFC_S3_SECRET_NAME: 'nfc-s3' },
    });
    await op.waitForLog(/became leader/);
  });
  after(async () => {
    stopWatch?.abort();
    await op?.kill('SIGTERM');
    s3?.destroy();
    await Promise.all([cp?.stop(), minio?.stop()]);
  });

  const phaseOf = (name: string, phase: string, timeoutMs = 15_000) =>
    eventually(`${name} ${phase}`, timeoutMs, async () => {
      const va = await client.get(name);
      return va.status?.phase === phase ? va : undefined;
    });
  const jobOf = (name: string) =>
    eventually(`Job of ${name}`, 15_000, async () =>
      (await client.jobs()).find((j) => j.metadata?.name === `nfc-${name}`),
    );
  const eventsOf = async (name: string) => {
    const events = cp.kubeConfig().makeApiClient(EventsV1Api);
    const list = await events.listNamespacedEvent({ namespace: NS, fieldSelector: `regarding.name=${name}` });
    return list.items.map((e) => `${e.type}/${e.reason}`).sort();
  };

  test('a GPU analysis gets exactly the expected Job, goes Running, then Succeeded when the Job completes', async () => {
    const created = await client.create(videoAnalysis('squat-gpu', { spec: { deadlineSeconds: 600 } }));
    const job = await jobOf('squat-gpu');

    assert.deepEqual(job.metadata?.labels, {
      'app.kubernetes.io/name': 'nfc-worker',
      'app.kubernetes.io/managed-by': 'nfc-operator',
      'nutrifitcoach.io/analysis': 'squat-gpu',
    });
    assert.deepEqual(
      job.metadata?.ownerReferences?.map((r) => ({ ...r })),
      [
        {
          apiVersion: 'nutrifitcoach.io/v1alpha1',
          kind: 'VideoAnalysis',
          name: 'squat-gpu',
          uid: created.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    );
    const spec = job.spec;
    assert.equal(spec?.backoffLimit, 2);
    assert.equal(spec?.activeDeadlineSeconds, 600);
    assert.equal(spec?.ttlSecondsAfterFinished, 600);
    assert.deepEqual(
      spec?.podFailurePolicy?.rules.map((r) => ({
        action: r.action,
        exit: r.onExitCodes?.values,
        on: r.onPodConditions?.[0]?.type,
      })),
      [
        { action: 'FailJob', exit: [3], on: undefined },
        { action: 'Ignore', exit: undefined, on: 'DisruptionTarget' },
      ],
    );
    const pod = spec?.template.spec;
    assert.equal(pod?.restartPolicy, 'Never');
    assert.equal(pod?.serviceAccountName, 'nfc-worker');
    assert.deepEqual(pod?.nodeSelector, { 'nutrifitcoach.io/gpu': 'true' });
    assert.deepEqual(
      pod?.tolerations?.map((t) => ({ ...t })),
      [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
    );
    assert.equal(pod?.runtimeClassName, 'nvidia');
    assert.equal(pod?.securityContext?.runAsNonRoot, true);
    assert.equal(pod?.containers.length, 1);
    const c = pod?.containers[0];
    assert.equal(c?.name, 'worker');
    assert.equal(c?.image, 'ghcr.io/nutrifitcoach/worker:test');
    assert.deepEqual(c?.args, ['worker', 'job', '--namespace', NS, '--name', 'squat-gpu']);
    assert.deepEqual(
      c?.envFrom?.map((e) => e.secretRef?.name),
      ['nfc-s3'],
    );
    assert.deepEqual({ ...c?.resources?.limits }, { cpu: '2', memory: '4Gi', 'nvidia.com/gpu': '1' });
    assert.deepEqual({ ...c?.resources?.requests }, { cpu: '1', memory: '2Gi' });
    assert.equal(c?.securityContext?.readOnlyRootFilesystem, true);

    const running = await phaseOf('squat-gpu', 'Running');
    assert.equal(running.status?.jobName, 'nfc-squat-gpu');
    assert.equal(running.status?.attempts, 0);
    assert.ok(running.status?.startTime);
    assert.equal(running.status?.observedGeneration, 1);
    const admitted = running.status?.conditions?.find((x) => x.type === 'Admitted');
    assert.equal(admitted?.status, 'True');
    assert.equal(admitted?.observedGeneration, 1);

    await client.finishJob('nfc-squat-gpu', { type: 'Complete' });
    const done = await phaseOf('squat-gpu', 'Succeeded');
    assert.ok(done.status?.completionTime);
    assert.equal(done.status?.conditions?.find((x) => x.type === 'Succeeded')?.status, 'True');
    await eventually('events JobCreated and Succeeded', 10_000, async () => {
      const events = await eventsOf('squat-gpu');
      return events.includes('Normal/JobCreated') && events.includes('Normal/Succeeded') ? events : undefined;
    });

    // Minimal writes: the Job, then the resource twice (Running, Succeeded); nothing more later.
    await sleep(1500);
    const seen = (modifications.get('squat-gpu') ?? []).filter((m) => m.type === 'MODIFIED');
    assert.deepEqual(
      seen.map((m) => m.phase),
      ['Running', 'Succeeded'],
    );
    assert.equal((await client.jobs()).filter((j) => j.metadata?.name === 'nfc-squat-gpu').length, 1);
  });

  test('a CPU analysis (gpu: 0) gets a Job with no GPU limit, node selector, tolerations or runtime class', async () => {
    await client.create(videoAnalysis('pushup-cpu', { spec: { exercise: 'pushup', resources: { gpu: 0 } } }));
    const job = await jobOf('pushup-cpu');
    const pod = job.spec?.template.spec;
    assert.deepEqual({ ...pod?.containers[0]?.resources?.limits }, { cpu: '2', memory: '4Gi' });
    assert.equal(pod?.nodeSelector, undefined);
    assert.equal(pod?.tolerations, undefined);
    assert.equal(pod?.runtimeClassName, undefined);
    assert.equal(pod?.containers[0]?.env?.find((e) => e.name === 'NFC_BACKEND')?.value, 'wasm');
    await phaseOf('pushup-cpu', 'Running');
  });

  test('a Job failed by its podFailurePolicy (bad input) fails the analysis at once, with the message, and no new Job', async () => {
    await client.create(videoAnalysis('corrupt-video'));
    await jobOf('corrupt-video');
    await phaseOf('corrupt-video', 'Running');
    const detail =
      'Container worker for pod default/nfc-corrupt-video-x7k2p failed with exit code 3 matching FailJob rule at index 0';
    await client.finishJob('nfc-corrupt-video', { type: 'Failed', reason: 'PodFailurePolicy', message: detail });
    const failed = await phaseOf('corrupt-video', 'Failed');
    assert.match(failed.status?.message ?? '', /cannot be analysed \(bad input\)/);
    assert.match(failed.status?.message ?? '', /exit code 3/);
    const condition = failed.status?.conditions?.find((x) => x.type === 'Failed');
    assert.equal(condition?.status, 'True');
    assert.equal(condition?.reason, 'PodFailurePolicy');
    assert.equal(failed.status?.attempts, 1);
    await sleep(1500);
    const jobs = (await client.jobs()).filter(
      (j) => j.metadata?.labels?.['nutrifitcoach.io/analysis'] === 'corrupt-video',
    );
    assert.equal(jobs.length, 1, 'no new Job');
    assert.equal((await client.get('corrupt-video')).status?.phase, 'Failed');
    assert.ok((await eventsOf('corrupt-video')).includes('Warning/PodFailurePolicy'));
  });

  test('a URL on a host that is not allow-listed fails with a condition, without a Job and without retries', async () => {
    await client.create(videoAnalysis('evil-url', { spec: { source: { url: 'https://evil.example.net/clip.mp4' } } }));
    const failed = await phaseOf('evil-url', 'Failed');
    assert.match(failed.status?.message ?? '', /host evil\.example\.net is not allowed/);
    const condition = failed.status?.conditions?.find((x) => x.type === 'Failed');
    assert.equal(condition?.reason, 'InvalidSpec');
    assert.equal(condition?.observedGeneration, 1);
    await sleep(1000);
    assert.equal((await client.jobs()).filter((j) => j.metadata?.name === 'nfc-evil-url').length, 0);
    const writes = (modifications.get('evil-url') ?? []).filter((m) => m.type === 'MODIFIED');
    assert.equal(writes.length, 1, 'one status write, no retries');
    assert.ok((await eventsOf('evil-url')).includes('Warning/InvalidSpec'));
  });

  test('cleanupPolicy Delete: the finalizer removes the artifacts from the bucket before the resource goes', async () => {
    const name = 'cleanup-me';
    const keys = [`analyses/${name}/report.json`, `analyses/${name}/thumbnails/rep-01.png`];
    const keep = `analyses/${name}-other/report.json`;
    for (const Key of [...keys, keep]) await s3.send(new PutObjectCommand({ Bucket: 'results', Key, Body: '{}' }));
    await client.create(videoAnalysis(name, { spec: { cleanupPolicy: 'Delete' } }));
    await eventually('finalizer added', 15_000, async () =>
      (await client.get(name)).metadata.finalizers?.includes('nutrifitcoach.io/artifacts') ? true : undefined,
    );
    await phaseOf(name, 'Running');
    await client.remove(name);
    await eventually('resource gone', 15_000, async () => {
      try {
        await client.get(name);
        return undefined;
      } catch (err) {
        return (err as { code?: number }).code === 404 ? true : undefined;
      }
    });
    const left = await s3.send(new ListObjectsV2Command({ Bucket: 'results', Prefix: `analyses/${name}` }));
    assert.deepEqual(
      (left.Contents ?? []).map((o) => o.Key),
      [keep],
      'only the other analysis keeps its files',
    );
    await eventually('ArtifactsDeleted event', 10_000, async () =>
      (await eventsOf(name)).includes('Normal/ArtifactsDeleted') ? true : undefined,
    );
  });

  test('/healthz has the time of the last watch event, /readyz is ready, /metrics has the operator metrics', async () => {
    const health = await op.get('/healthz');
    assert.equal(health.status, 200);
    const report = JSON.parse(health.body) as {
      status: string;
      leader: boolean;
      lastWatchEventTime: string;
      watches: Array<{ resource: string; lastEventTime: string }>;
    };
    assert.equal(report.status, 'ok');
    assert.equal(report.leader, true);
    assert.ok(Date.now() - Date.parse(report.lastWatchEventTime) < 120_000);
    assert.deepEqual(report.watches.map((w) => w.resource).sort(), ['jobs', 'videoanalyses']);
    assert.equal((await op.get('/readyz')).status, 200);

    const m = await op.metrics();
    assert.ok((m['nfc_operator_reconciles_total{result="success"}'] ?? 0) >= 5);
    assert.equal(m.nfc_operator_reconcile_errors_total, 0);
    assert.ok((m.nfc_operator_reconcile_duration_seconds_count ?? 0) >= 5);
    assert.equal(m.nfc_operator_queue_depth, 0);
    assert.equal(m['nfc_operator_jobs{phase="Succeeded"}'], 1);
    assert.equal(m['nfc_operator_jobs{phase="Failed"}'], 2);
    assert.equal(m['nfc_operator_jobs{phase="Running"}'], 1);
    assert.equal(m.nfc_operator_leader, 1);
  });

  test('a Job creation refused for now (403) is retried with backoff until it goes through; one refused as invalid (422) fails at once', async () => {
    const kc = cp.kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const admission = kc.makeApiClient(AdmissionregistrationV1Api);
    // Admission policies that refuse Jobs in labelled namespaces: 403 Forbidden, or 422 Invalid.
    for (const reason of ['Forbidden', 'Invalid'] as const) {
      const name = `deny-jobs-${reason.toLowerCase()}`;
      await admission.createValidatingAdmissionPolicy({
        body: {
          metadata: { name },
          spec: {
            failurePolicy: 'Fail',
            matchConstraints: {
              resourceRules: [
                { apiGroups: ['batch'], apiVersions: ['v1'], operations: ['CREATE'], resources: ['jobs'] },
              ],
            },
            validations: [{ expression: 'false', message: `jobs refused (${reason})`, reason }],
          },
        },
      });
      await admission.createValidatingAdmissionPolicyBinding({
        body: {
          metadata: { name },
          spec: {
            policyName: name,
            validationActions: ['Deny'],
            matchResources: { namespaceSelector: { matchLabels: { 'nfc-test/deny-jobs': reason } } },
          },
        },
      });
    }
    const namespaces = { Forbidden: 'refused-for-now', Invalid: 'refused-as-invalid' } as const;
    for (const [reason, name] of Object.entries(namespaces)) {
      await core.createNamespace({ body: { metadata: { name, labels: { 'nfc-test/deny-jobs': reason } } } });
      await eventually(`policy ${reason} in force`, 20_000, async () => {
        try {
          await client.batch.createNamespacedJob({
            namespace: name,
            dryRun: 'All',
            body: {
              metadata: { name: 'probe' },
              spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'x' }] } } },
            },
          });
          return undefined;
        } catch (err) {
          return (err as { code?: number }).code === (reason === 'Forbidden' ? 403 : 422) ? true : undefined;
        }
      });
    }

    // 403: transient. Retried with exponential backoff, nothing written meanwhile.
    const errorsBefore = (await op.metrics()).nfc_operator_reconcile_errors_total ?? 0;
    await client.create(videoAnalysis('blocked', { namespace: namespaces.Forbidden }));
    await sleep(3000);
    const errors = ((await op.metrics()).nfc_operator_reconcile_errors_total ?? 0) - errorsBefore;
    // From 200 ms, doubling: a handful of attempts in 3 s, not hundreds.
    assert.ok(errors >= 2 && errors <= 8, `${errors} failed attempts in 3 s`);
    assert.equal((await client.get('blocked', namespaces.Forbidden)).status?.phase, undefined);
    await core.patchNamespace(
      { name: namespaces.Forbidden, body: { metadata: { labels: { 'nfc-test/deny-jobs': null } } } },
      MERGE_PATCH,
    );
    await eventually('blocked Running once allowed', 20_000, async () =>
      (await client.get('blocked', namespaces.Forbidden)).status?.phase === 'Running' ? true : undefined,
    );
    assert.equal((await client.jobs(namespaces.Forbidden)).length, 1);

    // 422: can never work. Failed with a condition, no retries.
    const errorsMid = (await op.metrics()).nfc_operator_reconcile_errors_total ?? 0;
    await client.create(videoAnalysis('rejected', { namespace: namespaces.Invalid }));
    const failed = await eventually('rejected Failed', 15_000, async () => {
      const va = await client.get('rejected', namespaces.Invalid);
      return va.status?.phase === 'Failed' ? va : undefined;
    });
    const condition = failed.status?.conditions?.find((c) => c.type === 'Failed');
    assert.equal(condition?.reason, 'JobRejected');
    assert.match(failed.status?.message ?? '', /jobs refused \(Invalid\)/);
    await sleep(1000);
    assert.equal((await op.metrics()).nfc_operator_reconcile_errors_total ?? 0, errorsMid, 'not retried');
    assert.equal((await client.jobs(namespaces.Invalid)).length, 0);
  });
});
