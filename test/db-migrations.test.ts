/**
 * The migrations and openDatabase() against a real PostgreSQL server (started by the harness)
 * and against embedded PGlite in a temporary directory: the same schema, the same types back,
 * up and down, concurrent migrators, persistence, and a PostgreSQL restart under a live pool.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Kysely, sql } from 'kysely';
import { pino } from 'pino';
import { type DatabaseConfig, embeddedDatabaseConfig } from '../services/platform/db/config.js';
import { jsonb, openDatabase, pingDatabase } from '../services/platform/db/database.js';
import { migrateDown, migrateToLatest, migrationStatus } from '../services/platform/db/migrate.js';
import type { Database } from '../services/platform/db/schema.js';
import { REPO_ROOT } from './support/clips.js';
import { type Postgres, startPostgres } from './support/postgres.js';

const TABLES = ['analyses', 'idempotency_keys', 'uploads', 'users'];

/** A logger whose warnings the test can read. */
function capturingLogger() {
  const lines: Array<{ msg: string; err?: { code?: string } }> = [];
  const log = pino({ level: 'warn' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { log, lines };
}

const quiet = pino({ level: 'silent' });

async function tables(db: Kysely<Database>): Promise<string[]> {
  const { rows } = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = 'public' and table_name not like 'kysely_%' order by table_name`.execute(db);
  return rows.map((r) => r.table_name);
}

/** Every table written and read back, checking what the API relies on: types, defaults, constraints. */
async function roundTrip(db: Kysely<Database>): Promise<void> {
  const user = await db
    .insertInto('users')
    .values({ email: 'coach@example.com', password_hash: '$argon2id$v=19$x', role: 'admin' })
    .returningAll()
    .executeTakeFirstOrThrow();
  assert.match(user.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'uuid primary key');
  assert.ok(user.created_at instanceof Date, 'timestamptz read as Date');
  assert.ok(Math.abs(user.created_at.getTime() - Date.now()) < 60_000);

  // Unique e-mail, stored lower-case.
  await assert.rejects(
    db.insertInto('users').values({ email: 'coach@example.com', password_hash: 'h', role: 'user' }).execute(),
    /duplicate key|unique/i,
  );
  await assert.rejects(
    db.insertInto('users').values({ email: 'Coach@Example.com', password_hash: 'h', role: 'user' }).execute(),
    /check constraint/i,
  );
  await assert.rejects(
    db
      .insertInto('users')
      .values({ email: 'x@example.com', password_hash: 'h', role: 'root' as 'user' })
      .execute(),
    /check constraint/i,
  );

  const bytes = 5 * 2 ** 32 + 7; // past 32 bits: a 20 GiB upload
  const upload = await db
    .insertInto('uploads')
    .values({
      user_id: user.id,
      status: 'ready',
      bucket: 'videos',
      key: 'uploads/a.mp4',
      filename: 'squat.mp4',
      content_type: 'video/mp4',
      bytes,
      media: { container: 'mp4', codec: 'h264', width: 1280, height: 720, fps: 29.97 },
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  assert.equal(upload.bytes, bytes);
  assert.equal(typeof upload.bytes, 'number', 'bigint read as a number');
  assert.deepEqual(upload.media, { container: 'mp4', codec: 'h264', width: 1280, height: 720, fps: 29.97 });
  assert.ok(upload.updated_at instanceof Date);

  const startedAt = new Date('2026-01-02T03:04:05.678Z');
  const analysis = await db
    .insertInto('analyses')
    .values({
      user_id: user.id,
      upload_id: upload.id,
      exercise: 'squat',
      fps: 12.5,
      options: jsonb({ thresholds: [1, 2, 3] }),
      status: 'running',
      dispatch: 'queue',
      resource: 'nfc/squat-1',
      frames_total: 300,
      results: jsonb({ bucket: 'videos', thumbnails: ['a.jpg', 'b.jpg'] }),
      started_at: startedAt,
      attempts: 1,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  assert.equal(analysis.fps, 12.5);
  assert.deepEqual(analysis.options, { thresholds: [1, 2, 3] });
  assert.deepEqual(analysis.results, { bucket: 'videos', thumbnails: ['a.jpg', 'b.jpg'] });
  assert.equal(analysis.summary, null);
  assert.equal(analysis.frames_done, null);
  assert.deepEqual(analysis.started_at, startedAt, 'timestamptz keeps milliseconds');
  assert.equal(analysis.finished_at, null);

  // One row per VideoAnalysis resource; rows without one do not collide.
  await assert.rejects(
    db
      .insertInto('analyses')
      .values({
        user_id: user.id,
        exercise: 'squat',
        fps: 10,
        options: '{}',
        status: 'queued',
        dispatch: 'kubernetes',
        resource: 'nfc/squat-1',
      })
      .execute(),
    /duplicate key|unique/i,
  );
  for (let i = 0; i < 2; i++) {
    await db
      .insertInto('analyses')
      .values({
        user_id: null,
        exercise: 'auto',
        fps: 10,
        options: '{}',
        status: 'queued',
        dispatch: 'inline',
        resource: null,
      })
      .execute();
  }
  await assert.rejects(
    db
      .insertInto('analyses')
      .values({
        user_id: user.id,
        exercise: 'squat',
        fps: 10,
        options: '{}',
        status: 'paused' as 'queued',
        dispatch: 'inline',
      })
      .execute(),
    /check constraint/i,
  );

  // The cursor-pagination query the API runs, newest first.
  const page = await db
    .selectFrom('analyses')
    .select(['id', 'created_at'])
    .where('user_id', '=', user.id)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(10)
    .execute();
  assert.deepEqual(
    page.map((r) => r.id),
    [analysis.id],
  );

  // Idempotency keys: one per (user, key); the response is any JSON, arrays included.
  await db
    .insertInto('idempotency_keys')
    .values({ user_id: user.id, key: 'k1', fingerprint: 'POST /v1/uploads abc', status_code: null, response: null })
    .execute();
  await assert.rejects(
    db
      .insertInto('idempotency_keys')
      .values({ user_id: user.id, key: 'k1', fingerprint: 'f', status_code: null, response: null })
      .execute(),
    /duplicate key|unique/i,
  );
  await db
    .updateTable('idempotency_keys')
    .set({ status_code: 201, response: jsonb([{ id: upload.id }]) })
    .where('user_id', '=', user.id)
    .where('key', '=', 'k1')
    .execute();
  const key = await db.selectFrom('idempotency_keys').selectAll().executeTakeFirstOrThrow();
  assert.equal(key.status_code, 201);
  assert.deepEqual(key.response, [{ id: upload.id }]);

  // count(*) is a bigint: a number too.
  const { n } = await db
    .selectFrom('analyses')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  assert.equal(n, 3);

  // Deleting an upload keeps its analyses (upload_id cleared); deleting a user removes theirs.
  await db.deleteFrom('uploads').where('id', '=', upload.id).execute();
  const kept = await db
    .selectFrom('analyses')
    .select('upload_id')
    .where('id', '=', analysis.id)
    .executeTakeFirstOrThrow();
  assert.equal(kept.upload_id, null);
  await db.deleteFrom('users').where('id', '=', user.id).execute();
  assert.equal((await db.selectFrom('analyses').select('id').execute()).length, 2, 'the two ownerless analyses stay');
  assert.equal((await db.selectFrom('idempotency_keys').select('key').execute()).length, 0);
}

/** The same lifecycle on either backend. */
async function upDownUp(db: Kysely<Database>): Promise<void> {
  assert.deepEqual(await migrationStatus(db), [{ name: '0001-initial' }]);
  assert.deepEqual(await migrateToLatest(db), ['0001-initial']);
  assert.deepEqual(await tables(db), TABLES);
  assert.deepEqual(await migrateToLatest(db), [], 'a second run has nothing to do');
  const [state] = await migrationStatus(db);
  assert.ok(state?.appliedAt instanceof Date);

  await roundTrip(db);

  assert.deepEqual(await migrateDown(db, 5), ['0001-initial'], 'down past the first reverts everything');
  assert.deepEqual(await tables(db), []);
  assert.deepEqual(await migrateDown(db), []);
  assert.deepEqual(await migrateToLatest(db), ['0001-initial']);
  assert.deepEqual(await tables(db), TABLES);
  await roundTrip(db);
}

describe('database on a real PostgreSQL', { timeout: 120_000 }, () => {
  let pg: Postgres;
  before(async () => {
    pg = await startPostgres();
  });
  after(() => pg?.stop());

  it('migrates up, round-trips every table, down to nothing and up again', async () => {
    const db = await openDatabase(await pg.createDatabase(), quiet);
    try {
      await upDownUp(db);
    } finally {
      await db.destroy();
    }
  });

  it('two processes migrating at once: both succeed, each migration applied once', async () => {
    const config = await pg.createDatabase();
    const dbs = await Promise.all([
      openDatabase(config, quiet),
      openDatabase(config, quiet),
      openDatabase(config, quiet),
    ]);
    try {
      const runs = await Promise.all(dbs.map((db) => migrateToLatest(db)));
      assert.deepEqual(runs.flat(), ['0001-initial'], `applied by exactly one: ${JSON.stringify(runs)}`);
      const { rows } = await sql<{ name: string }>`select name from kysely_migration`.execute(
        dbs[0] as Kysely<Database>,
      );
      assert.deepEqual(
        rows.map((r) => r.name),
        ['0001-initial'],
      );
      assert.deepEqual(await tables(dbs[1] as Kysely<Database>), TABLES);
    } finally {
      await Promise.all(dbs.map((db) => db.destroy()));
    }
  });

  it('keeps working across a PostgreSQL restart without being reopened', async () => {
    const { log, lines } = capturingLogger();
    const db = await openDatabase(await pg.createDatabase(), log);
    try {
      await migrateToLatest(db);
      await db.insertInto('users').values({ email: 'a@example.com', password_hash: 'h', role: 'user' }).execute();
      // Several pooled connections open, as under load.
      await Promise.all(Array.from({ length: 5 }, () => sql`select pg_sleep(0.05)`.execute(db)));
      const before = pg.pid;

      await pg.restart();
      assert.notEqual(pg.pid, before, 'a new server process');
      // The first query after the restart already succeeds: dead connections were dropped.
      const rows = await db.selectFrom('users').select('email').execute();
      assert.deepEqual(rows, [{ email: 'a@example.com' }]);
      await db.insertInto('users').values({ email: 'b@example.com', password_hash: 'h', role: 'user' }).execute();
      await pingDatabase(db);
      assert.ok(
        lines.some((l) => l.msg.startsWith('database connection lost') && l.err?.code === '57P01'),
        'the lost connections were logged, not thrown',
      );

      // While it is down, queries fail (the process does not crash) and /readyz says so quickly.
      await pg.shutdown();
      const t0 = Date.now();
      await assert.rejects(pingDatabase(db, 1500));
      assert.ok(Date.now() - t0 < 5000);
      await assert.rejects(db.selectFrom('users').select('email').execute(), /ECONNREFUSED|connect/);
      await pg.start();
      assert.equal((await db.selectFrom('users').select('email').execute()).length, 2);
    } finally {
      await pg.start();
      await db.destroy();
    }
  });

  it('nfc migrate up, status and down against the NFC_DATABASE_* environment', async () => {
    const config = await pg.createDatabase();
    const env = { ...pg.env, NFC_DATABASE_NAME: config.database };
    let r = await nfc(['migrate', 'status'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /0001-initial\s+pending/);
    r = await nfc(['migrate'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /applied 0001-initial/);
    r = await nfc(['migrate', 'status'], env);
    assert.match(r.stdout, /0001-initial\s+applied \d{4}-/);
    assert.match(r.stdout, /1 applied, 0 pending/);
    r = await nfc(['migrate', 'down', '--steps', '1'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /reverted 0001-initial/);

    // The failures, side by side (each start of the CLI takes seconds).
    const [wrongPassword, badAction, badEnv] = await Promise.all([
      nfc(['migrate'], { ...env, NFC_DATABASE_PASSWORD: 'wrong' }),
      nfc(['migrate', 'sideways'], env),
      nfc(['migrate'], { NFC_DATABASE_PORT: 'x' }),
    ]);
    assert.equal(wrongPassword.code, 1);
    assert.match(wrongPassword.stderr, /password authentication failed/);
    assert.doesNotMatch(wrongPassword.stderr, /internal error|\n\s+at /, 'one line, no stack trace');
    assert.equal(badAction.code, 2);
    assert.match(badAction.stderr, /unknown migrate action "sideways"/);
    assert.equal(badEnv.code, 2);
    assert.match(badEnv.stderr, /NFC_DATABASE_HOST is required.*NFC_DATABASE_PORT must be an integer/);
  });
});

describe('database on embedded PGlite', { timeout: 180_000 }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nfc-pglite-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('migrates up, round-trips every table, down to nothing and up again; data persists across reopening', async () => {
    const config: DatabaseConfig = { kind: 'pglite', dataDir: join(dir, 'db') };
    let db = await openDatabase(config, quiet);
    try {
      await upDownUp(db);
      await db.insertInto('users').values({ email: 'kept@example.com', password_hash: 'h', role: 'user' }).execute();
      // Open in this process: a second opener (another `nfc serve`) is refused, not let in to corrupt it.
      await assert.rejects(openDatabase(config, quiet), { code: 'DATABASE_LOCKED' });
    } finally {
      await db.destroy();
    }
    db = await openDatabase(config, quiet);
    try {
      assert.deepEqual(await migrateToLatest(db), []);
      assert.deepEqual(await db.selectFrom('users').select('email').execute(), [{ email: 'kept@example.com' }]);
      // Concurrent migrators in one process are serialised by the single connection.
      assert.deepEqual((await Promise.all([migrateDown(db), migrateDown(db)])).flat(), ['0001-initial']);
      assert.deepEqual((await Promise.all([migrateToLatest(db), migrateToLatest(db)])).flat(), ['0001-initial']);
      await pingDatabase(db);
    } finally {
      await db.destroy();
    }
  });

  it('nfc migrate --data DIR keeps the embedded database in DIR/db', async () => {
    const data = join(dir, 'serve');
    let r = await nfc(['migrate', 'up', '--data', data], {});
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /applied 0001-initial/);
    assert.match(r.stdout, new RegExp(`${join(data, 'db')}: up to date`));
    r = await nfc(['migrate', 'status', '--data', data], {});
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /0001-initial\s+applied/);

    // While a server (here: this process) has it open, another process is kept out.
    const db = await openDatabase(embeddedDatabaseConfig(data), quiet);
    try {
      r = await nfc(['migrate', 'down', '--data', data], {});
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`in use by process ${process.pid}`));
      assert.deepEqual(await tables(db), TABLES, 'nothing reverted');
    } finally {
      await db.destroy();
    }
  });
});

function nfc(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(REPO_ROOT, 'bin/nfc'), args, {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
