/**
 * The operator's settings: one `loadConfig(env)`, called in main. Every setting comes from one
 * environment variable (JSON for the structured ones), is checked against the TypeBox schema
 * below, which also holds the defaults, and every problem is reported at once with its path and
 * variable. The result is deeply frozen.
 */
import { hostname } from 'node:os';
import { type Static, Type as T } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { OperatorConfig } from './plan/types.js';

const Quantity = T.String({ pattern: '^[0-9]+(\\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$' });
const Seconds = (minimum: number, maximum: number, value: number) => T.Integer({ minimum, maximum, default: value });

/** What the Job builder (operator/plan) needs: see OperatorConfig. */
const JobSettings = T.Object(
  {
    workerImage: T.String({ minLength: 1, default: 'nutrifitcoach/nfc-worker:0.1.0' }),
    workerServiceAccount: T.String({ minLength: 1, default: 'nfc-worker' }),
    s3SecretName: T.String({ minLength: 1, default: 'nfc-s3' }),
    gpuResourceName: T.String({ minLength: 1, default: 'nvidia.com/gpu' }),
    gpuNodeSelector: T.Record(T.String(), T.String(), { default: {} }),
    gpuTolerations: T.Array(
      T.Object(
        {
          key: T.String(),
          operator: T.Union([T.Literal('Exists'), T.Literal('Equal')]),
          value: T.Optional(T.String()),
          effect: T.Optional(T.String()),
        },
        { additionalProperties: false },
      ),
      { default: [] },
    ),
    runtimeClassName: T.Optional(T.String({ minLength: 1 })),
    priorityClassName: T.Optional(T.String({ minLength: 1 })),
    maxRunning: T.Integer({ minimum: 1, maximum: 100_000, default: 8 }),
    maxRunningPerNamespace: T.Integer({ minimum: 1, maximum: 100_000, default: 8 }),
    backoffLimit: T.Integer({ minimum: 0, maximum: 20, default: 2 }),
    ttlSecondsAfterFinished: Seconds(0, 30 * 86_400, 3600),
    badInputExitCode: T.Integer({ minimum: 1, maximum: 255, default: 3 }),
    allowedUrlHosts: T.Array(T.String({ minLength: 1 }), { default: [] }),
    cpu: T.Object(
      { request: Quantity, limit: Quantity },
      { additionalProperties: false, default: { request: '1', limit: '2' } },
    ),
    memory: T.Object(
      { request: Quantity, limit: Quantity },
      { additionalProperties: false, default: { request: '2Gi', limit: '4Gi' } },
    ),
  },
  { default: {} },
);

export const ConfigSchema = T.Object({
  job: JobSettings,
  /** Namespaces watched; empty: the whole cluster. */
  watchNamespaces: T.Array(T.String({ minLength: 1 }), { default: [] }),
  /** Reconciles at once (always one at a time per resource). */
  concurrency: T.Integer({ minimum: 1, maximum: 64, default: 4 }),
  leaderElection: T.Object(
    {
      enabled: T.Boolean({ default: true }),
      leaseName: T.String({ minLength: 1, default: 'nfc-operator' }),
      leaseNamespace: T.String({ minLength: 1, default: 'default' }),
      identity: T.String({ minLength: 1 }),
      leaseDurationSeconds: Seconds(1, 3600, 15),
      renewDeadlineSeconds: Seconds(1, 3600, 10),
      retryPeriodSeconds: Seconds(1, 600, 2),
    },
    { default: {} },
  ),
  /** Port of /metrics, /healthz and /readyz; 0 picks a free one (logged). */
  metricsPort: T.Integer({ minimum: 0, maximum: 65_535, default: 9090 }),
  metricsHost: T.String({ minLength: 1, default: '0.0.0.0' }),
  /** Full relist of every watch, whatever the watch says. */
  resyncSeconds: Seconds(10, 86_400, 300),
  /**
   * A watch silent this long (not even a bookmark; the API server sends one every one to two
   * minutes) is presumed dead: it is dropped, the connections are renewed, and it reopens.
   */
  watchInactivitySeconds: Seconds(2, 3600, 180),
  /** A watch that has seen nothing (not even a bookmark) for this long makes /healthz fail. */
  watchStaleSeconds: Seconds(30, 86_400, 300),
  /** Retry of a failed reconcile: exponential from base, capped. */
  retryBaseMilliseconds: T.Integer({ minimum: 1, maximum: 60_000, default: 500 }),
  retryMaxSeconds: Seconds(1, 3600, 300),
  /** Testing only: `exit-after-create-job` kills the process right after a Job is created. */
  failpoint: T.Union([T.Literal(''), T.Literal('exit-after-create-job')], { default: '' }),
});

export type Config = Static<typeof ConfigSchema>;
export type { OperatorConfig };

type Kind = 'string' | 'integer' | 'boolean' | 'json' | 'list';

/** Environment variable of each setting (path in the schema → variable, how to read it). */
export const ENV: ReadonlyArray<readonly [path: string, variable: string, kind: Kind]> = [
  ['/job/workerImage', 'NFC_WORKER_IMAGE', 'string'],
  ['/job/workerServiceAccount', 'NFC_WORKER_SERVICE_ACCOUNT', 'string'],
  ['/job/s3SecretName', 'NFC_S3_SECRET_NAME', 'string'],
  ['/job/gpuResourceName', 'NFC_GPU_RESOURCE_NAME', 'string'],
  ['/job/gpuNodeSelector', 'NFC_GPU_NODE_SELECTOR', 'json'],
  ['/job/gpuTolerations', 'NFC_GPU_TOLERATIONS', 'json'],
  ['/job/runtimeClassName', 'NFC_RUNTIME_CLASS_NAME', 'string'],
  ['/job/priorityClassName', 'NFC_PRIORITY_CLASS_NAME', 'string'],
  ['/job/maxRunning', 'NFC_MAX_RUNNING', 'integer'],
  ['/job/maxRunningPerNamespace', 'NFC_MAX_RUNNING_PER_NAMESPACE', 'integer'],
  ['/job/backoffLimit', 'NFC_JOB_BACKOFF_LIMIT', 'integer'],
  ['/job/ttlSecondsAfterFinished', 'NFC_JOB_TTL_SECONDS', 'integer'],
  ['/job/badInputExitCode', 'NFC_BAD_INPUT_EXIT_CODE', 'integer'],
  ['/job/allowedUrlHosts', 'NFC_ALLOWED_URL_HOSTS', 'list'],
  ['/job/cpu', 'NFC_WORKER_CPU', 'json'],
  ['/job/memory', 'NFC_WORKER_MEMORY', 'json'],
  ['/watchNamespaces', 'NFC_WATCH_NAMESPACES', 'list'],
  ['/concurrency', 'NFC_OPERATOR_CONCURRENCY', 'integer'],
  ['/leaderElection/enabled', 'NFC_OPERATOR_LEADER_ELECT', 'boolean'],
  ['/leaderElection/leaseName', 'NFC_OPERATOR_LEASE_NAME', 'string'],
  ['/leaderElection/leaseNamespace', 'NFC_OPERATOR_LEASE_NAMESPACE', 'string'],
  ['/leaderElection/identity', 'NFC_POD_NAME', 'string'],
  ['/leaderElection/leaseDurationSeconds', 'NFC_OPERATOR_LEASE_DURATION_SECONDS', 'integer'],
  ['/leaderElection/renewDeadlineSeconds', 'NFC_OPERATOR_RENEW_DEADLINE_SECONDS', 'integer'],
  ['/leaderElection/retryPeriodSeconds', 'NFC_OPERATOR_RETRY_PERIOD_SECONDS', 'integer'],
  ['/metricsPort', 'NFC_METRICS_PORT', 'integer'],
  ['/metricsHost', 'NFC_METRICS_HOST', 'string'],
  ['/resyncSeconds', 'NFC_OPERATOR_RESYNC_SECONDS', 'integer'],
  ['/watchInactivitySeconds', 'NFC_OPERATOR_WATCH_INACTIVITY_SECONDS', 'integer'],
  ['/watchStaleSeconds', 'NFC_OPERATOR_WATCH_STALE_SECONDS', 'integer'],
  ['/retryBaseMilliseconds', 'NFC_OPERATOR_RETRY_BASE_MS', 'integer'],
  ['/retryMaxSeconds', 'NFC_OPERATOR_RETRY_MAX_SECONDS', 'integer'],
  ['/failpoint', 'NFC_OPERATOR_FAILPOINT', 'string'],
];

export interface ConfigProblem {
  /** JSON pointer into the config, e.g. /leaderElection/leaseDurationSeconds */
  path: string;
  /** The environment variable that sets it, when one does. */
  variable?: string;
  message: string;
}

/** Invalid settings: every problem, each with its path and variable. Match on `code`. */
export class ConfigError extends Error {
  readonly code = 'INVALID_CONFIG';
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(
      `invalid operator settings:\n${problems.map((p) => `  ${p.path}${p.variable ? ` (${p.variable})` : ''}: ${p.message}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

/** Reads, defaults, checks and freezes the settings; throws a ConfigError listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv): Readonly<Config> {
  const problems: ConfigProblem[] = [];
  const raw: Record<string, unknown> = {};
  for (const [path, variable, kind] of ENV) {
    const text = env[variable]?.trim();
    if (text === undefined || text === '') continue;
    const parsed = parseValue(text, kind);
    if (parsed.error) problems.push({ path, variable, message: parsed.error });
    else setPath(raw, path, parsed.value);
  }
  // Defaults that depend on the process, not constants: the namespace and name of the pod.
  setDefault(raw, '/leaderElection/leaseNamespace', env.NFC_NAMESPACE?.trim());
  setDefault(raw, '/leaderElection/identity', `${hostname()}-${process.pid}`);

  const value = Value.Default(ConfigSchema, raw) as Config;
  for (const error of Value.Errors(ConfigSchema, value)) {
    const variable = ENV.find(([p]) => error.path === p || error.path.startsWith(`${p}/`))?.[1];
    const choices = (error.schema.anyOf as Array<{ const?: unknown }> | undefined)?.map((s) => s.const);
    const message =
      choices?.every((c) => c !== undefined) === true
        ? `expected one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`
        : error.message;
    problems.push({ path: error.path || '/', ...(variable ? { variable } : {}), message });
  }
  if (problems.length === 0) problems.push(...crossChecks(value));
  if (problems.length > 0) throw new ConfigError(dedupe(problems));
  return deepFreeze(value);
}

function crossChecks(c: Config): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const le = c.leaderElection;
  if (le.renewDeadlineSeconds >= le.leaseDurationSeconds) {
    problems.push({
      path: '/leaderElection/renewDeadlineSeconds',
      variable: 'NFC_OPERATOR_RENEW_DEADLINE_SECONDS',
      message: `must be less than leaseDurationSeconds (${le.leaseDurationSeconds})`,
    });
  }
  if (le.retryPeriodSeconds >= le.renewDeadlineSeconds) {
    problems.push({
      path: '/leaderElection/retryPeriodSeconds',
      variable: 'NFC_OPERATOR_RETRY_PERIOD_SECONDS',
      message: `must be less than renewDeadlineSeconds (${le.renewDeadlineSeconds})`,
    });
  }
  if (c.job.maxRunningPerNamespace > c.job.maxRunning) {
    problems.push({
      path: '/job/maxRunningPerNamespace',
      variable: 'NFC_MAX_RUNNING_PER_NAMESPACE',
      message: `must not exceed maxRunning (${c.job.maxRunning})`,
    });
  }
  return problems;
}

function parseValue(text: string, kind: Kind): { value?: unknown; error?: string } {
  switch (kind) {
    case 'string':
      return { value: text };
    case 'integer':
      // Left as text when not a number, so the schema reports it with the expected type.
      return { value: /^-?\d+$/.test(text) ? Number(text) : text };
    case 'boolean':
      if (['true', '1', 'yes'].includes(text.toLowerCase())) return { value: true };
      if (['false', '0', 'no'].includes(text.toLowerCase())) return { value: false };
      return { error: `expected true or false, got "${text}"` };
    case 'list':
      return {
        value: text
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      };
    case 'json':
      try {
        return { value: JSON.parse(text) };
      } catch (err) {
        return { error: `not valid JSON (${(err as Error).message})` };
      }
  }
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('/').slice(1);
  let node = target;
  for (const part of parts.slice(0, -1)) {
    node[part] ??= {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1] as string] = value;
}

function setDefault(target: Record<string, unknown>, path: string, value: string | undefined): void {
  if (!value) return;
  const parts = path.split('/').slice(1);
  let node: Record<string, unknown> | undefined = target;
  for (const part of parts.slice(0, -1)) node = node?.[part] as Record<string, unknown> | undefined;
  if (node?.[parts[parts.length - 1] as string] === undefined) setPath(target, path, value);
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function deepFreeze<V>(value: V): V {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
