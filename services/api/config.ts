/**
 * The API's own settings (`loadApiConfig(env, overrides)`, called once in `nfc serve`). The
 * database, S3 and Redis connections are read by their platform modules; this decides which of
 * them the process uses:
 * - dispatch `inline` (the default, what a newcomer runs): embedded PGlite and objects on disk
 *   in `dataDir`, analyses in this process;
 * - `queue` / `kubernetes`: PostgreSQL (NFC_DATABASE_*), S3 (S3_ENDPOINT…), Redis for the queue.
 */
import { type Static, Type as T } from '@sinclair/typebox';
import { type ConfigProblem, type EnvBinding, loadEnvConfig } from '../platform/env-config.js';

const GiB = 1024 * 1024 * 1024;

export const ApiConfigSchema = T.Object({
  dispatch: T.Union([T.Literal('inline'), T.Literal('queue'), T.Literal('kubernetes')], { default: 'inline' }),
  http: T.Object(
    {
      host: T.String({ minLength: 1, default: '127.0.0.1' }),
      /** 0 picks a free port (printed at start). */
      port: T.Integer({ minimum: 0, maximum: 65_535, default: 8080 }),
      /** How clients reach us (ingress URL); used in signed object URLs. Default: the listen address. */
      publicUrl: T.Optional(T.String({ pattern: '^https?://' })),
      /** Browser origins allowed by CORS; empty: no CORS headers (same-origin only). */
      corsOrigins: T.Array(T.String({ minLength: 1 }), { default: [] }),
      /** Requests per minute per client (user, else IP). Shared through Redis when configured. */
      rateLimitPerMinute: T.Integer({ minimum: 1, maximum: 1_000_000, default: 600 }),
      /** Load shedding: 503 while the event loop lags more than this. */
      maxEventLoopDelayMs: T.Integer({ minimum: 10, maximum: 60_000, default: 1_000 }),
      /** Server-sent events: a comment line this often keeps proxies from closing the stream. */
      sseKeepAliveSeconds: T.Integer({ minimum: 1, maximum: 300, default: 15 }),
    },
    { default: {} },
  ),
  uploads: T.Object(
    {
      maxBytes: T.Integer({ minimum: 1, maximum: 64 * GiB, default: GiB }),
      /** Lifetime of presigned URLs (uploads and downloads). */
      presignSeconds: T.Integer({ minimum: 30, maximum: 7 * 86_400, default: 900 }),
    },
    { default: {} },
  ),
  auth: T.Object(
    {
      /** HMAC key of the access tokens (≥ 32 characters). `nfc serve` generates one in dataDir when unset. */
      jwtSecret: T.Optional(T.String({ minLength: 32 })),
      jwtIssuer: T.String({ minLength: 1, default: 'nfc-api' }),
      jwtAudience: T.String({ minLength: 1, default: 'nfc' }),
      jwtTtlSeconds: T.Integer({ minimum: 60, maximum: 7 * 86_400, default: 3600 }),
      /** Emails that get the admin role when they register. */
      adminEmails: T.Array(T.String({ minLength: 3 }), { default: [] }),
    },
    { default: {} },
  ),
  storage: T.Object(
    {
      /** `disk` keeps objects under dataDir/objects (inline default); `s3` uses S3_ENDPOINT… */
      kind: T.Optional(T.Union([T.Literal('disk'), T.Literal('s3')])),
      videosBucket: T.String({ minLength: 3, default: 'videos' }),
      resultsBucket: T.String({ minLength: 3, default: 'results' }),
    },
    { default: {} },
  ),
  /** Embedded database (PGlite, when NFC_DATABASE_HOST is unset), disk objects, the generated secret. */
  dataDir: T.Optional(T.String({ minLength: 1 })),
  /** Where uploads are spooled for validation and inline analyses run. Default: the OS temp dir. */
  scratchDir: T.Optional(T.String({ minLength: 1 })),
  inline: T.Object(
    {
      /** Analyses at once in inline mode. */
      concurrency: T.Integer({ minimum: 1, maximum: 16, default: 1 }),
      /** Pose-estimation threads per analysis (default: the engine's choice). */
      workers: T.Optional(T.Integer({ minimum: 1, maximum: 64 })),
    },
    { default: {} },
  ),
  kubernetes: T.Object(
    {
      namespace: T.String({ minLength: 1, default: 'default' }),
      gpu: T.Integer({ minimum: 0, maximum: 16, default: 1 }),
    },
    { default: {} },
  ),
});

export type ApiConfig = Static<typeof ApiConfigSchema>;

export const API_ENV: readonly EnvBinding[] = [
  ['/dispatch', 'NFC_DISPATCH', 'string'],
  ['/http/host', 'NFC_HTTP_HOST', 'string'],
  ['/http/port', 'NFC_HTTP_PORT', 'integer'],
  ['/http/publicUrl', 'NFC_PUBLIC_URL', 'string'],
  ['/http/corsOrigins', 'NFC_CORS_ORIGINS', 'list'],
  ['/http/rateLimitPerMinute', 'NFC_RATE_LIMIT_PER_MINUTE', 'integer'],
  ['/http/maxEventLoopDelayMs', 'NFC_MAX_EVENT_LOOP_DELAY_MS', 'integer'],
  ['/http/sseKeepAliveSeconds', 'NFC_SSE_KEEPALIVE_SECONDS', 'integer'],
  ['/uploads/maxBytes', 'NFC_MAX_UPLOAD_BYTES', 'integer'],
  ['/uploads/presignSeconds', 'NFC_PRESIGN_SECONDS', 'integer'],
  ['/auth/jwtSecret', 'NFC_JWT_SECRET', 'string'],
  ['/auth/jwtIssuer', 'NFC_JWT_ISSUER', 'string'],
  ['/auth/jwtAudience', 'NFC_JWT_AUDIENCE', 'string'],
  ['/auth/jwtTtlSeconds', 'NFC_JWT_TTL_SECONDS', 'integer'],
  ['/auth/adminEmails', 'NFC_ADMIN_EMAILS', 'list'],
  ['/storage/kind', 'NFC_STORAGE', 'string'],
  ['/storage/videosBucket', 'NFC_S3_BUCKET_VIDEOS', 'string'],
  ['/storage/resultsBucket', 'NFC_S3_BUCKET_RESULTS', 'string'],
  ['/dataDir', 'NFC_DATA_DIR', 'string'],
  ['/scratchDir', 'NFC_SCRATCH_DIR', 'string'],
  ['/inline/concurrency', 'NFC_INLINE_CONCURRENCY', 'integer'],
  ['/inline/workers', 'NFC_INLINE_WORKERS', 'integer'],
  ['/kubernetes/namespace', 'NFC_ANALYSIS_NAMESPACE', 'string'],
  ['/kubernetes/gpu', 'NFC_ANALYSIS_GPU', 'integer'],
];

/** Reads and checks the API settings; `overrides` (JSON pointer → value) are command-line flags. */
export function loadApiConfig(env: NodeJS.ProcessEnv, overrides: Record<string, unknown> = {}): Readonly<ApiConfig> {
  return loadEnvConfig(env, {
    title: 'API',
    schema: ApiConfigSchema,
    bindings: API_ENV,
    overrides,
    crossChecks: (c) => crossChecks(c, env),
  });
}

/** Which storage the settings pick: explicit, else disk for inline and S3 otherwise. */
export function storageKind(c: ApiConfig): 'disk' | 's3' {
  return c.storage.kind ?? (c.dispatch === 'inline' ? 'disk' : 's3');
}

/** The embedded database is used when no PostgreSQL host is given. */
export function usesEmbeddedDatabase(env: NodeJS.ProcessEnv): boolean {
  return !env.NFC_DATABASE_HOST?.trim();
}

function crossChecks(c: ApiConfig, env: NodeJS.ProcessEnv): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const needsDataDir = usesEmbeddedDatabase(env) || storageKind(c) === 'disk' || !c.auth.jwtSecret;
  if (needsDataDir && !c.dataDir) {
    problems.push({
      path: '/dataDir',
      variable: 'NFC_DATA_DIR',
      message:
        'required for the embedded database, disk storage or a generated token secret (or set NFC_DATABASE_HOST, NFC_STORAGE=s3 and NFC_JWT_SECRET)',
    });
  }
  if (c.dispatch !== 'inline' && storageKind(c) === 'disk') {
    problems.push({
      path: '/storage/kind',
      variable: 'NFC_STORAGE',
      message: `dispatch "${c.dispatch}" runs analyses in other processes, which need S3 (NFC_STORAGE=s3)`,
    });
  }
  if (c.dispatch === 'queue' && !env.NFC_REDIS_HOST?.trim()) {
    problems.push({
      path: '/dispatch',
      variable: 'NFC_REDIS_HOST',
      message: 'dispatch "queue" needs Redis (NFC_REDIS_HOST)',
    });
  }
  return problems;
}
