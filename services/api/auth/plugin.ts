/**
 * The auth plugin: reads `Authorization: Bearer <jwt>`, verifies it, and checks that the account
 * still exists (one primary-key lookup, which also picks up a role change at once instead of at
 * token expiry). Routes opt in with `preHandler: requireUser` or `requireAdmin`; `request.user` is
 * then set. Registered without encapsulation so every route of the app sees `app.auth`.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database, UserRole } from '../../platform/db/schema.js';
import { errors, isApiError } from '../errors.js';
import type { TokenService } from './tokens.js';

/** The caller, once authenticated. Role and email come from the database, not the token. */
export interface AuthUser {
  id: string;
  role: UserRole;
  email?: string;
}

export interface AuthPluginOptions {
  db: Kysely<Database>;
  tokens: TokenService;
  /** Emails that get the admin role (compared lower-cased). */
  adminEmails: readonly string[];
}

/** What the plugin puts on the app as `app.auth`, for the auth routes and the guards. */
export interface AuthContext {
  db: Kysely<Database>;
  tokens: TokenService;
  isAdminEmail(email: string): boolean;
  /** Authenticates a request from its Authorization header, or throws ApiError 401. */
  authenticate(request: FastifyRequest): Promise<AuthUser>;
}

declare module 'fastify' {
  interface FastifyInstance {
    auth: AuthContext;
  }
  interface FastifyRequest {
    /** Set by `requireUser` / `requireAdmin`; null on routes that do not require a user. */
    user: AuthUser | null;
  }
}

/** The OpenAPI security scheme name used by the routes; add `bearerSecurityScheme` to swagger. */
export const BEARER_SCHEME = 'bearerAuth';
export const bearerSecurityScheme = {
  [BEARER_SCHEME]: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
} as const;

// RFC 6750 §2.1: "Bearer" then a b64token. Tokens are a few hundred bytes; cap to refuse junk early.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;
const MAX_HEADER_LENGTH = 4096;

async function auth(app: FastifyInstance, options: AuthPluginOptions): Promise<void> {
  const { db, tokens } = options;
  const adminEmails = new Set(options.adminEmails.map((email) => email.trim().toLowerCase()));

  const context: AuthContext = {
    db,
    tokens,
    isAdminEmail: (email) => adminEmails.has(email.toLowerCase()),
    async authenticate(request) {
      const header = request.headers.authorization;
      if (header === undefined || header === '') throw errors.unauthenticated();
      const match = header.length <= MAX_HEADER_LENGTH ? BEARER.exec(header) : null;
      if (!match?.[1]) {
        // Another scheme (Basic…) is "no credentials we accept"; a broken Bearer value is a bad token.
        throw /^Bearer\b/i.test(header) ? errors.tokenInvalid() : errors.unauthenticated();
      }
      const claims = await tokens.verify(match[1]);
      const row = await db
        .selectFrom('users')
        .select(['id', 'email', 'role'])
        .where('id', '=', claims.userId)
        .executeTakeFirst();
      if (row === undefined) throw errors.tokenInvalid('the account of this access token no longer exists');
      return { id: row.id, role: row.role, email: row.email };
    },
  };

  app.decorate('auth', context);
  app.decorateRequest('user', null);
}

/**
 * The plugin. `skip-override` is what fastify-plugin sets: the decorations land on the parent
 * instance, so routes registered anywhere in the app can use the guards.
 */
export const authPlugin: FastifyPluginAsync<AuthPluginOptions> = Object.assign(auth, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'nfc-auth',
});

function challenge(reply: FastifyReply, error: unknown): void {
  // RFC 6750 §3: a request without credentials gets a bare challenge; a bad token says why.
  if (isApiError(error) && error.code === 'UNAUTHENTICATED') reply.header('www-authenticate', 'Bearer');
  else if (isApiError(error) && error.statusCode === 401) {
    reply.header('www-authenticate', `Bearer error="invalid_token", error_description="${error.code}"`);
  }
}

/** preHandler: 401 unless the request carries a valid access token of an existing account. */
export async function requireUser(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const context = request.server.auth;
  if (context === undefined) throw new Error('requireUser used on a route of an app without authPlugin');
  try {
    request.user = await context.authenticate(request);
  } catch (error) {
    challenge(reply, error);
    throw error;
  }
}

/** preHandler: as requireUser, then 403 FORBIDDEN unless the user is an admin. */
export async function requireAdmin(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  await requireUser(request, reply);
  if (request.user?.role !== 'admin') throw errors.forbidden('this needs the admin role');
}

/** The authenticated user of a route guarded by requireUser (throws 401 if the guard is missing). */
export function currentUser(request: FastifyRequest): AuthUser {
  if (request.user === null) throw errors.unauthenticated();
  return request.user;
}
