/**
 * Wires the API process together for `nfc serve`: settings → database (PostgreSQL, or embedded
 * PGlite in the data directory) → object store (S3, or disk) → dispatcher (inline, queue or
 * kubernetes) → the Fastify app, listening. `close()` undoes it in reverse order.
 */
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import { databaseConfigFromEnv, embeddedDatabaseConfig } from '../platform/db/config.js';
import { lockDataDir } from '../platform/db/data-dir-lock.js';
import { openDatabase } from '../platform/db/database.js';
import { migrateToLatest, migrationStatus } from '../platform/db/migrate.js';
import { type Database, TERMINAL_STATUSES } from '../platform/db/schema.js';
import type { Logger } from '../platform/logging.js';
import { objectStoreConfigFromEnv } from '../platform/object-store/config.js';
import { type ObjectStorageConfig, openObjectStorage } from '../platform/object-store/open-object-storage.js';
import type { ObjectStorage } from '../platform/object-store/storage.js';
import { outputPrefix } from './analyses/routes.js';
import { AnalysisUpdateBus } from './analyses/update-bus.js';
import { AnalysisUpdateSink } from './analyses/update-sink.js';
import { buildApp } from './app.js';
import { requireUser } from './auth/plugin.js';
import { createTokenService } from './auth/tokens.js';
import { type ApiConfig, loadApiConfig, storageKind, usesEmbeddedDatabase } from './config.js';
import type { Dispatcher } from './dispatch/dispatcher.js';
import { InlineDispatcher } from './dispatch/inline.js';
import { loadOrCreateSecrets } from './secrets.js';

/**
 * An upload streamed to S3 holds its part buffers for its whole length (two at once here, as
 * measured): S3's smallest part, 5 MiB, makes that ~10 MB instead of ~17 MB with the store's
 * default 8 MiB, at the same throughput (bench:api). Two parts in flight keep receiving and
 * sending overlapped (one in flight measured ~30% slower). 10,000 parts of 5 MiB: up to 48 GiB.
 */
const UPLOAD_PART_SIZE = 5 * 1024 * 1024;
const UPLOAD_QUEUE_SIZE = 2;

export interface RunningApi {
  app: FastifyInstance;
  /** Where it listens, e.g. http://127.0.0.1:8080 */
  url: string;
  config: Readonly<ApiConfig>;
  db: Kysely<Database>;
  storage: ObjectStorage;
  dispatcher: Dispatcher;
  close(): Promise<void>;
}

/** Starts the API; `overrides` are command-line flags as config paths (e.g. { '/http/port': 0 }). */
export async function startApiServer(
  env: NodeJS.ProcessEnv,
  log: Logger,
  overrides: Record<string, unknown> = {},
): Promise<RunningApi> {
  const config = loadApiConfig(env, overrides);
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  const close = async () => {
    for (const cleanup of cleanups.reverse())
      await Promise.resolve(cleanup()).catch((err: unknown) => log.warn({ err }, 'shutdown step failed'));
  };
  try {
    const dataDir = config.dataDir ? resolve(config.dataDir) : undefined;
    if (dataDir) await mkdir(dataDir, { recursive: true });
    const scratchDir = config.scratchDir ?? (dataDir ? join(dataDir, 'scratch') : tmpdir());
    await mkdir(scratchDir, { recursive: true });
    const localSecrets = dataDir ? await loadOrCreateSecrets(dataDir) : undefined;
    const jwtSecret = config.auth.jwtSecret ?? localSecrets?.jwtSecret;
    if (!jwtSecret) throw new Error('NFC_JWT_SECRET is required (or a data directory to keep a generated one in)');

    const db = await openDatabaseFor(env, dataDir, log, cleanups);
    const { storage, storageConfig } = await openStorageFor(config, env, dataDir, localSecrets?.objectSigningSecret);
    cleanups.push(() => storage.destroy());
    for (const bucket of [config.storage.videosBucket, config.storage.resultsBucket]) {
      await storage
        .ensureBucket(bucket)
        .catch((err: unknown) => log.warn({ err, bucket }, 'could not create the bucket'));
    }

    let redis: Redis | undefined;
    if (env.NFC_REDIS_HOST?.trim()) {
      const { redisConfigFromEnv } = await import('../platform/queue/config.js');
      const { createRedisConnection } = await import('../platform/queue/connection.js');
      redis = createRedisConnection(redisConfigFromEnv(env), 'request', 'nfc-api-rate-limit');
      redis.on('error', (err) => log.debug({ err }, 'redis (rate limit) connection error'));
      const r = redis;
      cleanups.push(() => r.quit());
    }

    const dispatcher = await createDispatcher(config, env, log, storageConfig, scratchDir);
    const bus = new AnalysisUpdateBus();
    const sink = new AnalysisUpdateSink(db, bus, log.child({ component: 'updates' }));
    await dispatcher.start(sink.accept, sink.acceptListing);
    cleanups.push(async () => {
      await dispatcher.stop();
      await sink.drain();
    });

    const tokens = createTokenService({
      secret: jwtSecret,
      issuer: config.auth.jwtIssuer,
      audience: config.auth.jwtAudience,
      ttlSeconds: config.auth.jwtTtlSeconds,
    });
    const app = await buildApp(
      { config, db, storage, dispatcher, bus, authenticate: requireUser },
      {
        log,
        tokens,
        ...(redis ? { redis } : {}),
        ...(storageConfig.kind === 'disk' ? { diskObjects: { signingSecret: storageConfig.signingSecret } } : {}),
      },
    );
    cleanups.push(() => app.close());
    // Start-up (migrations, schema compilation) blocks the event loop for seconds; load shedding
    // would read that as overload and refuse the first requests. One quiet sampling interval
    // (1 s) before listening clears its measurement.
    await app.ready();
    await sleep(1_500);
    const address = await app.listen({ host: config.http.host, port: config.http.port });
    const url = address.replace('[::1]', 'localhost');
    if ('setPublicBaseUrl' in storage && typeof storage.setPublicBaseUrl === 'function') {
      storage.setPublicBaseUrl(config.http.publicUrl ?? url);
    }
    if (dispatcher.mode === 'inline') await resubmitUnfinished(db, dispatcher, config, log);
    log.info({ url, dispatch: config.dispatch, storage: storageConfig.kind, dataDir }, 'API listening');
    return { app, url, config, db, storage, dispatcher, close };
  } catch (err) {
    await close();
    throw err;
  }
}

async function openDatabaseFor(
  env: NodeJS.ProcessEnv,
  dataDir: string | undefined,
  log: Logger,
  cleanups: Array<() => unknown>,
): Promise<Kysely<Database>> {
  if (usesEmbeddedDatabase(env)) {
    if (!dataDir) throw new Error('the embedded database needs a data directory (--data or NFC_DATA_DIR)');
    const unlock = lockDataDir(dataDir);
    cleanups.push(unlock);
    const db = await openDatabase(embeddedDatabaseConfig(dataDir), log);
    cleanups.push(() => db.destroy());
    // The embedded database belongs to this process alone: bring it up to date on start.
    await migrateToLatest(db);
    return db;
  }
  const db = await openDatabase(databaseConfigFromEnv(env), log);
  cleanups.push(() => db.destroy());
  // On a cluster `nfc migrate` runs first (the chart's init container); say so if it did not.
  const pending = (await migrationStatus(db)).filter((m) => !m.appliedAt).map((m) => m.name);
  if (pending.length > 0) {
    throw new Error(
      `the database schema is not up to date (pending: ${pending.join(', ')}); run \`nfc migrate\` first`,
    );
  }
  return db;
}

async function openStorageFor(
  config: Readonly<ApiConfig>,
  env: NodeJS.ProcessEnv,
  dataDir: string | undefined,
  signingSecret: string | undefined,
): Promise<{ storage: ObjectStorage; storageConfig: ObjectStorageConfig }> {
  if (storageKind(config) === 's3') {
    const storageConfig: ObjectStorageConfig = {
      kind: 's3',
      ...objectStoreConfigFromEnv(env),
      partSize: UPLOAD_PART_SIZE,
      queueSize: UPLOAD_QUEUE_SIZE,
    };
    return { storage: openObjectStorage(storageConfig), storageConfig };
  }
  if (!dataDir || !signingSecret) throw new Error('disk storage needs a data directory (--data or NFC_DATA_DIR)');
  const storageConfig: ObjectStorageConfig = { kind: 'disk', root: join(dataDir, 'objects'), signingSecret };
  return { storage: openObjectStorage(storageConfig), storageConfig };
}

async function createDispatcher(
  config: Readonly<ApiConfig>,
  env: NodeJS.ProcessEnv,
  log: Logger,
  storageConfig: ObjectStorageConfig,
  scratchDir: string,
): Promise<Dispatcher> {
  const dispatchLog = log.child({ component: `dispatch-${config.dispatch}` });
  switch (config.dispatch) {
    case 'inline':
      return new InlineDispatcher({
        storage: storageConfig,
        scratchDir,
        concurrency: config.inline.concurrency,
        ...(config.inline.workers !== undefined ? { workers: config.inline.workers } : {}),
        log: dispatchLog,
      });
    case 'queue': {
      // Loaded only in the modes that use them: BullMQ and the Kubernetes client are large.
      const { QueueDispatcher } = await import('./dispatch/queue.js');
      const { redisConfigFromEnv } = await import('../platform/queue/config.js');
      return new QueueDispatcher({ redis: redisConfigFromEnv(env), log: dispatchLog });
    }
    case 'kubernetes': {
      const { KubernetesDispatcher } = await import('./dispatch/kubernetes.js');
      const { kubeConfigFromEnv } = await import('../platform/kube/client.js');
      return new KubernetesDispatcher({
        namespace: config.kubernetes.namespace,
        kubeConfig: kubeConfigFromEnv(env),
        gpu: config.kubernetes.gpu,
        log: dispatchLog,
      });
    }
  }
}

/** Inline analyses live in this process only: the ones a previous run left unfinished start again. */
async function resubmitUnfinished(
  db: Kysely<Database>,
  dispatcher: Dispatcher,
  config: Readonly<ApiConfig>,
  log: Logger,
): Promise<void> {
  const rows = await db
    .selectFrom('analyses')
    .innerJoin('uploads', 'uploads.id', 'analyses.upload_id')
    .select(['analyses.id', 'analyses.exercise', 'analyses.fps', 'uploads.bucket', 'uploads.key'])
    .where('analyses.dispatch', '=', 'inline')
    .where('analyses.status', 'not in', [...TERMINAL_STATUSES])
    .orderBy('analyses.created_at')
    .execute();
  for (const row of rows) {
    await dispatcher.submit({
      analysisId: row.id,
      source: { bucket: row.bucket, key: row.key },
      exercise: row.exercise,
      fps: row.fps,
      output: { bucket: config.storage.resultsBucket, prefix: outputPrefix(row.id) },
    });
  }
  if (rows.length > 0) log.info({ count: rows.length }, 'resumed unfinished analyses');
}
