/**
 * A stand-in kubelet for one node, so Jobs run real code on a test control plane with no
 * container runtime: it registers a Node (not managed by KWOK, so no fake stages touch it), keeps
 * it Ready (node status heartbeat and a Lease in kube-node-lease, as a kubelet does), and for
 * every Pod bound to it runs each container as a local process, then reports what happened in the
 * Pod's status (pods/status subresource) the way a kubelet does: Running with a running container
 * state, then Succeeded or Failed with `state.terminated.exitCode`, reason and message. The Job
 * controller, backoff and podFailurePolicy then act on real exits.
 *
 *   const kubelet = await startKubeletEmulator({ kubeConfig: cp.kubeConfig(), kubeconfigPath: cp.kubeconfigPath,
 *     nodeName: 'worker-0', entrypoint: [join(REPO_ROOT, 'bin/nfc')] });
 *   ...
 *   await kubelet.stop();
 *
 * How a container runs:
 * - the command is `container.command` or else `entrypoint` (the image's), followed by `args`;
 * - its environment is only what the Pod gives it (`envFrom` Secrets/ConfigMaps, `env` values,
 *   secretKeyRef, configMapKeyRef, fieldRef), plus PATH, HOME and KUBECONFIG (the harness's,
 *   standing in for the mounted service-account token);
 * - each emptyDir volume is a fresh directory; an env value naming a mount path (or a path below
 *   one) is rewritten to that directory, and a volume mounted at /tmp becomes TMPDIR;
 * - the container's terminationMessagePath cannot be mounted, so NFC_TERMINATION_LOG names the
 *   file read back as the termination message (FallbackToLogsOnError falls back to the log tail);
 * - deleting the Pod sends SIGTERM (SIGKILL after the grace period), then removes the Pod.
 * The Pods' processes are in kubelet-emulator-pods.ts, their environment in kubelet-emulator-env.ts.
 * Not emulated: images, probes, restarts (restartPolicy Never is assumed), init containers,
 * resource limits, other volume types.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CoordinationV1Api,
  CoreV1Api,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Pod,
  Watch,
} from '@kubernetes/client-node';
import { EmulatorState, readText } from './kubelet-emulator-pods.js';

export interface KubeletEmulatorOptions {
  /** Admin access to the control plane (for the emulator itself). */
  kubeConfig: KubeConfig;
  /** Given to every container as KUBECONFIG. */
  kubeconfigPath: string;
  nodeName: string;
  /** The image's entrypoint, used when a container sets no `command`. */
  entrypoint: string[];
  /** Working directory of the processes. */
  cwd?: string;
  labels?: Record<string, string>;
  /** Node capacity (defaults: 16 CPUs, 64Gi, 110 pods). */
  capacity?: Record<string, string>;
  /** How long to wait for the node to be Ready and untainted (default 60 s). */
  readyTimeoutMs?: number;
}

export interface ContainerRun {
  namespace: string;
  pod: string;
  container: string;
  argv: string[];
  exitCode?: number;
  /** The termination message reported. */
  message?: string;
  logFile: string;
}

export interface KubeletEmulator {
  nodeName: string;
  /** Every container started, in order, with its exit once it has one. */
  runs: ContainerRun[];
  /** The output of every container of a Pod (for assertion messages). */
  logsOf(pod: string): string;
  stop(): Promise<void>;
}

const HEARTBEAT_MS = 10_000;
const SMP = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export async function startKubeletEmulator(opts: KubeletEmulatorOptions): Promise<KubeletEmulator> {
  const core = opts.kubeConfig.makeApiClient(CoreV1Api);
  const coordination = opts.kubeConfig.makeApiClient(CoordinationV1Api);
  const dir = await mkdtemp(join(tmpdir(), `nfc-kubelet-${opts.nodeName}-`));
  const node = opts.nodeName;
  const capacity = { cpu: '16', memory: '64Gi', pods: '110', ...opts.capacity };
  const state = new EmulatorState(core, opts, dir);

  // Register the node, then keep it alive.
  const conditions = (now: string) =>
    [
      ['MemoryPressure', 'False', 'KubeletHasSufficientMemory'],
      ['DiskPressure', 'False', 'KubeletHasNoDiskPressure'],
      ['PIDPressure', 'False', 'KubeletHasSufficientPID'],
      ['Ready', 'True', 'KubeletReady'],
    ].map(([type, status, reason]) => ({
      type,
      status,
      reason,
      message: `emulated kubelet: ${reason}`,
      lastHeartbeatTime: now,
      lastTransitionTime: state.startedAt,
    }));
  await core.createNode({
    body: {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: node,
        labels: {
          'kubernetes.io/hostname': node,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          'nutrifitcoach.io/emulated-kubelet': 'true',
          ...opts.labels,
        },
      },
    },
  });
  const heartbeat = async () => {
    const now = new Date().toISOString();
    await core.patchNodeStatus(
      {
        name: node,
        body: {
          status: {
            capacity,
            allocatable: capacity,
            conditions: conditions(now),
            addresses: [
              { type: 'InternalIP', address: '127.0.0.1' },
              { type: 'Hostname', address: node },
            ],
            nodeInfo: {
              kubeletVersion: 'v0.0.0-emulated',
              kubeProxyVersion: '',
              operatingSystem: 'linux',
              architecture: 'amd64',
              containerRuntimeVersion: 'emulated://local-processes',
              osImage: 'local processes',
              kernelVersion: '',
              machineID: '',
              systemUUID: '',
              bootID: '',
            },
          },
        },
      },
      SMP,
    );
    // MicroTime: exactly six fractional digits.
    const renewTime = now.replace(/\.(\d{3})Z$/, '.$1000Z');
    await coordination.patchNamespacedLease(
      { name: node, namespace: 'kube-node-lease', body: { spec: { renewTime } } },
      MERGE,
    );
  };
  await coordination.createNamespacedLease({
    namespace: 'kube-node-lease',
    body: {
      metadata: {
        name: node,
        ownerReferences: [
          {
            apiVersion: 'v1',
            kind: 'Node',
            name: node,
            uid: (await core.readNode({ name: node })).metadata?.uid ?? '',
          },
        ],
      },
      spec: { holderIdentity: node, leaseDurationSeconds: 40 },
    },
  });
  await heartbeat();
  const heartbeatTimer = setInterval(() => {
    heartbeat().catch(() => {}); // the next beat retries; the node lifecycle controller allows 40 s+
  }, HEARTBEAT_MS);

  // The node lifecycle controller lifts the not-ready taint once it has seen the node Ready.
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  for (;;) {
    const n = await core.readNode({ name: node });
    const ready = n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    if (ready && !n.spec?.taints?.some((t) => t.key.startsWith('node.kubernetes.io/'))) break;
    if (Date.now() > deadline) {
      clearInterval(heartbeatTimer);
      throw new Error(`node ${node} not Ready and untainted in time: ${JSON.stringify(n.spec?.taints)}`);
    }
    await sleep(250);
  }

  // Pods bound to the node: list, then watch from the list's version; again whenever the watch ends.
  const watch = new Watch(opts.kubeConfig);
  let stopped = false;
  let abort: AbortController | undefined;
  const loop = (async () => {
    while (!stopped) {
      try {
        const list = await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` });
        for (const pod of list.items) state.observe(pod);
        await new Promise<void>((resolve) => {
          watch
            .watch(
              '/api/v1/pods',
              { fieldSelector: `spec.nodeName=${node}`, resourceVersion: list.metadata?.resourceVersion },
              (type, obj: V1Pod) => {
                if (type === 'DELETED') state.forget(obj);
                else if (type === 'ADDED' || type === 'MODIFIED') state.observe(obj);
              },
              () => resolve(),
            )
            .then(
              (ac) => {
                abort = ac;
                if (stopped) ac.abort();
              },
              () => resolve(),
            );
        });
      } catch {
        // API server restarting: list again shortly
      }
      if (!stopped) await sleep(200);
    }
  })();

  return {
    nodeName: node,
    runs: state.runs,
    logsOf: (pod) =>
      state.runs
        .filter((r) => r.pod === pod)
        .map((r) => `--- ${r.container} (${r.argv.join(' ')}) exit ${r.exitCode ?? 'running'}\n${readText(r.logFile)}`)
        .join('\n'),
    async stop() {
      stopped = true;
      abort?.abort();
      clearInterval(heartbeatTimer);
      await state.killAll();
      await loop;
      await core.deleteNode({ name: node }).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}
