/**
 * What the route plugins share: the process's connections and settings, built once by
 * server.ts (or by a test) and handed to buildApp.
 */
import type { FastifyRequest, preHandlerHookHandler } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../platform/db/schema.js';
import type { ObjectStorage } from '../platform/object-store/storage.js';
import type { Viewer } from './analyses/repository.js';
import type { AnalysisUpdateBus } from './analyses/update-bus.js';
import type { ApiConfig } from './config.js';
import type { Dispatcher } from './dispatch/dispatcher.js';
import { errors } from './errors.js';

export interface ApiContext {
  config: Readonly<ApiConfig>;
  db: Kysely<Database>;
  storage: ObjectStorage;
  dispatcher: Dispatcher;
  bus: AnalysisUpdateBus;
  /** preHandler that authenticates the request (sets request.user) or answers 401. */
  authenticate: preHandlerHookHandler;
  /** Checks that only matter in some modes (Redis for the rate limiter…), for /readyz. */
  extraReadiness?: Record<string, () => Promise<void>>;
}

/** The authenticated user of a request that passed `authenticate`. */
export function viewerOf(request: FastifyRequest): Viewer {
  const user = (request as FastifyRequest & { user?: Viewer }).user;
  if (!user) throw errors.unauthenticated();
  return { id: user.id, role: user.role };
}
