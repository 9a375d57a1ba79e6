/**
 * /v1/analyses: create one from an upload, list, read, the report and its files, cancel,
 * delete. Live progress is in events-route.ts.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type as T } from '@sinclair/typebox';
import { type ApiContext, viewerOf } from '../context.js';
import { errors } from '../errors.js';
import { withIdempotency } from '../idempotency.js';
import {
  AnalysisListQuery,
  AnalysisListSchema,
  AnalysisViewSchema,
  ArtifactsSchema,
  CreateAnalysisBody,
  IdParams,
} from '../schemas/analysis.js';
import { errorResponses } from '../schemas/error.js';
import { findUpload } from '../uploads/repository.js';
import { deleteAnalysis, findAnalysis, insertAnalysis, listAnalyses, markCancelled } from './repository.js';
import { toAnalysisView } from './view.js';

export const analysisRoutes: FastifyPluginAsyncTypebox<ApiContext> = async (app, ctx) => {
  const { db, storage, dispatcher, config, bus } = ctx;
  const secured = { tags: ['analyses'], security: [{ bearerAuth: [] }] };
  app.addHook('preHandler', ctx.authenticate);

  app.post(
    '/v1/analyses',
    {
      schema: {
        ...secured,
        summary: 'Start analysing an upload',
        headers: T.Object({ 'idempotency-key': T.Optional(T.String({ minLength: 1, maxLength: 255 })) }),
        body: CreateAnalysisBody,
        response: { 201: AnalysisViewSchema, ...errorResponses(400, 401, 404, 409, 422, 503) },
      },
    },
    async (request, reply) => {
      const viewer = viewerOf(request);
      return withIdempotency(db, request, reply, viewer, async () => {
        const { uploadId, exercise = 'auto', fps = 15 } = request.body;
        const upload = await findUpload(db, uploadId, viewer);
        if (!upload) throw errors.notFound('upload');
        if (upload.status !== 'ready') {
          throw errors.conflict('UPLOAD_NOT_READY', 'the upload has not been completed and validated yet');
        }
        const id = randomUUID();
        const row = await insertAnalysis(db, {
          id,
          user_id: upload.user_id,
          upload_id: upload.id,
          exercise,
          fps,
          options: JSON.stringify({}),
          status: 'queued',
          dispatch: dispatcher.mode,
          resource: dispatcher.resourceOf?.(id) ?? null,
          attempts: 0,
        });
        try {
          await dispatcher.submit({
            analysisId: id,
            source: { bucket: upload.bucket, key: upload.key },
            exercise,
            fps,
            output: { bucket: config.storage.resultsBucket, prefix: outputPrefix(id) },
            gpu: config.kubernetes.gpu,
          });
        } catch (err) {
          request.log.error({ err, analysis: id }, 'dispatch failed');
          await deleteAnalysis(db, id);
          throw errors.unavailable('the analysis could not be started right now; retry in a moment');
        }
        return { status: 201, body: toAnalysisView(row) };
      });
    },
  );

  app.get(
    '/v1/analyses',
    {
      schema: {
        ...secured,
        summary: 'List your analyses, newest first',
        querystring: AnalysisListQuery,
        response: { 200: AnalysisListSchema, ...errorResponses(400, 401) },
      },
    },
    async (request) => {
      const page = await listAnalyses(db, viewerOf(request), request.query);
      return { items: page.items.map(toAnalysisView), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/v1/analyses/:id',
    {
      schema: {
        ...secured,
        summary: 'One analysis: status, progress, summary',
        params: IdParams,
        response: { 200: AnalysisViewSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const row = await findAnalysis(db, request.params.id, viewerOf(request));
      if (!row) throw errors.notFound('analysis');
      return toAnalysisView(row);
    },
  );

  app.get(
    '/v1/analyses/:id/report',
    {
      schema: {
        ...secured,
        summary: 'The full report (JSON, versioned; see docs/report.schema.json)',
        params: IdParams,
        response: {
          200: T.Object({}, { additionalProperties: true, description: 'The report document.' }),
          ...errorResponses(400, 401, 404, 409),
        },
      },
    },
    async (request, reply) => {
      const row = await findAnalysis(db, request.params.id, viewerOf(request));
      if (!row) throw errors.notFound('analysis');
      const results = resultsOf(row.results);
      if (row.status !== 'succeeded' || !results) {
        throw errors.conflict('REPORT_NOT_READY', `the analysis is ${row.status}; the report exists once it succeeded`);
      }
      const { body } = await storage.getStream(results.bucket, results.report);
      // Streamed as stored: the serializer would otherwise parse and re-encode a large document.
      return reply
        .type('application/json')
        .serializer((x: unknown) => x as string)
        .send(body);
    },
  );

  app.get(
    '/v1/analyses/:id/artifacts',
    {
      schema: {
        ...secured,
        summary: 'Presigned URLs of the report, frames.csv and the thumbnails',
        params: IdParams,
        response: { 200: ArtifactsSchema, ...errorResponses(400, 401, 404, 409) },
      },
    },
    async (request) => {
      const row = await findAnalysis(db, request.params.id, viewerOf(request));
      if (!row) throw errors.notFound('analysis');
      const results = resultsOf(row.results);
      if (row.status !== 'succeeded' || !results) {
        throw errors.conflict('REPORT_NOT_READY', `the analysis is ${row.status}; its files exist once it succeeded`);
      }
      const expiresSeconds = config.uploads.presignSeconds;
      const sign = (key: string, filename?: string) =>
        storage.presignGet(results.bucket, key, { expiresSeconds, ...(filename ? { filename } : {}) });
      const [report, csv, ...thumbs] = await Promise.all([
        sign(results.report, 'report.json'),
        sign(results.framesCsv, 'frames.csv'),
        ...results.thumbnails.map((k) => sign(k)),
      ]);
      return {
        report: report.url,
        framesCsv: csv.url,
        thumbnails: thumbs.map((t) => t.url),
        expiresAt: report.expiresAt,
      };
    },
  );

  app.post(
    '/v1/analyses/:id/cancel',
    {
      schema: {
        ...secured,
        summary: 'Stop an analysis that has not finished (a finished one is returned unchanged)',
        params: IdParams,
        response: { 200: AnalysisViewSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const row = await findAnalysis(db, request.params.id, viewerOf(request));
      if (!row) throw errors.notFound('analysis');
      await dispatcher.cancel(row.id);
      const after = (await markCancelled(db, row.id)) ?? row;
      const view = toAnalysisView(after);
      bus.publish(view);
      return view;
    },
  );

  app.delete(
    '/v1/analyses/:id',
    {
      schema: {
        ...secured,
        summary: 'Cancel if running, then delete the analysis and its files',
        params: IdParams,
        response: { 204: T.Null({ description: 'Deleted.' }), ...errorResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const row = await findAnalysis(db, request.params.id, viewerOf(request));
      if (!row) throw errors.notFound('analysis');
      await dispatcher.cancel(row.id);
      const results = resultsOf(row.results);
      await storage.deletePrefix(
        results?.bucket ?? config.storage.resultsBucket,
        results?.prefix ?? outputPrefix(row.id),
      );
      await deleteAnalysis(db, row.id);
      bus.publish({ ...toAnalysisView(row), status: 'cancelled', message: 'deleted' });
      return reply.code(204).send(null);
    },
  );
};

/** Where an analysis' files go: one prefix per analysis, so deleting it is one prefix delete. */
export function outputPrefix(analysisId: string): string {
  return `analyses/${analysisId}/`;
}

interface StoredResults {
  bucket: string;
  prefix: string;
  report: string;
  framesCsv: string;
  thumbnails: string[];
}

function resultsOf(value: unknown): StoredResults | undefined {
  const r = value as Partial<StoredResults> | null;
  if (!r || typeof r.bucket !== 'string' || typeof r.report !== 'string') return undefined;
  return {
    bucket: r.bucket,
    prefix: r.prefix ?? '',
    report: r.report,
    framesCsv: r.framesCsv ?? `${r.prefix ?? ''}frames.csv`,
    thumbnails: Array.isArray(r.thumbnails) ? r.thumbnails : [],
  };
}
