/**
 * Opens the API's database as a `Kysely<Database>`: a pooled connection to PostgreSQL, or an
 * embedded PGlite persisted in a directory. Both return the same types: bigint as number,
 * timestamptz as Date, jsonb parsed. `db.destroy()` closes it (pool ended, PGlite shut down
 * and its directory unlocked).
 */
import { readFileSync } from 'node:fs';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Logger } from '../logging.js';
import type { DatabaseConfig, PostgresConfig } from './config.js';
import type { Database } from './schema.js';

const INT8_OID = 20;
/** Byte counts and count(*) fit well within 2^53; a number is what the API's JSON carries anyway. */
const parseInt8 = (value: string): number => Number(value);

/** Opens (and for PGlite, creates) the database; no migrations are run here (see migrate.ts). */
export async function openDatabase(config: DatabaseConfig, log: Logger): Promise<Kysely<Database>> {
  if (config.kind === 'postgres') return openPostgres(config, log);
  // Loaded only for the embedded database: PGlite costs ~20 MB of resident memory on import,
  // which an API or worker on PostgreSQL would carry for nothing.
  const { openPglite } = await import('./pglite-database.js');
  return openPglite(config, log);
}

function openPostgres(config: PostgresConfig, log: Logger): Kysely<Database> {
  const pool = new pg.Pool({
    host: config.host,
    port: config.port,
    database: config.database,
    user: config.user,
    ...(config.password !== undefined ? { password: config.password } : {}),
    ssl: sslOptions(config),
    max: config.poolMax ?? 10,
    connectionTimeoutMillis: config.connectionTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    statement_timeout: config.statementTimeoutMs ?? 30_000,
    // A half-open TCP connection (server host gone) is noticed instead of hanging a request.
    keepAlive: true,
    application_name: 'nfc',
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID && format !== 'binary'
          ? parseInt8
          : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // A server restart or a dropped connection surfaces as an 'error' on the pool (idle clients)
  // or on a checked-out client between queries. Unhandled, either would crash the process;
  // the broken client is discarded and the next query opens a new connection.
  pool.on('error', (err) => log.warn({ err }, 'database connection lost (idle)'));
  pool.on('connect', (client) => {
    client.on('error', (err) => log.warn({ err }, 'database connection lost'));
  });
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

function sslOptions(config: PostgresConfig): pg.PoolConfig['ssl'] {
  switch (config.sslmode) {
    case 'disable':
      return false;
    case 'require':
      return { rejectUnauthorized: false };
    case 'verify-full':
      return {
        rejectUnauthorized: true,
        ...(config.sslRootCert !== undefined ? { ca: readFileSync(config.sslRootCert, 'utf8') } : {}),
      };
  }
}

/**
 * For /readyz: one round trip, failing after `timeoutMs` (default 2000) rather than waiting for
 * the pool's connection timeout.
 */
export async function pingDatabase(db: Kysely<Database>, timeoutMs = 2000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          Object.assign(new Error(`database did not answer within ${timeoutMs} ms`), { code: 'DATABASE_TIMEOUT' }),
        ),
      timeoutMs,
    );
  });
  try {
    await Promise.race([sql`select 1`.execute(db), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A jsonb parameter: pg turns a JS array into a Postgres array literal, not JSON, so values
 * that may be arrays (or are unknown) go in as their JSON text.
 */
export function jsonb(value: unknown): string {
  return JSON.stringify(value);
}
