/**
 * An API server for tests, started in this process with `startApiServer` (so a test can look at
 * its database and store), listening on a free port, plus a small HTTP client that signs up a
 * fresh user per call. Modes:
 * - embedded: PGlite + disk objects in a temp dir (what `nfc serve` runs);
 * - with `postgres`, `minio`, `redis` from the other supports: the production parts.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningApi, startApiServer } from '../../services/api/server.js';
import { openDatabase } from '../../services/platform/db/database.js';
import { migrateToLatest } from '../../services/platform/db/migrate.js';
import { createLogger } from '../../services/platform/logging.js';
import type { Minio } from './minio.js';
import type { Postgres } from './postgres.js';
import type { RedisServer } from './redis.js';

export interface TestApiOptions {
  dispatch?: 'inline' | 'queue' | 'kubernetes';
  /** A fresh database in this server (migrated); absent: embedded PGlite. */
  postgres?: Postgres;
  /** Objects in this MinIO; absent: on disk. */
  minio?: Minio;
  redis?: RedisServer;
  /** More NFC_* settings. */
  env?: Record<string, string>;
  /** Reuse a data directory (restart tests); default a new temp dir. */
  dataDir?: string;
  /** Another replica: use that server's PostgreSQL database instead of a new one. */
  shareDatabaseWith?: TestApi;
}

export interface TestApi {
  api: RunningApi;
  url: string;
  dataDir: string;
  env: Record<string, string>;
  /** A new user, signed in. */
  signUp(options?: { email?: string; password?: string }): Promise<UserClient>;
  close(options?: { keepData?: boolean }): Promise<void>;
}

export interface UserClient {
  email: string;
  token: string;
  /** JSON request; returns status, parsed body and headers (untyped unless T is given: tests read what they assert). */
  // biome-ignore lint/suspicious/noExplicitAny: test convenience, see above
  json<T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply<T>>;
  /** Multipart upload of bytes (or a file-backed Blob) as field "file". */
  // biome-ignore lint/suspicious/noExplicitAny: test convenience, as json()
  upload<T = any>(content: Blob | Uint8Array, filename: string, headers?: Record<string, string>): Promise<Reply<T>>;
}

export interface Reply<T> {
  status: number;
  body: T;
  headers: Headers;
}

export async function startTestApi(options: TestApiOptions = {}): Promise<TestApi> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'nfc-api-test-')));
  const env: Record<string, string> = {
    NFC_DATA_DIR: dataDir,
    NFC_HTTP_PORT: '0',
    LOG_LEVEL: process.env.NFC_TEST_LOG_LEVEL ?? 'warn',
    NFC_DISPATCH: options.dispatch ?? 'inline',
    // Tests make many requests quickly from one address.
    NFC_RATE_LIMIT_PER_MINUTE: '100000',
    ...(options.minio ? { ...options.minio.env, NFC_STORAGE: 's3' } : {}),
    ...(options.redis ? options.redis.env : {}),
    ...options.env,
  };
  if (options.shareDatabaseWith) {
    for (const [name, value] of Object.entries(options.shareDatabaseWith.env)) {
      if (name.startsWith('NFC_DATABASE_')) env[name] = value;
    }
  } else if (options.postgres) {
    const db = await options.postgres.createDatabase(`api_${randomUUID().slice(0, 8)}`);
    Object.assign(env, {
      NFC_DATABASE_HOST: db.host,
      NFC_DATABASE_PORT: String(db.port),
      NFC_DATABASE_NAME: db.database,
      NFC_DATABASE_USER: db.user,
      NFC_DATABASE_PASSWORD: db.password ?? '',
      NFC_DATABASE_SSLMODE: 'disable',
    });
    const log = createLogger({ LOG_LEVEL: 'warn' });
    const kysely = await openDatabase(db, log);
    await migrateToLatest(kysely);
    await kysely.destroy();
  }
  const log = createLogger({ LOG_LEVEL: env.LOG_LEVEL });
  const api = await startApiServer(env, log);
  return {
    api,
    url: api.url,
    dataDir,
    env,
    signUp: (o) => signUp(api.url, o),
    async close(o = {}) {
      await api.close();
      if (!o.keepData && !options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function signUp(url: string, o: { email?: string; password?: string } = {}): Promise<UserClient> {
  const email = o.email ?? `user-${randomUUID().slice(0, 8)}@example.com`;
  const password = o.password ?? 'correct horse battery';
  const register = await request(url, 'POST', '/v1/auth/register', undefined, { email, password });
  if (register.status !== 201 && register.status !== 409)
    throw new Error(`register: ${register.status} ${JSON.stringify(register.body)}`);
  const login = await request<{ accessToken: string }>(url, 'POST', '/v1/auth/login', undefined, { email, password });
  if (login.status !== 200) throw new Error(`login: ${login.status} ${JSON.stringify(login.body)}`);
  const token = login.body.accessToken;
  return {
    email,
    token,
    json: (method, path, body, headers) => request(url, method, path, token, body, headers),
    async upload<T>(content: Blob | Uint8Array, filename: string, headers: Record<string, string> = {}) {
      const form = new FormData();
      form.append('file', content instanceof Blob ? content : new Blob([content]), filename);
      const res = await fetch(`${url}/v1/uploads`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, ...headers },
        body: form,
      });
      return { status: res.status, body: (await parse(res)) as T, headers: res.headers };
    },
  };
}

async function request<T>(
  url: string,
  method: string,
  path: string,
  token: string | undefined,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply<T>> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await parse(res)) as T, headers: res.headers };
}

async function parse(res: Response): Promise<unknown> {
  const text = await res.text();
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return text;
  }
}

/** Reads an SSE stream until it ends (or `until` says stop); returns the parsed `data` of each event. */
export async function readEvents<T>(
  url: string,
  token: string,
  until?: (event: T) => boolean,
  signal?: AbortSignal,
): Promise<T[]> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, ...(signal ? { signal } : {}) });
  if (!res.ok || !res.body) throw new Error(`events: HTTP ${res.status} ${await res.text()}`);
  const events: T[] = [];
  let buffer = '';
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const data = buffer
        .slice(0, end)
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('\n');
      buffer = buffer.slice(end + 2);
      if (data) {
        const event = JSON.parse(data) as T;
        events.push(event);
        if (until?.(event)) return events;
      }
      end = buffer.indexOf('\n\n');
    }
  }
  return events;
}

/**
 * Everything the API's store holds for uploads, to prove a refused or interrupted upload left
 * nothing behind: the object keys of the videos bucket plus, for S3, `multipart:<key>` for each
 * unfinished multipart upload; for the disk store, every file under the objects directory
 * except the results bucket (temporary parts and metadata included).
 */
export async function storedUploadObjects(t: TestApi, minio?: Minio): Promise<string[]> {
  const bucket = t.api.config.storage.videosBucket;
  if (minio) {
    const { ListObjectsV2Command, ListMultipartUploadsCommand } = await import('@aws-sdk/client-s3');
    const s3 = minio.client();
    try {
      const objects = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
      const pending = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
      return [
        ...(objects.Contents ?? []).map((o) => String(o.Key)),
        ...(pending.Uploads ?? []).map((u) => `multipart:${u.Key}`),
      ];
    } finally {
      s3.destroy();
    }
  }
  const { readdir } = await import('node:fs/promises');
  const root = join(t.dataDir, 'objects');
  const results = t.api.config.storage.resultsBucket;
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1))
    .filter((p) => !p.startsWith(`${results}/`) && !p.startsWith(`.meta/${results}/`));
}

/** The user's id, read from the database by email (for rows a test writes directly). */
export async function userId(t: TestApi, email: string): Promise<string> {
  const row = await t.api.db
    .selectFrom('users')
    .select('id')
    .where('email', '=', email.toLowerCase())
    .executeTakeFirstOrThrow();
  return row.id;
}
