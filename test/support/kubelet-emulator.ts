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
 * Not emulated: images, probes, restarts (restartPolicy Never is assumed), init containers,
 * resource limits, other volume types.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CoordinationV1Api,
  CoreV1Api,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Container,
  type V1ContainerStatus,
  type V1Pod,
  Watch,
} from '@kubernetes/client-node';
import { trackProcessGroup } from './process-cleanup.js';

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

interface RunningPod {
  pod: V1Pod;
  dir: string;
  processes: Map<string, { child: ChildProcess; closed: Promise<void> }>;
  statuses: Map<string, V1ContainerStatus>;
  /** Serializes the work on one Pod. */
  queue: Promise<void>;
  deleting: boolean;
}

class EmulatorState {
  readonly runs: ContainerRun[] = [];
  readonly startedAt = new Date().toISOString();
  private readonly pods = new Map<string, RunningPod>();

  constructor(
    private readonly core: CoreV1Api,
    private readonly opts: KubeletEmulatorOptions,
    private readonly dir: string,
  ) {}

  observe(pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    let entry = this.pods.get(uid);
    const terminal = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
    if (!entry) {
      if (terminal && !pod.metadata?.deletionTimestamp) return; // finished before we (re)started
      entry = {
        pod,
        dir: join(this.dir, `${pod.metadata?.namespace}_${pod.metadata?.name}_${uid}`),
        processes: new Map(),
        statuses: new Map(),
        queue: Promise.resolve(),
        deleting: false,
      };
      this.pods.set(uid, entry);
      const e = entry;
      if (!terminal && !pod.metadata?.deletionTimestamp) this.enqueue(e, () => this.start(e));
    }
    entry.pod = pod;
    if (pod.metadata?.deletionTimestamp && !entry.deleting) {
      entry.deleting = true;
      const e = entry;
      this.enqueue(e, () => this.terminate(e));
    }
  }

  forget(pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    const entry = uid ? this.pods.get(uid) : undefined;
    if (!uid || !entry) return;
    for (const { child } of entry.processes.values()) signalGroup(child, 'SIGKILL');
    this.pods.delete(uid);
  }

  async killAll(): Promise<void> {
    for (const entry of this.pods.values()) {
      for (const { child } of entry.processes.values()) signalGroup(child, 'SIGKILL');
    }
    await Promise.all([...this.pods.values()].map((e) => e.queue));
  }

  private enqueue(entry: RunningPod, work: () => Promise<void>): void {
    entry.queue = entry.queue.then(work).catch((err: unknown) => {
      process.stderr.write(`kubelet emulator: ${entry.pod.metadata?.name}: ${String(err)}\n`);
    });
  }

  private async start(entry: RunningPod): Promise<void> {
    const pod = entry.pod;
    const spec = pod.spec;
    if (!spec) return;
    await mkdir(entry.dir, { recursive: true });
    // Volumes: emptyDir only.
    const volumes = new Map<string, string>();
    for (const v of spec.volumes ?? []) {
      if (!v.emptyDir) continue;
      const path = join(entry.dir, 'volumes', v.name);
      await mkdir(path, { recursive: true });
      volumes.set(v.name, path);
    }
    const startedAt = new Date().toISOString();
    for (const container of spec.containers) {
      let env: Record<string, string>;
      try {
        env = await this.environment(pod, container, volumes, entry.dir);
      } catch (err) {
        // As a kubelet does: the container waits (CreateContainerConfigError) until its config exists.
        entry.statuses.set(container.name, {
          name: container.name,
          image: container.image ?? '',
          imageID: '',
          ready: false,
          restartCount: 0,
          state: { waiting: { reason: 'CreateContainerConfigError', message: String((err as Error).message) } },
        });
        await this.patchStatus(entry, 'Pending');
        await sleep(1000);
        if (!entry.deleting) this.enqueue(entry, () => this.start(entry));
        return;
      }
      const argv = [...(container.command ?? this.opts.entrypoint), ...(container.args ?? [])];
      const [cmd, ...args] = argv;
      if (!cmd) throw new Error(`container ${container.name} has no command and no entrypoint was given`);
      const logFile = join(entry.dir, `${container.name}.log`);
      const fd = openSync(logFile, 'a');
      const child = spawn(cmd, args, {
        cwd: this.opts.cwd ?? entry.dir,
        env,
        detached: true,
        stdio: ['ignore', fd, fd],
      });
      closeSync(fd);
      child.on('error', () => {}); // an exec failure is an exit like any other
      trackProcessGroup(child);
      const run: ContainerRun = {
        namespace: pod.metadata?.namespace ?? '',
        pod: pod.metadata?.name ?? '',
        container: container.name,
        argv,
        logFile,
      };
      this.runs.push(run);
      const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
      entry.processes.set(container.name, { child, closed });
      entry.statuses.set(container.name, {
        name: container.name,
        image: container.image ?? '',
        imageID: '',
        containerID: `emulated://${child.pid ?? 0}`,
        ready: true,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: new Date(startedAt) } },
      });
      child.once('close', (code, signal) => {
        this.enqueue(entry, () => this.exited(entry, container, run, code, signal, startedAt, env));
      });
    }
    await this.patchStatus(entry, 'Running', startedAt);
  }

  private async exited(
    entry: RunningPod,
    container: V1Container,
    run: ContainerRun,
    code: number | null,
    signal: NodeJS.Signals | null,
    startedAt: string,
    env: Record<string, string>,
  ): Promise<void> {
    entry.processes.delete(container.name);
    const exitCode = code ?? 128 + (signal === 'SIGKILL' ? 9 : signal === 'SIGTERM' ? 15 : 1);
    let message = readText(env.NFC_TERMINATION_LOG ?? '').slice(0, 4096);
    if (!message && exitCode !== 0 && container.terminationMessagePolicy === 'FallbackToLogsOnError') {
      message = readText(run.logFile).split('\n').slice(-80).join('\n').slice(-2048);
    }
    run.exitCode = exitCode;
    run.message = message;
    const previous = entry.statuses.get(container.name);
    entry.statuses.set(container.name, {
      name: container.name,
      image: container.image ?? '',
      imageID: '',
      containerID: previous?.containerID ?? 'emulated://0',
      ready: false,
      started: false,
      restartCount: 0,
      state: {
        terminated: {
          exitCode,
          ...(signal ? { signal: exitCode - 128 } : {}),
          reason: exitCode === 0 ? 'Completed' : 'Error',
          ...(message ? { message } : {}),
          startedAt: new Date(startedAt),
          finishedAt: new Date(),
          containerID: previous?.containerID ?? 'emulated://0',
        },
      },
    });
    if (entry.processes.size > 0) return;
    const allZero = [...entry.statuses.values()].every((s) => s.state?.terminated?.exitCode === 0);
    await this.patchStatus(entry, allZero ? 'Succeeded' : 'Failed', startedAt);
  }

  /** Pod deletion: stop the processes (SIGTERM, SIGKILL after the grace period), then remove the Pod. */
  private async terminate(entry: RunningPod): Promise<void> {
    const grace = (entry.pod.metadata?.deletionGracePeriodSeconds ?? 30) * 1000;
    const running = [...entry.processes.values()];
    for (const { child } of running) signalGroup(child, 'SIGTERM');
    const timer = setTimeout(() => {
      for (const { child } of running) signalGroup(child, 'SIGKILL');
    }, grace);
    await Promise.all(running.map((r) => r.closed));
    clearTimeout(timer);
    // Let the exit handlers (queued behind this) report first, as a kubelet reports before removal.
    this.enqueue(entry, async () => {
      const { name, namespace, uid } = entry.pod.metadata ?? {};
      if (!name || !namespace) return;
      await this.core
        .deleteNamespacedPod({
          name,
          namespace,
          gracePeriodSeconds: 0,
          body: { gracePeriodSeconds: 0, preconditions: { uid } },
        })
        .catch(() => {}); // already gone
      if (uid) this.pods.delete(uid);
    });
  }

  private async patchStatus(
    entry: RunningPod,
    phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed',
    startedAt?: string,
  ) {
    const { name, namespace } = entry.pod.metadata ?? {};
    if (!name || !namespace) return;
    const now = new Date().toISOString();
    const running = phase === 'Running';
    const condition = (type: string, ok: boolean, reason?: string) => ({
      type,
      status: ok ? 'True' : 'False',
      lastTransitionTime: now,
      ...(reason ? { reason } : {}),
    });
    const done = phase === 'Succeeded' || phase === 'Failed';
    await this.core
      .patchNamespacedPodStatus(
        {
          name,
          namespace,
          body: {
            status: {
              phase,
              hostIP: '127.0.0.1',
              hostIPs: [{ ip: '127.0.0.1' }],
              podIP: '127.0.0.1',
              podIPs: [{ ip: '127.0.0.1' }],
              ...(startedAt ? { startTime: startedAt } : {}),
              conditions: [
                condition('PodReadyToStartContainers', phase !== 'Pending'),
                condition('Initialized', true),
                condition('ContainersReady', running, done ? 'PodCompleted' : undefined),
                condition('Ready', running, done ? 'PodCompleted' : undefined),
              ],
              containerStatuses: [...entry.statuses.values()],
            },
          },
        },
        SMP,
      )
      .catch((err: unknown) => {
        if ((err as { code?: number }).code !== 404) throw err;
      });
  }

  /** The container's environment, as a kubelet would build it, with mount paths mapped to directories. */
  private async environment(
    pod: V1Pod,
    container: V1Container,
    volumes: Map<string, string>,
    podDir: string,
  ): Promise<Record<string, string>> {
    const namespace = pod.metadata?.namespace ?? 'default';
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: podDir,
      LANG: 'C.UTF-8',
      HOSTNAME: pod.metadata?.name ?? '',
    };
    for (const from of container.envFrom ?? []) {
      const prefix = from.prefix ?? '';
      if (from.secretRef) {
        const data = await this.secret(namespace, from.secretRef.name ?? '', from.secretRef.optional);
        for (const [k, v] of Object.entries(data)) env[prefix + k] = v;
      }
      if (from.configMapRef) {
        const data = await this.configMap(namespace, from.configMapRef.name ?? '', from.configMapRef.optional);
        for (const [k, v] of Object.entries(data)) env[prefix + k] = v;
      }
    }
    for (const e of container.env ?? []) {
      if (e.value !== undefined) env[e.name] = e.value;
      const ref = e.valueFrom;
      if (ref?.secretKeyRef) {
        const v = (await this.secret(namespace, ref.secretKeyRef.name ?? '', ref.secretKeyRef.optional))[
          ref.secretKeyRef.key
        ];
        if (v !== undefined) env[e.name] = v;
        else if (!ref.secretKeyRef.optional)
          throw new Error(`couldn't find key ${ref.secretKeyRef.key} in Secret ${namespace}/${ref.secretKeyRef.name}`);
      }
      if (ref?.configMapKeyRef) {
        const data = await this.configMap(namespace, ref.configMapKeyRef.name ?? '', ref.configMapKeyRef.optional);
        const v = data[ref.configMapKeyRef.key];
        if (v !== undefined) env[e.name] = v;
      }
      if (ref?.fieldRef) {
        const fields: Record<string, string | undefined> = {
          'metadata.name': pod.metadata?.name,
          'metadata.namespace': namespace,
          'metadata.uid': pod.metadata?.uid,
          'spec.nodeName': pod.spec?.nodeName,
          'spec.serviceAccountName': pod.spec?.serviceAccountName,
          'status.podIP': '127.0.0.1',
          'status.hostIP': '127.0.0.1',
        };
        env[e.name] = fields[ref.fieldRef.fieldPath] ?? '';
      }
    }
    // Mounts: paths the process is told about point at the volume's directory instead.
    const mounts = (container.volumeMounts ?? [])
      .flatMap((m) => {
        const host = volumes.get(m.name);
        return host ? [{ path: m.mountPath.replace(/\/+$/, ''), host }] : [];
      })
      .sort((a, b) => b.path.length - a.path.length);
    for (const [k, v] of Object.entries(env)) {
      const m = mounts.find((x) => v === x.path || v.startsWith(`${x.path}/`));
      if (m) env[k] = m.host + v.slice(m.path.length);
    }
    const tmp = mounts.find((m) => m.path === '/tmp');
    if (tmp) env.TMPDIR = tmp.host;
    env.KUBECONFIG = this.opts.kubeconfigPath;
    const terminationLog = join(podDir, `${container.name}.termination-log`);
    await writeFile(terminationLog, '');
    env.NFC_TERMINATION_LOG = terminationLog;
    return env;
  }

  private async secret(namespace: string, name: string, optional?: boolean): Promise<Record<string, string>> {
    try {
      const s = await this.core.readNamespacedSecret({ name, namespace });
      const out: Record<string, string> = { ...s.stringData };
      for (const [k, v] of Object.entries(s.data ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
      return out;
    } catch (err) {
      if (optional && (err as { code?: number }).code === 404) return {};
      throw new Error(`secret "${name}" not found in ${namespace}`);
    }
  }

  private async configMap(namespace: string, name: string, optional?: boolean): Promise<Record<string, string>> {
    try {
      return (await this.core.readNamespacedConfigMap({ name, namespace })).data ?? {};
    } catch (err) {
      if (optional && (err as { code?: number }).code === 404) return {};
      throw new Error(`configmap "${name}" not found in ${namespace}`);
    }
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

function readText(file: string): string {
  if (!file) return '';
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
