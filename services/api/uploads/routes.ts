/**
 * /v1/uploads: a multipart upload streamed through the API, or a presigned PUT straight to the
 * object store for large files (presign → PUT → complete). Either way the video is sniffed and
 * probed before the upload is `ready`, and a refused or interrupted upload leaves no object and
 * no row.
 */
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type as T } from '@sinclair/typebox';
import { type ApiContext, viewerOf } from '../context.js';
import { errors } from '../errors.js';
import { withIdempotency } from '../idempotency.js';
import { IdParams } from '../schemas/analysis.js';
import { errorResponses } from '../schemas/error.js';
import {
  MultipartUploadBody,
  PresignBody,
  PresignResponse,
  toUploadView,
  UploadViewSchema,
} from '../schemas/upload.js';
import { ingestStoredObject, ingestStream } from './ingest.js';
import { asMultipartRequestError } from './multipart-errors.js';
import { cleanFilename, uploadContentType, uploadKey } from './naming.js';
import { deleteUpload, findUpload, insertUpload, markUploadReady } from './repository.js';

/** Room for the multipart framing around the file. */
const MULTIPART_OVERHEAD = 64 * 1024;

export const uploadRoutes: FastifyPluginAsyncTypebox<ApiContext> = async (app, ctx) => {
  const { db, storage, config } = ctx;
  const bucket = config.storage.videosBucket;
  const maxBytes = config.uploads.maxBytes;
  const scratchDir = config.scratchDir ?? tmpdir();
  const secured = { tags: ['uploads'], security: [{ bearerAuth: [] }] };
  app.addHook('preHandler', ctx.authenticate);

  app.post(
    '/v1/uploads',
    {
      schema: {
        ...secured,
        summary: 'Upload a video (multipart/form-data, field "file")',
        consumes: ['multipart/form-data'],
        body: MultipartUploadBody,
        response: { 201: UploadViewSchema, ...errorResponses(400, 401, 409, 413, 415, 422, 503) },
      },
      // The body is a stream read below, not a parsed object: only the document uses its schema.
      validatorCompiler: () => () => true,
      // Refused before the body was read to its end: close the connection once answered, or the
      // unread rest (a multipart parser that stopped reading) stalls the next request sent on it.
      onError: async (request, reply) => {
        if (!request.raw.complete) reply.header('connection', 'close');
      },
    },
    async (request, reply) => {
      const viewer = viewerOf(request);
      const declared = Number(request.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes + MULTIPART_OVERHEAD) throw errors.tooLarge(maxBytes);
      if (!request.isMultipart()) {
        throw errors.unsupportedMediaType('send the video as multipart/form-data with a field named "file"');
      }
      return withIdempotency(db, request, reply, viewer, async () => {
        const part = await request.file({ limits: { fileSize: maxBytes, files: 1, fields: 8, fieldSize: 1024 } });
        if (part?.fieldname !== 'file') {
          throw errors.validation('the multipart body needs a field named "file" holding the video');
        }
        const id = randomUUID();
        const filename = cleanFilename(part.filename);
        const key = uploadKey(viewer.id, id, filename);
        const contentType = uploadContentType(filename, part.mimetype);
        // A client that goes away mid-upload aborts the store's upload (nothing is left behind).
        const aborted = new AbortController();
        const onClose = () => {
          if (!request.raw.complete) aborted.abort(new Error('the client closed the connection'));
        };
        request.raw.once('close', onClose);
        try {
          const ingested = await ingestStream(part.file, {
            storage,
            bucket,
            key,
            contentType,
            maxBytes,
            scratchDir,
            signal: aborted.signal,
            // @fastify/multipart marks a file cut at the size limit instead of failing it.
            truncated: () => part.file.truncated,
          });
          const row = await insertUpload(db, {
            id,
            user_id: viewer.id,
            status: 'ready',
            bucket,
            key,
            filename,
            content_type: contentType,
            bytes: ingested.bytes,
            media: JSON.stringify(ingested.media),
          }).catch(async (err: unknown) => {
            await storage.deleteObject(bucket, key).catch(() => undefined);
            throw err;
          });
          request.log.info({ upload: id, bytes: ingested.bytes }, 'upload stored');
          return { status: 201, body: toUploadView(row) };
        } finally {
          request.raw.off('close', onClose);
        }
      }).catch((err: unknown) => {
        throw asMultipartRequestError(err);
      });
    },
  );

  app.post(
    '/v1/uploads/presign',
    {
      schema: {
        ...secured,
        summary: 'Start a direct upload to the object store (presigned PUT); then call complete',
        body: PresignBody,
        response: { 201: PresignResponse, ...errorResponses(400, 401, 413) },
      },
    },
    async (request, reply) => {
      const viewer = viewerOf(request);
      const { filename: rawName, contentType, bytes } = request.body;
      if (bytes > maxBytes) throw errors.tooLarge(maxBytes);
      const id = randomUUID();
      const filename = cleanFilename(rawName);
      const key = uploadKey(viewer.id, id, filename);
      const put = await storage.presignPut(bucket, key, {
        expiresSeconds: config.uploads.presignSeconds,
        contentType,
        maxBytes,
      });
      const row = await insertUpload(db, {
        id,
        user_id: viewer.id,
        status: 'pending',
        bucket,
        key,
        filename,
        content_type: contentType,
        bytes,
        media: null,
      });
      reply.code(201);
      return {
        upload: toUploadView(row),
        put: { url: put.url, method: 'PUT' as const, headers: put.headers, expiresAt: put.expiresAt },
      };
    },
  );

  app.post(
    '/v1/uploads/:id/complete',
    {
      schema: {
        ...secured,
        summary: 'Validate a presigned upload once its PUT is done',
        params: IdParams,
        response: { 200: UploadViewSchema, ...errorResponses(400, 401, 404, 409, 413, 415, 422) },
      },
    },
    async (request) => {
      const upload = await findUpload(db, request.params.id, viewerOf(request));
      if (!upload) throw errors.notFound('upload');
      if (upload.status === 'ready') return toUploadView(upload);
      const info = await storage.head(upload.bucket, upload.key);
      if (!info) throw errors.conflict('UPLOAD_MISSING', 'nothing has been PUT to the presigned URL yet');
      try {
        const ingested = await ingestStoredObject({
          storage,
          bucket: upload.bucket,
          key: upload.key,
          maxBytes,
          scratchDir,
        });
        return toUploadView(await markUploadReady(db, upload.id, ingested));
      } catch (err) {
        // A refused video is gone from the store (ingest removed it): the row goes with it.
        if ((err as { statusCode?: number }).statusCode !== undefined) await deleteUpload(db, upload.id);
        throw err;
      }
    },
  );

  app.get(
    '/v1/uploads/:id',
    {
      schema: {
        ...secured,
        summary: 'One upload',
        params: IdParams,
        response: { 200: UploadViewSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const upload = await findUpload(db, request.params.id, viewerOf(request));
      if (!upload) throw errors.notFound('upload');
      return toUploadView(upload);
    },
  );

  app.delete(
    '/v1/uploads/:id',
    {
      schema: {
        ...secured,
        summary: 'Delete an upload and its video (analyses of it keep their reports)',
        params: IdParams,
        response: { 204: T.Null({ description: 'Deleted.' }), ...errorResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const upload = await findUpload(db, request.params.id, viewerOf(request));
      if (!upload) throw errors.notFound('upload');
      await storage.deleteObject(upload.bucket, upload.key);
      await deleteUpload(db, upload.id);
      return reply.code(204).send(null);
    },
  );
};
