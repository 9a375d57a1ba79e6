/**
 * Where the API's database is: a PostgreSQL server (NFC_DATABASE_* variables) or an embedded
 * PGlite kept in a directory (`nfc serve --data DIR`, inline dispatch).
 */
import { join } from 'node:path';

/** disable: plain TCP; require: TLS without checking the certificate; verify-full: TLS, certificate and host checked. */
export type SslMode = 'disable' | 'require' | 'verify-full';
export const SSL_MODES: readonly SslMode[] = ['disable', 'require', 'verify-full'];

export interface PostgresConfig {
  kind: 'postgres';
  host: string;
  port: number;
  database: string;
  user: string;
  password?: string;
  sslmode: SslMode;
  /** PEM file of the CA that signed the server's certificate (verify-full); unset: Node's CA list. */
  sslRootCert?: string;
  /** Connections per process (default 10). */
  poolMax?: number;
  /** How long to wait for a new connection before a query fails (default 5000 ms). */
  connectionTimeoutMs?: number;
  /** Server-side limit per statement (default 30000 ms; 0: none). */
  statementTimeoutMs?: number;
}

export interface PgliteConfig {
  kind: 'pglite';
  /** The directory PGlite keeps its cluster in; created when missing. */
  dataDir: string;
}

export type DatabaseConfig = PostgresConfig | PgliteConfig;

/** Thrown by {@link databaseConfigFromEnv}; the message lists every problem. */
export class DatabaseConfigError extends Error {
  readonly code = 'DATABASE_CONFIG';
  constructor(readonly problems: readonly string[]) {
    super(`invalid database settings: ${problems.join('; ')}`);
    this.name = 'DatabaseConfigError';
  }
}

/** The embedded database of `nfc serve --data DIR` (and `nfc migrate --data DIR`): DIR/db. */
export function embeddedDatabaseConfig(dataDir: string): PgliteConfig {
  return Object.freeze({ kind: 'pglite', dataDir: join(dataDir, 'db') });
}

/**
 * Reads NFC_DATABASE_HOST (required), NFC_DATABASE_PORT (5432), NFC_DATABASE_NAME (nfc),
 * NFC_DATABASE_USER (nfc), NFC_DATABASE_PASSWORD, NFC_DATABASE_SSLMODE (disable | require |
 * verify-full; default disable), NFC_DATABASE_SSLROOTCERT, NFC_DATABASE_POOL_MAX (10),
 * NFC_DATABASE_CONNECT_TIMEOUT_MS (5000), NFC_DATABASE_STATEMENT_TIMEOUT_MS (30000).
 * Throws one {@link DatabaseConfigError} listing every problem.
 */
export function databaseConfigFromEnv(env: NodeJS.ProcessEnv): PostgresConfig {
  const problems: string[] = [];
  const text = (name: string) => env[name]?.trim() || undefined;
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!(/^\d+$/.test(raw) && Number.isSafeInteger(n) && n >= min && n <= max)) {
      problems.push(`${name} must be an integer from ${min} to ${max} (got "${env[name]}")`);
      return fallback;
    }
    return n;
  };

  const host = text('NFC_DATABASE_HOST');
  if (host === undefined) problems.push('NFC_DATABASE_HOST is required (the PostgreSQL server)');
  const port = int('NFC_DATABASE_PORT', 5432, 1, 65535);
  const sslmode = (text('NFC_DATABASE_SSLMODE') ?? 'disable').toLowerCase();
  if (!(SSL_MODES as readonly string[]).includes(sslmode)) {
    problems.push(`NFC_DATABASE_SSLMODE must be one of ${SSL_MODES.join(', ')} (got "${env.NFC_DATABASE_SSLMODE}")`);
  }
  const sslRootCert = text('NFC_DATABASE_SSLROOTCERT');
  if (sslRootCert !== undefined && sslmode !== 'verify-full') {
    problems.push('NFC_DATABASE_SSLROOTCERT needs NFC_DATABASE_SSLMODE=verify-full');
  }
  const poolMax = int('NFC_DATABASE_POOL_MAX', 10, 1, 1000);
  const connectionTimeoutMs = int('NFC_DATABASE_CONNECT_TIMEOUT_MS', 5000, 1, 600_000);
  const statementTimeoutMs = int('NFC_DATABASE_STATEMENT_TIMEOUT_MS', 30_000, 0, 86_400_000);
  if (problems.length > 0) throw new DatabaseConfigError(problems);

  // Passwords may legitimately start or end with spaces: taken as given.
  const password = env.NFC_DATABASE_PASSWORD || undefined;
  return Object.freeze({
    kind: 'postgres',
    host: host as string,
    port,
    database: text('NFC_DATABASE_NAME') ?? 'nfc',
    user: text('NFC_DATABASE_USER') ?? 'nfc',
    ...(password !== undefined ? { password } : {}),
    sslmode: sslmode as SslMode,
    ...(sslRootCert !== undefined ? { sslRootCert } : {}),
    poolMax,
    connectionTimeoutMs,
    statementTimeoutMs,
  });
}
