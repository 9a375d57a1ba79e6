/**
 * What a malformed multipart body is to a client: a 400. @fastify/multipart reports too many
 * parts, files or fields as 413, but here they mean the body is not the documented shape (one
 * field "file" and a few small fields), not that it is large; the parser's own errors
 * (truncated body, bad part headers) carry no status and would otherwise be a 500. The file
 * over the size cap stays a 413 (it is handled where the file is read).
 */
import { errors } from '../errors.js';

const SHAPE_LIMITS = new Set(['FST_PARTS_LIMIT', 'FST_FILES_LIMIT', 'FST_FIELDS_LIMIT']);
/** busboy's messages (its errors have no code). */
const PARSER_MESSAGES =
  /^(Unexpected end of multipart data|.* terminated early due to unexpected end of multipart data|Multipart: Boundary not found|Malformed part header)$/;

/** The 400 to send instead of `err`, or `err` unchanged. */
export function asMultipartRequestError(err: unknown): unknown {
  const e = err as { code?: unknown; statusCode?: unknown; message?: unknown };
  if (typeof e?.code === 'string' && SHAPE_LIMITS.has(e.code)) {
    return errors.validation('the multipart body must hold one field named "file" and at most 8 small fields');
  }
  if (e?.statusCode === undefined && typeof e?.message === 'string' && PARSER_MESSAGES.test(e.message)) {
    return errors.validation(`malformed multipart body: ${e.message}`);
  }
  return err;
}
