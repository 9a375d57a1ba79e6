/**
 * The one place errors become responses: `{ error: { code, message, details? } }`. Our ApiErrors
 * keep their status and code; Fastify's own (validation, body too large, unsupported media
 * type…) keep their 4xx status with their code; an unreachable dependency is 503 (retry);
 * anything else is a 500 that says nothing of internals (the log has it, with the request id).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isApiError } from './errors.js';

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  '57P01',
  '57P03',
  '08006',
  '08001',
]);

export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (isApiError(error)) {
    if (error.statusCode >= 500) request.log.error({ err: error }, 'request failed');
    reply.code(error.statusCode).send({
      error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) },
    });
    return;
  }
  if (error.validation) {
    reply.code(400).send({
      error: {
        code: 'VALIDATION_FAILED',
        message: error.message,
        details: {
          context: error.validationContext,
          problems: error.validation.map((v) => ({ path: v.instancePath, message: v.message })),
        },
      },
    });
    return;
  }
  const status = error.statusCode ?? 500;
  if (status === 429) {
    reply.code(429).send(error);
    return;
  }
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    // No parser for this body's type: the same stable code as our own refusals.
    const type = String(request.headers['content-type'] ?? 'none').split(';')[0];
    reply.code(415).send({
      error: {
        code: 'UNSUPPORTED_MEDIA_TYPE',
        message: `${request.method} ${request.url.split('?')[0]} does not accept content type ${type}`,
      },
    });
    return;
  }
  if (status >= 400 && status < 500) {
    reply.code(status).send({ error: { code: error.code ?? 'BAD_REQUEST', message: error.message } });
    return;
  }
  if (isClientGone(error, request)) {
    // The client went away mid-request (its body stream failed with ECONNRESET): nobody reads
    // this answer, and no dependency is down.
    request.log.info({ err: error }, 'the client closed the connection before the answer');
    reply.code(499).send({ error: { code: 'CLIENT_CLOSED_REQUEST', message: 'the client closed the connection' } });
    return;
  }
  if (isUnavailable(error)) {
    request.log.warn({ err: error }, 'a dependency is unavailable');
    reply
      .header('retry-after', '5')
      .code(503)
      .send({
        error: { code: 'UNAVAILABLE', message: 'a service this request needs is unavailable; retry shortly' },
      });
    return;
  }
  request.log.error({ err: error }, 'request failed');
  reply.code(500).send({ error: { code: 'INTERNAL', message: `internal error (request ${request.id})` } });
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): void {
  reply
    .code(404)
    .send({ error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` } });
}

function isUnavailable(error: unknown): boolean {
  const e = error as { code?: unknown; kind?: unknown; name?: string; cause?: unknown };
  if (e.kind === 'transient') return true; // an ObjectStoreError a retry may fix
  if (typeof e.code === 'string' && UNAVAILABLE_CODES.has(e.code)) return true;
  if (e.name === 'AggregateError') return true; // every address of a dependency refused
  if (
    /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect/i.test(
      String((error as Error).message),
    )
  )
    return true;
  return e.cause !== undefined && e.cause !== error && isUnavailable(e.cause);
}

/** The request failed because its client went away (its body stream broke), not because of us. */
function isClientGone(error: FastifyError, request: FastifyRequest): boolean {
  if (!request.raw.aborted && request.raw.socket?.destroyed !== true) return false;
  const e = error as { code?: unknown; cause?: unknown; message?: string };
  return (
    e.code === 'ECONNRESET' ||
    e.code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    e.code === 'Aborted' ||
    e.code === 'BodyStreamFailed' ||
    e.message === 'aborted'
  );
}
