/**
 * The operator's settings: one `loadConfig(env)`, called in main. Every setting comes from one
 * environment variable (JSON for the structured ones), is checked against the TypeBox schema
 * below, which also holds the defaults, and every problem is reported at once with its path and
 * variable (services/platform/env-config.ts). The result is deeply frozen.
 */
import { hostname } from 'node:os';
import { type Static, Type as T } from '@sinclair/typebox';
import { ConfigError, type ConfigProblem, type EnvBinding, loadEnvConfig } from '../services/platform/env-config.js';
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

/** Environment variable of each setting (path in the schema → variable, how to read it). */
export const ENV: readonly EnvBinding[] = [
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

export { ConfigError, type ConfigProblem };

/** Reads, defaults, checks and freezes the settings; throws a ConfigError listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv): Readonly<Config> {
  // Defaults that depend on the process, not constants: the namespace and name of the pod.
  const withDefaults: NodeJS.ProcessEnv = {
    ...env,
    NFC_OPERATOR_LEASE_NAMESPACE: env.NFC_OPERATOR_LEASE_NAMESPACE?.trim() || env.NFC_NAMESPACE?.trim() || undefined,
    NFC_POD_NAME: env.NFC_POD_NAME?.trim() || `${hostname()}-${process.pid}`,
  };
  return loadEnvConfig(withDefaults, { title: 'operator', schema: ConfigSchema, bindings: ENV, crossChecks });
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
