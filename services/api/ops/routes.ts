/**
 * /healthz (the process serves requests), /readyz (what this mode depends on answers: the
 * database, the object store, and the dispatcher's own dependency — Redis or the Kubernetes
 * API), /metrics (Prometheus).
 */
import { Type as T } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { sql } from 'kysely';
import type { Registry } from 'prom-client';
import type { ApiContext } from '../context.js';

const CHECK_TIMEOUT_MS = 2_000;

const ReadyResponse = T.Object({
  status: T.Union([T.Literal('ready'), T.Literal('not-ready')]),
  checks: T.Record(T.String(), T.Object({ ok: T.Boolean(), ms: T.Integer(), error: T.Optional(T.String()) })),
});

export const opsRoutes: FastifyPluginAsync<ApiContext & { registry: Registry }> = async (app, ctx) => {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['operations'],
        security: [],
        summary: 'Liveness',
        response: { 200: T.Object({ status: T.Literal('ok') }) },
      },
      config: { rateLimit: false },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        security: [],
        summary: 'Readiness: every dependency of this mode answers',
        response: { 200: ReadyResponse, 503: ReadyResponse },
      },
      config: { rateLimit: false },
    },
    async (_request, reply) => {
      const checks: Record<string, () => Promise<unknown>> = {
        database: () => sql`select 1`.execute(ctx.db),
        objectStore: () => ctx.storage.ping(ctx.config.storage.videosBucket),
        [ctx.dispatcher.mode === 'kubernetes'
          ? 'kubernetes'
          : ctx.dispatcher.mode === 'queue'
            ? 'redis'
            : 'dispatcher']: () => ctx.dispatcher.ready(),
        ...ctx.extraReadiness,
      };
      const results = Object.fromEntries(
        await Promise.all(Object.entries(checks).map(async ([name, check]) => [name, await timed(check)] as const)),
      );
      const ok = Object.values(results).every((r) => r.ok);
      return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not-ready', checks: results });
    },
  );

  app.get('/metrics', { schema: { hide: true }, config: { rateLimit: false } }, async (_request, reply) =>
    reply.type(ctx.registry.contentType).send(await ctx.registry.metrics()),
  );
};

async function timed(check: () => Promise<unknown>): Promise<{ ok: boolean; ms: number; error?: string }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { ok: true, ms: Math.round(performance.now() - started) };
  } catch (err) {
    return {
      ok: false,
      ms: Math.round(performance.now() - started),
      error: (err as Error).message.split('\n')[0] ?? 'failed',
    };
  } finally {
    clearTimeout(timer);
  }
}
