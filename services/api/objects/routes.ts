/**
 * /v1/objects/:bucket/*: the presigned URLs of the embedded disk store (`nfc serve`). The URL's
 * signature is the credential (as with S3's presigned URLs), so no access token is needed.
 * Registered only when objects are on disk.
 */
import type { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { contentDisposition } from '../../platform/object-store/content-disposition.js';
import { type DiskObjectGrant, verifyDiskObjectSignature } from '../../platform/object-store/disk-signature.js';
import type { ObjectStorage } from '../../platform/object-store/storage.js';
import { ApiError, errors } from '../errors.js';

export interface ObjectRoutesOptions {
  storage: ObjectStorage;
  signingSecret: string;
  maxBytes: number;
}

export const diskObjectRoutes: FastifyPluginAsync<ObjectRoutesOptions> = async (app, options) => {
  const { storage, signingSecret, maxBytes } = options;
  // Raw bodies for the presigned PUT: streamed to the store, not parsed.
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  app.get<{ Params: { bucket: string; '*': string }; Querystring: Record<string, string> }>(
    '/v1/objects/:bucket/*',
    { schema: { hide: true } },
    async (request, reply) => {
      const { bucket } = request.params;
      const key = request.params['*'];
      const grant = check('GET', bucket, key, request.query, signingSecret);
      const { body, info } = await storage.getStream(bucket, key).catch((err: unknown) => {
        throw (err as { code?: string }).code === 'NoSuchKey' ? errors.notFound('object') : err;
      });
      reply.header('content-length', info.size).type(info.contentType ?? 'application/octet-stream');
      if (grant.filename) reply.header('content-disposition', contentDisposition(grant.filename));
      return reply.send(body);
    },
  );

  app.put<{ Params: { bucket: string; '*': string }; Querystring: Record<string, string> }>(
    '/v1/objects/:bucket/*',
    { schema: { hide: true }, bodyLimit: maxBytes },
    async (request, reply) => {
      const { bucket } = request.params;
      const key = request.params['*'];
      const contentType = request.headers['content-type'] ?? '';
      const grant = check('PUT', bucket, key, request.query, signingSecret, contentType);
      const cap = Math.min(maxBytes, grant.maxBytes ?? maxBytes);
      // A declared size over the cap is refused before a byte is read, with an answer the client
      // can show; a body that only turns out too big while streaming is cut off (and not kept).
      const declared = Number(request.headers['content-length']);
      if (Number.isFinite(declared) && declared > cap) throw errors.tooLarge(cap);
      await storage.putStream(bucket, key, request.body as Readable, { contentType, maxBytes: cap });
      return reply.code(200).send();
    },
  );
};

function check(
  method: 'GET' | 'PUT',
  bucket: string,
  key: string,
  query: Record<string, string>,
  secret: string,
  contentType?: string,
): DiskObjectGrant {
  const verdict = verifyDiskObjectSignature(secret, { method, bucket, key, query, contentType });
  if (!verdict.ok) throw new ApiError(403, verdict.code, `this link is not valid: ${verdict.message}`);
  return verdict.grant;
}
