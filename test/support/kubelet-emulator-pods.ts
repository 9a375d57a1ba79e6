/**
 * The kubelet emulator's Pods: for every Pod bound to the node, each container runs as a local
 * process (the image's entrypoint or `command`, then `args`, in its own process group), and the
 * Pod's status is reported as a kubelet does (pods/status): Running with a running container
 * state, then Succeeded or Failed with `state.terminated.exitCode`, reason and message. Deleting
 * the Pod sends SIGTERM, then SIGKILL after the grace period. Work on one Pod is serialized.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1Container,
  type V1ContainerStatus,
  type V1Pod,
} from '@kubernetes/client-node';
import type { ContainerRun, KubeletEmulatorOptions } from './kubelet-emulator.js';
import { containerEnvironment } from './kubelet-emulator-env.js';
import { trackProcessGroup } from './process-cleanup.js';

const SMP = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

interface RunningPod {
  pod: V1Pod;
  dir: string;
  processes: Map<string, { child: ChildProcess; closed: Promise<void> }>;
  statuses: Map<string, V1ContainerStatus>;
  /** Serializes the work on one Pod. */
  queue: Promise<void>;
  deleting: boolean;
}

/** The Pods bound to the emulated node: their processes, and the status reported for them. */
export class EmulatorState {
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
        env = await containerEnvironment(this.core, pod, container, volumes, entry.dir, this.opts.kubeconfigPath);
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
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

export function readText(file: string): string {
  if (!file) return '';
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
