/**
 * The operator under test as a child process (`nfc operator`, the real command), so a test can
 * SIGKILL it mid-reconcile or run two replicas; plus what operator tests share: the CRD
 * installed and served, VideoAnalysis manifests, Job status as the Job controller writes it,
 * and polling.
 *
 *   const op = await startOperator({ kubeconfigPath: cp.kubeconfigPath, env: { NFC_MAX_RUNNING: '5' } });
 *   await op.waitForLog(/became leader/);
 *   const m = await op.metrics();   // { 'nfc_operator_reconciles_total{result="success"}': 12, ... }
 *   await op.kill('SIGKILL');
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ApiextensionsV1Api,
  BatchV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  loadAllYaml,
  PatchStrategy,
  setHeaderOptions,
  type V1Job,
} from '@kubernetes/client-node';
import { OPERATOR_MALLOC_ARENA_MAX, OPERATOR_NODE_OPTIONS, OPERATOR_V8_FLAGS } from '../../operator/node-runtime.js';
import { REPO_ROOT } from './clips.js';
import { eventually } from './wait.js';

export { eventually };

export const GROUP = 'nutrifitcoach.io';
export const VERSION = 'v1alpha1';
export const PLURAL = 'videoanalyses';
export const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export interface OperatorProcess {
  pid: number;
  /** Port of /metrics, /healthz, /readyz. */
  port: number;
  identity: string;
  /** Everything it logged (pino JSON lines on stderr), so far. */
  logs(): string;
  /** Parsed log lines, so far. */
  logLines(): Array<Record<string, unknown>>;
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Prometheus samples: `name{labels}` → value. */
  metrics(): Promise<Record<string, number>>;
  get(path: string): Promise<{ status: number; body: string }>;
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Peak resident memory (VmHWM) in bytes while it runs; undefined once it has exited. */
  peakRssBytes(): number | undefined;
}

export interface StartOperatorOptions {
  kubeconfigPath: string;
  identity?: string;
  env?: Record<string, string>;
  /** Run dist/ (`npm run build`) as the image does, instead of the TypeScript through tsx. */
  compiled?: boolean;
  /** Wait for /readyz (caches synced); default true. */
  waitReady?: boolean;
  timeoutMs?: number;
}

const live = new Set<ChildProcess>();
let hooked = false;

/** Defaults for tests: fast leader election, quiet logs but for what the tests read. */
export const TEST_OPERATOR_ENV: Record<string, string> = {
  NFC_OPERATOR_LEASE_NAMESPACE: 'default',
  NFC_OPERATOR_LEASE_DURATION_SECONDS: '4',
  NFC_OPERATOR_RENEW_DEADLINE_SECONDS: '3',
  NFC_OPERATOR_RETRY_PERIOD_SECONDS: '1',
  NFC_OPERATOR_RETRY_BASE_MS: '200',
  NFC_OPERATOR_RETRY_MAX_SECONDS: '5',
  NFC_METRICS_PORT: '0',
  NFC_METRICS_HOST: '127.0.0.1',
  NFC_WORKER_IMAGE: 'ghcr.io/nutrifitcoach/worker:test',
  NFC_ALLOWED_URL_HOSTS: 'videos.example.com',
  NFC_GPU_NODE_SELECTOR: '{"nutrifitcoach.io/gpu":"true"}',
  NFC_GPU_TOLERATIONS: '[{"key":"nvidia.com/gpu","operator":"Exists","effect":"NoSchedule"}]',
  NFC_RUNTIME_CLASS_NAME: 'nvidia',
  LOG_LEVEL: 'info',
};

export async function startOperator(opts: StartOperatorOptions): Promise<OperatorProcess> {
  const identity = opts.identity ?? `operator-${Math.random().toString(36).slice(2, 8)}`;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  // The image's runtime: its Node.js flags, and (`compiled`) its JavaScript from dist/ with no loader.
  const entry = [
    ...OPERATOR_V8_FLAGS,
    ...(opts.compiled
      ? [join(REPO_ROOT, 'dist/services/cli/main.js')]
      : ['--import', 'tsx/esm', '--no-warnings=ExperimentalWarning', join(REPO_ROOT, 'services/cli/main.ts')]),
  ];
  const child = spawn(process.execPath, [...entry, 'operator'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      NODE_OPTIONS: OPERATOR_NODE_OPTIONS,
      MALLOC_ARENA_MAX: OPERATOR_MALLOC_ARENA_MAX,
      KUBECONFIG: opts.kubeconfigPath,
      NFC_POD_NAME: identity,
      ...TEST_OPERATOR_ENV,
      ...opts.env,
    },
  });
  live.add(child);
  installExitHook();
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
  });
  const pid = child.pid ?? 0;
  const logLines = () =>
    stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  const waitForLog = async (pattern: RegExp, ms = timeoutMs) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const line = stderr.split('\n').find((l) => pattern.test(l));
      if (line) return line;
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(
          `operator exited (${child.exitCode ?? child.signalCode}) before logging ${pattern}:\n${tail(stderr)}`,
        );
      }
      if (Date.now() > deadline) throw new Error(`operator did not log ${pattern} within ${ms} ms:\n${tail(stderr)}`);
      await sleep(50);
    }
  };
  const started = await waitForLog(/"msg":"operator started"/);
  const port = (JSON.parse(started) as { port: number }).port;
  const get = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: res.status, body: await res.text() };
  };
  const op: OperatorProcess = {
    pid,
    port,
    identity,
    logs: () => stderr,
    logLines,
    waitForLog,
    get,
    exited,
    async metrics() {
      const { body } = await get('/metrics');
      return parseMetrics(body);
    },
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    peakRssBytes() {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        return m ? Number(m[1]) * 1024 : undefined;
      } catch {
        return undefined;
      }
    },
  };
  if (opts.waitReady ?? true) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`operator ${identity} exited (${child.exitCode ?? child.signalCode}):\n${tail(stderr)}`);
      }
      if ((await get('/readyz').catch(() => undefined))?.status === 200) break;
      if (Date.now() > deadline) throw new Error(`operator ${identity} not ready in ${timeoutMs} ms:\n${tail(stderr)}`);
      await sleep(100);
    }
  }
  return op;
}

/** `name{labels} value` lines → map (comments and blank lines skipped). */
export function parseMetrics(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out[line.slice(0, i)] = Number(line.slice(i + 1));
  }
  return out;
}

function tail(text: string, lines = 30): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function installExitHook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/** Installs the generated CRD and waits until it is Established and its storage serves lists. */
export async function installCrd(kc: KubeConfig): Promise<void> {
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const [crd] = (
    loadAllYaml(readFileSync(join(REPO_ROOT, 'crds/videoanalyses.nutrifitcoach.io.yaml'), 'utf8')) as
      | KubernetesObject[]
      | null[]
  ).filter((o): o is KubernetesObject => o !== null);
  if (!crd) throw new Error('no CRD in crds/');
  await objects.create(crd);
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  await eventually('CRD established and served', 60_000, async () => {
    const got = await ext.readCustomResourceDefinition({ name: `${PLURAL}.${GROUP}` });
    if (!got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return undefined;
    await custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL });
    return true;
  });
}

export interface VideoAnalysisManifest extends KubernetesObject {
  metadata: {
    name: string;
    namespace: string;
    uid?: string;
    finalizers?: string[];
    annotations?: Record<string, string>;
  };
  spec: Record<string, unknown>;
  status?: Record<string, unknown> & {
    phase?: string;
    jobName?: string;
    message?: string;
    attempts?: number;
    startTime?: string;
    completionTime?: string;
    observedGeneration?: number;
    conditions?: Array<{
      type: string;
      status: string;
      reason: string;
      message: string;
      observedGeneration?: number;
      lastTransitionTime: string;
    }>;
  };
}

/** A valid VideoAnalysis; `spec` entries replace the defaults' (undefined removes one). */
export function videoAnalysis(
  name: string,
  opts: { namespace?: string; spec?: Record<string, unknown>; priority?: number } = {},
): VideoAnalysisManifest {
  const spec: Record<string, unknown> = {
    source: { s3: { bucket: 'videos', key: `uploads/${name}.mp4` } },
    exercise: 'squat',
    output: { bucket: 'results', prefix: `analyses/${name}/` },
  };
  for (const [k, v] of Object.entries(opts.spec ?? {})) {
    if (v === undefined) delete spec[k];
    else spec[k] = v;
  }
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'VideoAnalysis',
    metadata: {
      name,
      namespace: opts.namespace ?? 'default',
      ...(opts.priority !== undefined ? { annotations: { 'nutrifitcoach.io/priority': String(opts.priority) } } : {}),
    },
    spec,
  };
}

/** Creating, reading and listing VideoAnalyses and Jobs; finishing Jobs as the Job controller would. */
export function operatorTestClient(kc: KubeConfig) {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const batch = kc.makeApiClient(BatchV1Api);
  const base = { group: GROUP, version: VERSION, plural: PLURAL };
  return {
    custom,
    batch,
    create: async (va: VideoAnalysisManifest) =>
      (await custom.createNamespacedCustomObject({
        ...base,
        namespace: va.metadata.namespace,
        body: va,
      })) as VideoAnalysisManifest,
    get: async (name: string, namespace = 'default') =>
      (await custom.getNamespacedCustomObject({ ...base, namespace, name })) as VideoAnalysisManifest,
    list: async (namespace = 'default') =>
      ((await custom.listNamespacedCustomObject({ ...base, namespace })) as { items: VideoAnalysisManifest[] }).items,
    remove: (name: string, namespace = 'default') => custom.deleteNamespacedCustomObject({ ...base, namespace, name }),
    jobs: async (namespace = 'default') =>
      (await batch.listNamespacedJob({ namespace, labelSelector: 'app.kubernetes.io/managed-by=nfc-operator' })).items,
    job: (name: string, namespace = 'default') => batch.readNamespacedJob({ name, namespace }),
    /** Marks a Job finished through its status subresource, with the conditions the Job controller sets. */
    finishJob: async (
      name: string,
      outcome: { type: 'Complete' } | { type: 'Failed'; reason: string; message: string },
      namespace = 'default',
    ) => {
      const now = new Date().toISOString();
      const conditions =
        outcome.type === 'Complete'
          ? [
              {
                type: 'SuccessCriteriaMet',
                status: 'True',
                reason: 'CompletionsReached',
                message: 'Reached expected number of succeeded pods',
                lastTransitionTime: now,
                lastProbeTime: now,
              },
              {
                type: 'Complete',
                status: 'True',
                reason: 'CompletionsReached',
                message: 'Reached expected number of succeeded pods',
                lastTransitionTime: now,
                lastProbeTime: now,
              },
            ]
          : [
              {
                type: 'FailureTarget',
                status: 'True',
                reason: outcome.reason,
                message: outcome.message,
                lastTransitionTime: now,
                lastProbeTime: now,
              },
              {
                type: 'Failed',
                status: 'True',
                reason: outcome.reason,
                message: outcome.message,
                lastTransitionTime: now,
                lastProbeTime: now,
              },
            ];
      const status =
        outcome.type === 'Complete'
          ? { startTime: now, completionTime: now, succeeded: 1, active: 0, ready: 0, conditions }
          : { startTime: now, failed: 1, active: 0, ready: 0, conditions };
      return (await batch.patchNamespacedJobStatus({ name, namespace, body: { status } }, MERGE_PATCH)) as V1Job;
    },
  };
}
