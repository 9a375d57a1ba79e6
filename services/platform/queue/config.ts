/**
 * Where Redis is (the BullMQ queue of the `queue` dispatch mode), from the environment:
 * NFC_REDIS_HOST (default 127.0.0.1), NFC_REDIS_PORT (6379), NFC_REDIS_USERNAME and
 * NFC_REDIS_PASSWORD (optional, Redis ACL), NFC_REDIS_TLS (true | false, default false),
 * NFC_REDIS_DB (0). Every problem is reported at once.
 */
export interface RedisConfig {
  host: string;
  port: number;
  username?: string;
  password?: string;
  /** TLS to the server (managed Redis); the system's CAs verify it. */
  tls: boolean;
  db: number;
}

/** A setting that can never work (the message lists every problem). */
export class RedisConfigError extends Error {
  override readonly name = 'RedisConfigError';
  readonly code = 'REDIS_CONFIG';
}

/** Reads and checks the Redis settings; throws one RedisConfigError listing every problem. */
export function redisConfigFromEnv(env: NodeJS.ProcessEnv): RedisConfig {
  const problems: string[] = [];
  const host = env.NFC_REDIS_HOST?.trim() || '127.0.0.1';
  if (/[\s/]/.test(host)) problems.push(`NFC_REDIS_HOST must be a host name or address (got "${host}")`);
  const port = integer(env.NFC_REDIS_PORT, 6379);
  if (!(Number.isInteger(port) && port >= 1 && port <= 65535)) {
    problems.push(`NFC_REDIS_PORT must be an integer from 1 to 65535 (got "${env.NFC_REDIS_PORT}")`);
  }
  const db = integer(env.NFC_REDIS_DB, 0);
  if (!(Number.isInteger(db) && db >= 0 && db <= 15)) {
    problems.push(`NFC_REDIS_DB must be an integer from 0 to 15 (got "${env.NFC_REDIS_DB}")`);
  }
  const tls = env.NFC_REDIS_TLS?.trim().toLowerCase() || 'false';
  if (tls !== 'true' && tls !== 'false') {
    problems.push(`NFC_REDIS_TLS must be true or false (got "${env.NFC_REDIS_TLS}")`);
  }
  const username = env.NFC_REDIS_USERNAME?.trim() || undefined;
  const password = env.NFC_REDIS_PASSWORD || undefined;
  if (username && !password) problems.push('NFC_REDIS_USERNAME needs NFC_REDIS_PASSWORD');
  if (problems.length > 0) throw new RedisConfigError(`invalid Redis settings: ${problems.join('; ')}`);
  return Object.freeze({
    host,
    port,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    tls: tls === 'true',
    db,
  });
}

function integer(value: string | undefined, fallback: number): number {
  return value?.trim() ? Number(value) : fallback;
}
