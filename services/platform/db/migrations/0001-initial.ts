/**
 * The first schema: users, uploads, analyses and idempotency keys, exactly the tables of
 * ../schema.ts. A migration never changes once released: later changes are new files.
 */
import { type Kysely, sql } from 'kysely';

// Migrations see the database as it was when they were written, not as schema.ts says today.
// biome-ignore lint/suspicious/noExplicitAny: that is why the database type is not used here
type AnyDb = Kysely<any>;

const now = sql`now()`;
const uuid = sql`gen_random_uuid()`;

export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(uuid))
    // Lower-case enforced here, so a lookup by lower(input) always finds the one row.
    .addColumn('email', 'text', (c) => c.notNull().unique().check(sql`email = lower(email)`))
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull().defaultTo('user').check(sql`role in ('user', 'admin')`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .execute();

  await db.schema
    .createTable('uploads')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(uuid))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending').check(sql`status in ('pending', 'ready')`))
    .addColumn('bucket', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('filename', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('bytes', 'bigint', (c) => c.notNull().defaultTo(0).check(sql`bytes >= 0`))
    .addColumn('media', 'jsonb')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .execute();
  await db.schema
    .createIndex('uploads_user_created_idx')
    .on('uploads')
    .columns(['user_id', 'created_at desc'])
    .execute();

  await db.schema
    .createTable('analyses')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(uuid))
    .addColumn('user_id', 'uuid', (c) => c.references('users.id').onDelete('cascade'))
    .addColumn('upload_id', 'uuid', (c) => c.references('uploads.id').onDelete('set null'))
    .addColumn('exercise', 'text', (c) => c.notNull())
    .addColumn('fps', 'double precision', (c) => c.notNull())
    .addColumn('options', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('queued').check(sql`status in ('queued', 'running', 'succeeded', 'failed', 'cancelled')`),
    )
    .addColumn('dispatch', 'text', (c) => c.notNull().check(sql`dispatch in ('kubernetes', 'queue', 'inline')`))
    .addColumn('resource', 'text')
    .addColumn('frames_done', 'integer')
    .addColumn('frames_total', 'integer')
    .addColumn('summary', 'jsonb')
    .addColumn('results', 'jsonb')
    .addColumn('message', 'text')
    .addColumn('error_code', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('started_at', 'timestamptz')
    .addColumn('finished_at', 'timestamptz')
    .execute();
  // A user's list, newest first, paged by the cursor (created_at, id).
  await db.schema
    .createIndex('analyses_user_created_idx')
    .on('analyses')
    .columns(['user_id', 'created_at desc', 'id desc'])
    .execute();
  // The admin's list of everyone's analyses, same order.
  await db.schema.createIndex('analyses_created_idx').on('analyses').columns(['created_at desc', 'id desc']).execute();
  await db.schema.createIndex('analyses_status_idx').on('analyses').column('status').execute();
  // ON DELETE SET NULL from uploads scans by upload_id.
  await db.schema.createIndex('analyses_upload_idx').on('analyses').column('upload_id').execute();
  // One row per VideoAnalysis resource: the Kubernetes watch upserts on it.
  await db.schema
    .createIndex('analyses_resource_key')
    .on('analyses')
    .column('resource')
    .unique()
    .where(sql.ref('resource'), 'is not', null)
    .execute();

  await db.schema
    .createTable('idempotency_keys')
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('response', 'jsonb')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addPrimaryKeyConstraint('idempotency_keys_pkey', ['user_id', 'key'])
    .execute();
  // Expired keys are swept by age.
  await db.schema.createIndex('idempotency_keys_created_idx').on('idempotency_keys').column('created_at').execute();
}

export async function down(db: AnyDb): Promise<void> {
  for (const table of ['idempotency_keys', 'analyses', 'uploads', 'users']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
