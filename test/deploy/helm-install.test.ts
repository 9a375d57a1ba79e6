/**
 * The chart against a real control plane (etcd, kube-apiserver, scheduler, controller-manager,
 * KWOK nodes; test/support/control-plane.ts): every scenario's manifests pass the API server's
 * validation and admission, the restricted Pod Security Standard included, with a server-side
 * dry run; then `helm install` of the default scenario gets every Deployment's and StatefulSet's
 * pods scheduled and running, and `helm uninstall` leaves nothing but the PVCs.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import {
  CHART_DIR,
  type K8sObject,
  NAMESPACE,
  parseManifests,
  podSpecs,
  RELEASE,
  render,
  renderText,
  SCENARIOS,
  scenarioFile,
} from './support/chart.js';
import { goModuleFile } from './support/go-module.js';
import { run, runOk } from './support/tools.js';

/** The ServiceMonitor CRD, from the Prometheus Operator's Go module (the scenarios that enable monitoring need it). */
const PROMETHEUS_OPERATOR = ['github.com/prometheus-operator/prometheus-operator', 'v0.85.0'] as const;
const INSTANCE = 'app.kubernetes.io/instance';
const RESTRICTED = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/warn': 'restricted',
  'pod-security.kubernetes.io/audit': 'restricted',
};

describe('the chart on a real control plane', { timeout: 15 * 60_000 }, () => {
  let cp: ControlPlane;
  const kubectl = (args: string[], input?: string) =>
    run('kubectl', ['--kubeconfig', cp.kubeconfigPath, ...args], { input });
  const kubectlOk = (args: string[], input?: string) =>
    runOk('kubectl', ['--kubeconfig', cp.kubeconfigPath, ...args], { input });
  const helm = (args: string[]) => run('helm', ['--kubeconfig', cp.kubeconfigPath, ...args], { timeoutMs: 600_000 });

  /** A namespace that enforces (and warns about) the restricted Pod Security Standard. */
  const restrictedNamespace = (name: string) =>
    JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: RESTRICTED } });

  before(async () => {
    cp = await startControlPlane({
      scheduler: true,
      controllerManager: true,
      kwokNodes: [
        { name: 'cpu-0', gpus: 0, labels: { 'nutrifitcoach.io/pool': 'cpu' } },
        { name: 'cpu-1', gpus: 0, labels: { 'nutrifitcoach.io/pool': 'cpu' } },
        {
          name: 'gpu-0',
          gpus: 4,
          labels: { 'nutrifitcoach.io/pool': 'gpu', 'nvidia.com/gpu.present': 'true' },
          taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }],
        },
      ],
    });
    kubectlOk(['apply', '--server-side', '-f', join(CHART_DIR, 'crds')]);
    kubectlOk([
      'apply',
      '--server-side',
      '-f',
      goModuleFile(...PROMETHEUS_OPERATOR, [
        'example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml',
      ]),
    ]);
    kubectlOk([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd/videoanalyses.nutrifitcoach.io',
      'crd/servicemonitors.monitoring.coreos.com',
    ]);
    // The namespaces the scenarios deploy to, and the runtime class GPU Jobs ask for.
    const namespaces = new Set(
      SCENARIOS.flatMap((s) => render(s).map((o) => o.metadata.namespace as string | undefined)),
    );
    for (const ns of namespaces) if (ns) kubectlOk(['apply', '-f', '-'], restrictedNamespace(ns));
    kubectlOk(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'node.k8s.io/v1',
        kind: 'RuntimeClass',
        metadata: { name: 'nvidia' },
        handler: 'nvidia',
      }),
    );
  });

  after(async () => {
    await cp?.stop();
  });

  for (const scenario of SCENARIOS) {
    it(`accepts every manifest of scenario ${scenario} (server-side dry run, restricted namespaces)`, () => {
      const r = kubectl(
        ['apply', '--dry-run=server', '--server-side', '--field-manager=nfc-test', '-f', '-'],
        renderText(scenario),
      );
      assert.equal(r.status, 0, `${r.stderr}\n${r.stdout}`);
      assert.doesNotMatch(r.stderr, /Warning/, r.stderr);
      const applied = r.stdout.trim().split('\n');
      assert.equal(applied.length, render(scenario).length, r.stdout);
    });

    it(`accepts the worker Jobs the operator builds with the settings of scenario ${scenario}`, () => {
      // Admission wants a pod's ServiceAccount and PriorityClass to exist, even in a dry run:
      // create the chart's for the duration of the check, then remove them for the install below.
      const jobs = podSpecs(render(scenario)).filter((p) => p.job);
      assert.ok(jobs.length > 0);
      const prerequisites = render(scenario).filter(
        (o) =>
          (o.kind === 'ServiceAccount' && jobs.some((j) => j.job?.metadata.namespace === o.metadata.namespace)) ||
          (o.kind === 'PriorityClass' && jobs.some((j) => j.spec.priorityClassName === o.metadata.name)),
      );
      const list = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: prerequisites });
      kubectlOk(['apply', '-f', '-'], list);
      try {
        for (const { owner, job } of jobs) {
          const r = kubectl(['create', '--dry-run=server', '-f', '-'], JSON.stringify(job));
          assert.equal(r.status, 0, `${owner}: ${r.stderr}`);
          assert.doesNotMatch(r.stderr, /Warning/, `${owner}: ${r.stderr}`);
          // Its pod, through PodSecurity's enforcing admission (which only checks Pods).
          const template = job?.spec.template;
          const pod = {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { ...template.metadata, name: job?.metadata.name, namespace: job?.metadata.namespace },
            spec: template.spec,
          };
          const p = kubectl(['create', '--dry-run=server', '-f', '-'], JSON.stringify(pod));
          assert.equal(p.status, 0, `${owner}: ${p.stderr}`);
        }
      } finally {
        kubectlOk(['delete', '--wait', '-f', '-'], list);
      }
    });
  }

  it('installs the default scenario: every Deployment and StatefulSet gets its pods running, then uninstalls to the PVCs', async () => {
    // Volumes for the StatefulSets' claims (no provisioner here): statically provisioned.
    for (let i = 0; i < 3; i++) {
      kubectlOk(
        ['apply', '-f', '-'],
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'PersistentVolume',
          metadata: { name: `nfc-test-pv-${i}` },
          spec: {
            capacity: { storage: '2Gi' },
            accessModes: ['ReadWriteOnce'],
            hostPath: { path: `/tmp/nfc-test-pv-${i}` },
          },
        }),
      );
    }
    const small = join(cp.dir, 'small-values.yaml');
    writeFileSync(
      small,
      [
        'postgresql: { persistence: { size: 1Gi } }',
        'redis: { persistence: { size: 1Gi } }',
        'minio: { persistence: { size: 1Gi } }',
        'api: { resources: { requests: { cpu: 50m, memory: 64Mi }, limits: { cpu: 500m, memory: 256Mi } } }',
        '',
      ].join('\n'),
    );
    const install = helm([
      'install',
      RELEASE,
      CHART_DIR,
      '--namespace',
      NAMESPACE,
      '--values',
      scenarioFile('default'),
      '--values',
      small,
      '--wait',
      '--timeout',
      '5m',
    ]);
    assert.equal(install.status, 0, `${install.stderr}\n${install.stdout}\n${tail(cp.logFile('kube-scheduler'))}`);

    const manifest = parseManifests(
      runOk('helm', ['--kubeconfig', cp.kubeconfigPath, 'get', 'manifest', RELEASE, '-n', NAMESPACE]),
    );
    const workloads = manifest.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
    assert.ok(workloads.length >= 5, `${workloads.length} workloads`);
    const deadline = Date.now() + 120_000;
    for (const w of workloads) {
      for (;;) {
        const live = JSON.parse(
          kubectlOk(['get', w.kind, w.metadata.name, '-n', NAMESPACE, '-o', 'json']),
        ) as K8sObject;
        const selector = Object.entries(live.spec.selector.matchLabels as Record<string, string>)
          .map(([k, v]) => `${k}=${v}`)
          .join(',');
        const pods = (
          JSON.parse(kubectlOk(['get', 'pods', '-n', NAMESPACE, '-l', selector, '-o', 'json'])) as K8sObject
        ).items as K8sObject[];
        const running = pods.filter((p) => p.status.phase === 'Running' && p.spec.nodeName);
        if (live.spec.replicas > 0 && running.length === live.spec.replicas) break;
        if (Date.now() > deadline) {
          assert.fail(
            `${w.kind}/${w.metadata.name}: ${running.length}/${live.spec.replicas} pods running: ${pods.map((p) => `${p.metadata.name} ${p.status.phase} ${JSON.stringify(p.status.conditions ?? [])}`).join('; ')}`,
          );
        }
        await sleep(1000);
      }
    }
    // The GPU node is kept for GPU work: nothing of the chart's own landed there.
    const pods = (JSON.parse(kubectlOk(['get', 'pods', '-n', NAMESPACE, '-o', 'json'])) as K8sObject)
      .items as K8sObject[];
    assert.ok(!pods.some((p) => p.spec.nodeName === 'gpu-0'), 'a non-GPU pod was scheduled on the tainted GPU node');

    const uninstall = helm(['uninstall', RELEASE, '--namespace', NAMESPACE, '--wait', '--timeout', '3m']);
    assert.equal(uninstall.status, 0, uninstall.stderr);
    // Garbage collection (pods, endpoint slices, revisions) is asynchronous: wait for it.
    let left: string[] = [];
    const gcDeadline = Date.now() + 120_000;
    do {
      left = leftovers().filter((name) => !name.startsWith('persistentvolumeclaim/'));
      if (left.length === 0) break;
      await sleep(1000);
    } while (Date.now() < gcDeadline);
    assert.deepEqual(left, [], 'helm uninstall left these behind');
    const claims = leftovers().filter((name) => name.startsWith('persistentvolumeclaim/'));
    assert.equal(claims.length, 3, `the data volumes' claims are kept: ${claims}`);
  });

  /** Every object labelled with the release, in its namespace and cluster-wide, as kind/name. */
  function leftovers(): string[] {
    const resources = (scope: boolean) =>
      kubectlOk(['api-resources', '--verbs=list,delete', `--namespaced=${scope}`, '-o', 'name'])
        .trim()
        .split('\n')
        .filter((r) => r && !r.startsWith('events'));
    const namespaced = resources(true).join(',');
    const cluster = resources(false).join(',');
    const names = [
      ...kubectlOk(['get', namespaced, '-n', NAMESPACE, '-l', `${INSTANCE}=${RELEASE}`, '-o', 'name']).split('\n'),
      ...kubectlOk(['get', cluster, '-l', `${INSTANCE}=${RELEASE}`, '-o', 'name']).split('\n'),
    ];
    return names
      .map((n) => n.trim())
      .filter(Boolean)
      .map(shortKind)
      .sort();
  }
});

/** "persistentvolumeclaim/data-nfc-postgresql-0" whatever group suffix kubectl prints. */
function shortKind(name: string): string {
  const [kind = '', rest = ''] = name.split('/', 2);
  return `${kind.split('.')[0]}/${rest}`;
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '';
  }
}
