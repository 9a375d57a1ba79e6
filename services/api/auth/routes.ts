/**
 * `/v1/auth`: register, log in (get an access token), and who am I. Needs `authPlugin` registered
 * first (it reads `app.auth`).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { User } from '../../platform/db/schema.js';
import { errors } from '../errors.js';
import { errorResponses } from '../schemas/error.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { BEARER_SCHEME, currentUser, requireUser } from './plugin.js';
import { LoginBody, type PublicUser, RegisterBody, TokenResponse, UserResponse } from './schemas.js';

const UNIQUE_VIOLATION = '23505';

function toPublicUser(row: Pick<User, 'id' | 'email' | 'role' | 'created_at'>): PublicUser {
  return { id: row.id, email: row.email, role: row.role, createdAt: new Date(row.created_at).toISOString() };
}

function isUniqueViolation(error: unknown): boolean {
  // pg and PGlite both expose the SQLSTATE as `code`.
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === UNIQUE_VIOLATION;
}

/** The auth routes, under /v1/auth. */
export const authRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db, tokens, isAdminEmail } = app.auth;

  app.post(
    '/v1/auth/register',
    {
      schema: {
        tags: ['auth'],
        summary: 'Create an account',
        description: 'The role is admin when the email is one of the configured admin emails.',
        security: [],
        body: RegisterBody,
        response: { 201: UserResponse, ...errorResponses(400, 409) },
      },
    },
    async (request, reply) => {
      const email = request.body.email.toLowerCase();
      const passwordHash = await hashPassword(request.body.password);
      try {
        const row = await db
          .insertInto('users')
          .values({ email, password_hash: passwordHash, role: isAdminEmail(email) ? 'admin' : 'user' })
          .returning(['id', 'email', 'role', 'created_at'])
          .executeTakeFirstOrThrow();
        request.log.info({ user: row.id, role: row.role }, 'user registered');
        return reply.code(201).send({ user: toPublicUser(row) });
      } catch (error) {
        if (isUniqueViolation(error)) throw errors.emailTaken();
        throw error;
      }
    },
  );

  app.post(
    '/v1/auth/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Log in: exchange email and password for an access token',
        description: 'A wrong password and an unknown email get the same 401, in the same time.',
        security: [],
        body: LoginBody,
        response: { 200: TokenResponse, ...errorResponses(400, 401) },
      },
    },
    async (request, reply) => {
      const email = request.body.email.toLowerCase();
      const row = await db
        .selectFrom('users')
        .select(['id', 'role', 'password_hash'])
        .where('email', '=', email)
        .executeTakeFirst();
      if (!(await verifyPassword(row?.password_hash, request.body.password)) || row === undefined) {
        request.log.info({ known: row !== undefined }, 'login refused');
        throw errors.invalidCredentials();
      }
      let role = row.role;
      if (role !== 'admin' && isAdminEmail(email)) {
        // An email added to the admin list after sign-up takes effect at the next login.
        await db.updateTable('users').set({ role: 'admin' }).where('id', '=', row.id).execute();
        role = 'admin';
      }
      // RFC 6749 §5.1: token responses must not be cached.
      reply.header('cache-control', 'no-store');
      return tokens.issue({ id: row.id, role });
    },
  );

  app.get(
    '/v1/auth/me',
    {
      preHandler: requireUser,
      schema: {
        tags: ['auth'],
        summary: 'The account of the access token',
        security: [{ [BEARER_SCHEME]: [] }],
        response: { 200: UserResponse, ...errorResponses(401) },
      },
    },
    async (request) => {
      const user = currentUser(request);
      const row = await db
        .selectFrom('users')
        .select(['id', 'email', 'role', 'created_at'])
        .where('id', '=', user.id)
        .executeTakeFirst();
      if (row === undefined) throw errors.tokenInvalid('the account of this access token no longer exists');
      return { user: toPublicUser(row) };
    },
  );
};
