/**
 * GET /v1/analyses/:id/events: live progress as server-sent events. The first event is the
 * analysis as it is now; then one `analysis` event per change, until it finishes (the stream
 * then ends) or the client goes away. Comment lines keep idle connections open through proxies.
 */
import { PassThrough } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type as T } from '@sinclair/typebox';
import { TERMINAL_STATUSES } from '../../platform/db/schema.js';
import { type ApiContext, viewerOf } from '../context.js';
import { errors } from '../errors.js';
import { AnalysisViewSchema, IdParams } from '../schemas/analysis.js';
import { errorResponses } from '../schemas/error.js';
import { findAnalysis } from './repository.js';
import { type AnalysisView, toAnalysisView } from './view.js';

/** One event of the stream (OpenAPI 3.0 has the schema of a text/event-stream describe each event). */
const AnalysisEvent = T.Object({
  event: T.Literal('analysis'),
  id: T.String({ pattern: '^[0-9]+$', description: 'When the analysis last changed (ms since the epoch).' }),
  data: T.String({
    description: 'The analysis, as GET /v1/analyses/{id} returns it, in JSON.',
    contentMediaType: 'application/json',
    contentSchema: AnalysisViewSchema,
  }),
  retry: T.Optional(T.Integer({ minimum: 0, description: 'Reconnection delay (ms).' })),
});

export const analysisEventsRoute: FastifyPluginAsyncTypebox<ApiContext> = async (app, ctx) => {
  app.addHook('preHandler', ctx.authenticate);
  app.get(
    '/v1/analyses/:id/events',
    {
      schema: {
        tags: ['analyses'],
        security: [{ bearerAuth: [] }],
        summary: 'Follow an analysis live (text/event-stream; event "analysis", data: the analysis as JSON)',
        params: IdParams,
        response: {
          // The stream is text/event-stream; the errors are JSON like everywhere else.
          200: {
            description: 'A stream of `event: analysis` messages; ends when the analysis finishes.',
            content: { 'text/event-stream': { schema: AnalysisEvent } },
          },
          ...errorResponses(400, 401, 404),
        },
      },
    },
    async (request, reply) => {
      const viewer = viewerOf(request);
      const row = await findAnalysis(ctx.db, request.params.id, viewer);
      if (!row) throw errors.notFound('analysis');

      const stream = new PassThrough();
      let lastSent = '';
      let ended = false;
      const send = (view: AnalysisView) => {
        if (ended) return;
        const data = JSON.stringify(view);
        if (data === lastSent) return; // the same state from another source (replicas, retries)
        lastSent = data;
        stream.write(`event: analysis\nid: ${Date.parse(view.updatedAt)}\ndata: ${data}\n\n`);
        if (TERMINAL_STATUSES.includes(view.status)) end();
      };
      const keepAlive = setInterval(() => stream.write(': keep-alive\n\n'), ctx.config.http.sseKeepAliveSeconds * 1000);
      const unsubscribe = ctx.bus.subscribe(row.id, send);
      const end = () => {
        if (ended) return;
        ended = true;
        clearInterval(keepAlive);
        unsubscribe();
        stream.end();
      };
      request.raw.once('close', end);

      reply
        .header('content-type', 'text/event-stream; charset=utf-8')
        .header('cache-control', 'no-cache, no-transform')
        .header('x-accel-buffering', 'no');
      stream.write('retry: 2000\n\n');
      // Subscribed before this read, so a change in between is not missed (at worst sent twice).
      const fresh = await findAnalysis(ctx.db, row.id, viewer);
      send(toAnalysisView(fresh ?? row));
      // Streams are sent as they are: the 200 schema above only documents the format.
      return reply.send(stream as never);
    },
  );
};
