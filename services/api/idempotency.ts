/**
 * `Idempotency-Key` for the POSTs that create something (uploads, analyses): the first request
 * with a key runs and its response is stored; the same request sent again with that key gets
 * the stored response (header `Idempotent-Replayed: true`) instead of creating a second one.
 * A key reused for a different request is refused (422), and a retry that arrives while the
 * first is still running gets 409. A request that fails does not keep its key, so it can be
 * retried. Keys are per user and kept for 24 hours.
 */
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../platform/db/schema.js';
import type { Viewer } from './analyses/repository.js';
import { errors } from './errors.js';

const RETENTION_MS = 24 * 3600 * 1000;
/**
 * A claim still without an answer after this long was left by a process that stopped mid-request
 * (a crash, a redeploy): a retry may take it over instead of hearing "in flight" for a day. Long
 * enough for the slowest upload we accept to finish.
 */
const ABANDONED_MS = 30 * 60 * 1000;

export interface Created<B> {
  status: number;
  body: B;
}

export async function withIdempotency<B>(
  db: Kysely<Database>,
  request: FastifyRequest,
  reply: FastifyReply,
  viewer: Viewer,
  run: () => Promise<Created<B>>,
): Promise<B> {
  const key = headerValue(request.headers['idempotency-key']);
  if (key === undefined) return send(reply, await run());
  if (key.length === 0 || key.length > 255) throw errors.validation('Idempotency-Key must be 1 to 255 characters');

  const fingerprint = fingerprintOf(request);
  await db
    .deleteFrom('idempotency_keys')
    .where('user_id', '=', viewer.id)
    .where('key', '=', key)
    .where('created_at', '<', new Date(Date.now() - RETENTION_MS))
    .execute();
  const claimed = await db
    .insertInto('idempotency_keys')
    .values({ user_id: viewer.id, key, fingerprint, status_code: null, response: null })
    .onConflict((oc) => oc.columns(['user_id', 'key']).doNothing())
    .returning('key')
    .executeTakeFirst();
  if (!claimed) {
    const stored = await db
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('user_id', '=', viewer.id)
      .where('key', '=', key)
      .executeTakeFirst();
    if (!stored) throw errors.idempotencyInFlight();
    if (stored.fingerprint !== fingerprint) throw errors.idempotencyMismatch();
    if (stored.status_code !== null) {
      reply.header('idempotent-replayed', 'true');
      return send(reply, { status: stored.status_code, body: stored.response as B });
    }
    // Only one retry wins the takeover: the first to remove the stale claim, then to claim anew.
    const stale = await db
      .deleteFrom('idempotency_keys')
      .where('user_id', '=', viewer.id)
      .where('key', '=', key)
      .where('status_code', 'is', null)
      .where('created_at', '<', new Date(Date.now() - ABANDONED_MS))
      .returning('key')
      .executeTakeFirst();
    const taken =
      stale &&
      (await db
        .insertInto('idempotency_keys')
        .values({ user_id: viewer.id, key, fingerprint, status_code: null, response: null })
        .onConflict((oc) => oc.columns(['user_id', 'key']).doNothing())
        .returning('key')
        .executeTakeFirst());
    if (!taken) throw errors.idempotencyInFlight();
  }
  try {
    const result = await run();
    await db
      .updateTable('idempotency_keys')
      .set({ status_code: result.status, response: JSON.stringify(result.body) })
      .where('user_id', '=', viewer.id)
      .where('key', '=', key)
      .execute();
    return send(reply, result);
  } catch (err) {
    await db.deleteFrom('idempotency_keys').where('user_id', '=', viewer.id).where('key', '=', key).execute();
    throw err;
  }
}

function send<B>(reply: FastifyReply, result: Created<B>): B {
  reply.code(result.status);
  return result.body;
}

/**
 * Method, route and JSON body. A multipart body is not read before the key is checked, so its
 * length stands in for it: a retry of the same file has the same length (a client's boundaries
 * are all one length), another file almost never does.
 */
function fingerprintOf(request: FastifyRequest): string {
  const body = request.isMultipart()
    ? `multipart ${request.headers['content-length'] ?? 'chunked'}`
    : JSON.stringify(request.body ?? null);
  return createHash('sha256')
    .update(`${request.method} ${request.routeOptions.url ?? request.url}\n${body}`)
    .digest('hex');
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
