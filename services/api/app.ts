/**
 * The Fastify app: plugins (security headers, CORS, rate limit, load shedding, multipart,
 * OpenAPI + Swagger UI at /docs), one error handler, and the route plugins. Built from an
 * ApiContext so tests can build it over their own database, store and dispatcher and call
 * `app.inject()`; `server.ts` builds it for `nfc serve`.
 */
import { randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import underPressure from '@fastify/under-pressure';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from '../platform/logging.js';
import { analysisEventsRoute } from './analyses/events-route.js';
import { analysisRoutes } from './analyses/routes.js';
import { authPlugin, bearerSecurityScheme } from './auth/plugin.js';
import { authRoutes } from './auth/routes.js';
import type { TokenService } from './auth/tokens.js';
import type { ApiContext } from './context.js';
import { errorHandler, notFoundHandler } from './error-handler.js';
import { answerMethodNotAllowed } from './method-not-allowed.js';
import { diskObjectRoutes } from './objects/routes.js';
import { createApiMetrics } from './ops/metrics.js';
import { opsRoutes } from './ops/routes.js';
import { uploadRoutes } from './uploads/routes.js';
import { createValidatorCompiler } from './validation.js';

export const API_VERSION = '1.0.0';

export interface BuildAppOptions {
  log: Logger;
  tokens: TokenService;
  /** Shared rate-limit counters across replicas; in memory when absent. */
  redis?: Redis;
  /** Set when objects live on disk: the API serves their signed URLs. */
  diskObjects?: { signingSecret: string };
}

export async function buildApp(ctx: ApiContext, options: BuildAppOptions): Promise<FastifyInstance> {
  const { config } = ctx;
  const app = Fastify({
    loggerInstance: options.log,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
    },
    // Uploads are streams (multipart); JSON bodies are small.
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // Ajv: unknown properties refused, not dropped; query strings coerced, JSON bodies not.
  app.setValidatorCompiler(createValidatorCompiler());
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  answerMethodNotAllowed(app as unknown as FastifyInstance);
  const registry = createApiMetrics(app as unknown as FastifyInstance);

  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
      },
    },
  });
  if (config.http.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: config.http.corsOrigins.includes('*') ? true : [...config.http.corsOrigins],
      exposedHeaders: ['x-request-id', 'idempotent-replayed', 'retry-after'],
      allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'last-event-id', 'x-request-id'],
      maxAge: 600,
    });
  }
  await app.register(underPressure, {
    maxEventLoopDelay: config.http.maxEventLoopDelayMs,
    retryAfter: 5,
    pressureHandler: (_request, reply, type, value) => {
      reply
        .code(503)
        .header('retry-after', '5')
        .send({
          error: { code: 'OVERLOADED', message: `the server is overloaded (${type}: ${value}); retry shortly` },
        });
    },
  });
  await app.register(rateLimit, {
    max: config.http.rateLimitPerMinute,
    timeWindow: 60_000,
    ...(options.redis ? { redis: options.redis, nameSpace: 'nfc-rate-limit:', skipOnError: true } : {}),
    // Per client: the bearer token when there is one (a user behind a shared NAT is not
    // throttled with everyone else), else the address.
    keyGenerator: (request) => {
      const auth = request.headers.authorization;
      return typeof auth === 'string' && auth.length > 20 ? `t:${auth.slice(-24)}` : `ip:${request.ip}`;
    },
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      error: { code: 'RATE_LIMITED', message: `too many requests; retry in ${Math.ceil(context.ttl / 1000)} s` },
    }),
  });
  await app.register(multipart, { limits: { fileSize: config.uploads.maxBytes, files: 1 } });
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'NutriFitCoach Video Analysis API',
        version: API_VERSION,
        description:
          'Upload an exercise video, follow its analysis live, read the coach report. Authenticate with POST /v1/auth/login and send `Authorization: Bearer <token>`.',
      },
      components: { securitySchemes: { ...bearerSecurityScheme } },
      tags: [
        { name: 'auth', description: 'Accounts and access tokens' },
        { name: 'uploads', description: 'Videos in' },
        { name: 'analyses', description: 'Analyses, reports, live progress' },
        { name: 'operations', description: 'Health and readiness' },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });

  await app.register(authPlugin, {
    db: ctx.db,
    tokens: options.tokens,
    adminEmails: config.auth.adminEmails,
  });
  await app.register(authRoutes);
  await app.register(uploadRoutes, ctx);
  await app.register(analysisRoutes, ctx);
  await app.register(analysisEventsRoute, ctx);
  await app.register(opsRoutes, { ...ctx, registry });
  if (options.diskObjects) {
    await app.register(diskObjectRoutes, {
      storage: ctx.storage,
      signingSecret: options.diskObjects.signingSecret,
      maxBytes: config.uploads.maxBytes,
    });
  }
  return app as unknown as FastifyInstance;
}
