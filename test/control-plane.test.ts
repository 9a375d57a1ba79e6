/**
 * The VideoAnalysis API on a real control plane (etcd + kube-apiserver, then scheduler,
 * controller-manager and KWOK GPU nodes), started by the test harness from binaries built by
 * scripts/build-tools.sh.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import {
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubernetesObject,
  KubernetesObjectApi,
  loadAllYaml,
  PatchStrategy,
  setHeaderOptions,
  type V1Pod,
} from '@kubernetes/client-node';
import { REPO_ROOT } from './support/clips.js';
import { type ControlPlane, startControlPlane, toolPath } from './support/control-plane.js';
import { eventually } from './support/wait.js';

const GROUP = 'nutrifitcoach.io';
const VERSION = 'v1alpha1';
const PLURAL = 'videoanalyses';
const NS = 'default';
const CRD_NAME = `${PLURAL}.${GROUP}`;

type VideoAnalysis = KubernetesObject & { spec: Record<string, unknown>; status?: Record<string, unknown> };

/**
 * Manifests as typed client objects. loadAllYaml deserializes into the client's models: a plain
 * YAML parse would not do, since the client serializes by model attribute and would silently
 * drop fields such as `default` and `x-kubernetes-validations` from a CRD.
 */
function readYaml(path: string): KubernetesObject[] {
  return (loadAllYaml(readFileSync(path, 'utf8')) as Array<KubernetesObject | null>).filter(
    (o): o is KubernetesObject => o !== null,
  );
}

/** A valid VideoAnalysis, with spec overrides (undefined removes a field). */
function videoAnalysis(name: string, spec: Record<string, unknown> = {}): VideoAnalysis {
  const base: Record<string, unknown> = {
    source: { s3: { bucket: 'videos', key: `uploads/${name}.mp4` } },
    output: { bucket: 'results', prefix: `analyses/${name}/` },
  };
  for (const [k, v] of Object.entries(spec)) {
    if (v === undefined) delete base[k];
    else base[k] = v;
  }
  return { apiVersion: `${GROUP}/${VERSION}`, kind: 'VideoAnalysis', metadata: { name, namespace: NS }, spec: base };
}

/** The API server's refusal: HTTP status and the Status message (what kubectl prints). */
async function refusal(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { code?: number; body?: unknown };
    assert.equal(typeof e.code, 'number', `not an API error: ${String(err)}`);
    let message = typeof e.body === 'string' ? e.body : JSON.stringify(e.body);
    try {
      message = (JSON.parse(message) as { message?: string }).message ?? message;
    } catch {
      // not JSON: keep the text
    }
    return { code: e.code as number, message };
  }
  assert.fail('the API server accepted it');
}

const execFileAsync = promisify(execFile);
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

describe('VideoAnalysis API on etcd + kube-apiserver', () => {
  let cp: ControlPlane;
  let custom: CustomObjectsApi;
  let objects: KubernetesObjectApi;

  before(async () => {
    cp = await startControlPlane();
    const kc = cp.kubeConfig();
    custom = kc.makeApiClient(CustomObjectsApi);
    objects = KubernetesObjectApi.makeApiClient(kc);
  });
  after(async () => {
    await cp?.stop();
  });

  const create = (body: VideoAnalysis, dryRun?: string) =>
    custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: NS,
      plural: PLURAL,
      body,
      dryRun,
    });
  const getVA = (name: string) =>
    custom.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: NS,
      plural: PLURAL,
      name,
    }) as Promise<VideoAnalysis>;

  test('the CRD installs and becomes Established; the examples apply; defaults are filled in', async () => {
    const [crd] = readYaml(join(REPO_ROOT, 'crds/videoanalyses.nutrifitcoach.io.yaml'));
    assert.ok(crd);
    await objects.create(crd);
    const ext = cp.kubeConfig().makeApiClient(ApiextensionsV1Api);
    await eventually('CRD Established', 30_000, async () => {
      const got = await ext.readCustomResourceDefinition({ name: CRD_NAME });
      return got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
    });

    const examples = readdirSync(join(REPO_ROOT, 'examples')).filter((f) => f.endsWith('.yaml'));
    assert.ok(examples.length > 0);
    for (const file of examples) {
      for (const obj of readYaml(join(REPO_ROOT, 'examples', file))) {
        obj.metadata = { namespace: NS, ...obj.metadata };
        // kubectl apply --server-side
        await objects.patch(obj, undefined, undefined, 'nfc-test', true, PatchStrategy.ServerSideApply);
        const back = await objects.read(obj as KubernetesObject & { metadata: { name: string } });
        assert.ok(back.metadata?.uid, `${file}: ${obj.metadata?.name} stored`);
      }
    }

    // The kubeconfig works for kubectl, and the CRD's printer columns show.
    const { stdout } = await execFileAsync(toolPath('kubectl'), [
      '--kubeconfig',
      cp.kubeconfigPath,
      'get',
      'va',
      '-n',
      NS,
    ]);
    assert.match(stdout, /^NAME\s+EXERCISE\s+PHASE\s+REPS\s+SCORE\s+AGE$/m);
    assert.match(stdout, /^squat-001\s+squat\s/m);
    assert.match(stdout, /^pushup-auto-001\s+auto\s/m);

    const created = (await create(videoAnalysis('defaults-001'))) as VideoAnalysis;
    assert.equal(created.spec.exercise, 'auto');
    assert.equal(created.spec.view, 'auto');
    assert.deepEqual(created.spec.sampling, { fps: 15 });
    assert.deepEqual(created.spec.resources, { gpu: 1 });
    assert.equal(created.spec.model, 'movenet-lightning');
    assert.equal(created.spec.deadlineSeconds, 900);
    assert.equal(created.spec.cleanupPolicy, 'Retain');
    // and they are what etcd holds
    assert.equal((await getVA('defaults-001')).spec.exercise, 'auto');
  });

  test('invalid VideoAnalysis manifests are refused with a message naming the field', async () => {
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['missing output', { output: undefined }, /spec\.output: Required value/],
      [
        'both s3 and url',
        { source: { s3: { bucket: 'videos', key: 'a.mp4' }, url: 'https://videos.example.com/a.mp4' } },
        /spec\.source: Invalid value: .*source must set exactly one of s3 or url/,
      ],
      ['neither s3 nor url', { source: {} }, /spec\.source: Invalid value: .*exactly one of s3 or url/],
      ['fps 0', { sampling: { fps: 0 } }, /spec\.sampling\.fps: Invalid value: 0: .*greater than or equal to 1/],
      ['unknown exercise', { exercise: 'burpee' }, /spec\.exercise: Unsupported value: "burpee"/],
      ['plain-http url', { source: { url: 'http://videos.example.com/a.mp4' } }, /spec\.source\.url: Invalid value/],
    ];
    for (const [what, spec, expected] of cases) {
      const r = await refusal(create(videoAnalysis('invalid-001', spec)));
      assert.equal(r.code, 422, what);
      assert.match(r.message, expected, what);
    }
  });

  test('the spec is immutable once the analysis is Running; cleanupPolicy may still change', async () => {
    const name = 'immutable-001';
    await create(videoAnalysis(name, { exercise: 'squat' }));
    const base = { group: GROUP, version: VERSION, namespace: NS, plural: PLURAL, name };
    // Before it starts, the spec may change.
    await custom.patchNamespacedCustomObject({ ...base, body: { spec: { exercise: 'lunge' } } }, mergePatch);
    await custom.patchNamespacedCustomObjectStatus({ ...base, body: { status: { phase: 'Running' } } }, mergePatch);
    assert.equal((await getVA(name)).status?.phase, 'Running');

    const r = await refusal(
      custom.patchNamespacedCustomObject({ ...base, body: { spec: { exercise: 'squat' } } }, mergePatch),
    );
    assert.equal(r.code, 422);
    assert.match(r.message, /spec is immutable once the analysis has started/);
    const r2 = await refusal(
      custom.patchNamespacedCustomObject({ ...base, body: { spec: { sampling: { fps: 30 } } } }, mergePatch),
    );
    assert.match(r2.message, /spec is immutable/);

    const patched = (await custom.patchNamespacedCustomObject(
      { ...base, body: { spec: { cleanupPolicy: 'Delete' } } },
      mergePatch,
    )) as VideoAnalysis;
    assert.equal(patched.spec.cleanupPolicy, 'Delete');
    assert.equal(patched.spec.exercise, 'lunge');
  });

  test('server-side dry run validates and defaults without storing', async () => {
    const dry = (await create(videoAnalysis('dry-run-001'), 'All')) as VideoAnalysis;
    assert.equal(dry.spec.exercise, 'auto');
    assert.equal((await refusal(getVA('dry-run-001'))).code, 404);
    const r = await refusal(create(videoAnalysis('dry-run-002', { exercise: 'burpee' }), 'All'));
    assert.match(r.message, /spec\.exercise: Unsupported value/);
  });

  test('restarting kube-apiserver keeps the data (etcd) and the API answers again', async (t) => {
    const before = await getVA('defaults-001');
    const started = Date.now();
    await cp.restartApiServer();
    const restartMs = Date.now() - started;
    // the client made before the restart (as a running operator's) carries on
    const after = await getVA('defaults-001');
    assert.equal(after.metadata?.uid, before.metadata?.uid);
    assert.equal(after.metadata?.resourceVersion, before.metadata?.resourceVersion);
    const list = (await custom.listNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: NS,
      plural: PLURAL,
    })) as {
      items: VideoAnalysis[];
    };
    const names = list.items.map((i) => i.metadata?.name).sort();
    assert.deepEqual(names, ['defaults-001', 'immutable-001', 'pushup-auto-001', 'squat-001']);
    // and it still validates (the CRD's schema was reloaded from etcd)
    const r = await refusal(
      custom.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: NS,
        plural: PLURAL,
        body: videoAnalysis('after-restart', { sampling: { fps: 0 } }),
      }),
    );
    assert.match(r.message, /spec\.sampling\.fps/);
    t.diagnostic(`kube-apiserver restart: ${restartMs} ms`);
  });
});

describe('scheduling on KWOK GPU nodes (scheduler + controller-manager)', () => {
  let cp: ControlPlane;
  let core: CoreV1Api;
  let apps: AppsV1Api;

  before(async () => {
    cp = await startControlPlane({
      scheduler: true,
      controllerManager: true,
      kwokNodes: [
        { name: 'gpu-node-0', gpus: 8, labels: { 'nvidia.com/gpu.present': 'true' } },
        { name: 'cpu-node-0', gpus: 0 },
      ],
    });
    const kc = cp.kubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
  });
  after(async () => {
    await cp?.stop();
  });

  test('the fake nodes are Ready and advertise their GPUs', async () => {
    const nodes = await core.listNode();
    const byName = new Map(nodes.items.map((n) => [n.metadata?.name, n]));
    assert.equal(byName.get('gpu-node-0')?.status?.allocatable?.['nvidia.com/gpu'], '8');
    assert.equal(byName.get('cpu-node-0')?.status?.allocatable?.['nvidia.com/gpu'], undefined);
    for (const n of nodes.items) {
      assert.ok(
        n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        n.metadata?.name,
      );
    }
  });

  test('a Deployment of 2 replicas gets both Pods scheduled onto KWOK nodes and Running', async () => {
    await apps.createNamespacedDeployment({
      namespace: NS,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: {
              containers: [
                { name: 'web', image: 'nginx:1.29', resources: { requests: { cpu: '100m', memory: '64Mi' } } },
              ],
            },
          },
        },
      },
    });
    const pods = await eventually('2 web Pods Running', 60_000, async () => {
      const list = await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=web' });
      const running = list.items.filter((p) => p.status?.phase === 'Running' && p.spec?.nodeName);
      return running.length === 2 ? running : undefined;
    });
    for (const p of pods) assert.match(p.spec?.nodeName ?? '', /^(gpu|cpu)-node-0$/);
    await eventually('Deployment 2/2 ready', 30_000, async () => {
      const d = await apps.readNamespacedDeployment({ name: 'web', namespace: NS });
      return d.status?.readyReplicas === 2 ? true : undefined;
    });
  });

  const gpuPod = (name: string, gpus: number): V1Pod => ({
    metadata: { name },
    spec: {
      restartPolicy: 'Never',
      containers: [
        {
          name: 'analyze',
          image: 'nfc-worker:test',
          resources: { limits: { 'nvidia.com/gpu': String(gpus) } },
        },
      ],
    },
  });

  test('a Pod requesting nvidia.com/gpu: 1 lands on the GPU node and runs', async () => {
    await core.createNamespacedPod({ namespace: NS, body: gpuPod('gpu-job-1', 1) });
    const pod = await eventually('GPU Pod Running', 60_000, async () => {
      const p = await core.readNamespacedPod({ name: 'gpu-job-1', namespace: NS });
      return p.status?.phase === 'Running' ? p : undefined;
    });
    assert.equal(pod.spec?.nodeName, 'gpu-node-0');
  });

  test('a Pod asking for more GPUs than any node has stays Pending, Unschedulable', async () => {
    await core.createNamespacedPod({ namespace: NS, body: gpuPod('gpu-job-9', 9) });
    const cond = await eventually('PodScheduled=False', 60_000, async () => {
      const p = await core.readNamespacedPod({ name: 'gpu-job-9', namespace: NS });
      return p.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    });
    assert.equal(cond.reason, 'Unschedulable');
    assert.match(cond.message ?? '', /Insufficient nvidia\.com\/gpu/);
  });
});
