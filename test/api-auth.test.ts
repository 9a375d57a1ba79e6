/**
 * Auth end to end: a real Fastify app (app.inject) with the auth plugin and routes, a protected
 * sample route that uses the ownership filter, and a real database with the real migrations:
 * PostgreSQL (started here) and the embedded PGlite of `nfc serve`.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import swagger from '@fastify/swagger';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import { decodeJwt, SignJWT } from 'jose';
import type { Kysely } from 'kysely';
import { pino } from 'pino';
import { ownerFilter } from '../services/api/auth/ownership.js';
import {
  authPlugin,
  bearerSecurityScheme,
  currentUser,
  requireAdmin,
  requireUser,
} from '../services/api/auth/plugin.js';
import { authRoutes } from '../services/api/auth/routes.js';
import { createTokenService, type TokenServiceOptions } from '../services/api/auth/tokens.js';
import { errorHandler } from '../services/api/error-handler.js';
import { errors } from '../services/api/errors.js';
import { errorResponses } from '../services/api/schemas/error.js';
import { openDatabase } from '../services/platform/db/database.js';
import { migrateToLatest } from '../services/platform/db/migrate.js';
import type { Database } from '../services/platform/db/schema.js';
import { type Postgres, startPostgres } from './support/postgres.js';

const tokenOptions: TokenServiceOptions = {
  secret: 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz',
  issuer: 'https://nfc.test',
  audience: 'nfc-api',
  ttlSeconds: 900,
};
const ADMIN_EMAIL = 'Head.Coach@Example.com';
const PASSWORD = 'squat-depth-below-parallel';
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const secretBytes = new TextEncoder().encode(String(tokenOptions.secret));

/** The app under test: what app.ts does for auth, plus one owned resource to read. */
async function buildApp(db: Kysely<Database>): Promise<FastifyInstance> {
  const app = Fastify({ logger: false }).withTypeProvider<TypeBoxTypeProvider>();
  app.setErrorHandler(errorHandler);
  await app.register(swagger, {
    openapi: {
      info: { title: 'nfc', version: 'test' },
      components: { securitySchemes: bearerSecurityScheme },
      security: [{ bearerAuth: [] }],
    },
  });
  await app.register(authPlugin, { db, tokens: createTokenService(tokenOptions), adminEmails: [ADMIN_EMAIL] });
  await app.register(authRoutes);
  app.get(
    '/v1/uploads/:id',
    {
      preHandler: requireUser,
      schema: {
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        response: {
          200: Type.Object({ id: Type.String(), filename: Type.String() }),
          ...errorResponses(400, 401, 404),
        },
      },
    },
    async (request) => {
      const row = await db
        .selectFrom('uploads')
        .select(['id', 'filename'])
        .where('id', '=', request.params.id)
        .where(ownerFilter(currentUser(request)))
        .executeTakeFirst();
      if (row === undefined) throw errors.notFound('upload');
      return row;
    },
  );
  app.get('/v1/admin/ping', { preHandler: requireAdmin }, async () => ({ ok: true }));
  await app.ready();
  return app;
}

interface Backend {
  db: Kysely<Database>;
  close(): Promise<void>;
}

const backends: Record<string, () => Promise<Backend>> = {
  postgres: async () => {
    const server: Postgres = await startPostgres();
    const db = await openDatabase(await server.createDatabase(), pino({ level: 'silent' }));
    return {
      db,
      close: async () => {
        await db.destroy();
        await server.stop();
      },
    };
  },
  pglite: async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nfc-auth-pglite-'));
    const db = await openDatabase({ kind: 'pglite', dataDir: dir }, pino({ level: 'silent' }));
    return {
      db,
      close: async () => {
        await db.destroy();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
};

for (const [name, open] of Object.entries(backends)) {
  describe(`auth over ${name}`, () => {
    let backend: Backend;
    let app: FastifyInstance;
    before(async () => {
      backend = await open();
      await migrateToLatest(backend.db);
      app = await buildApp(backend.db);
    });
    after(async () => {
      await app?.close();
      await backend?.close();
    });

    const unique = (label: string) => `${label}-${randomUUID().slice(0, 8)}@example.com`;
    const register = (email: string, password = PASSWORD) =>
      app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email, password } });
    const login = (email: string, password = PASSWORD) =>
      app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password } });
    const me = (token?: string, scheme = 'Bearer') =>
      app.inject({
        method: 'GET',
        url: '/v1/auth/me',
        headers: token === undefined ? {} : { authorization: `${scheme} ${token}` },
      });
    /** Registers and logs in a fresh user; returns its id and token. */
    const signUp = async (label: string) => {
      const email = unique(label);
      const created = await register(email);
      assert.equal(created.statusCode, 201, created.body);
      const token = (await login(email)).json().accessToken as string;
      return { id: created.json().user.id as string, email, token };
    };
    const code = (response: { json(): unknown }) => (response.json() as { error: { code: string } }).error.code;

    it('registers, logs in and reads the account back (register → login → me)', async () => {
      const email = unique('Round.Trip').replace('Round.Trip', 'Round.TRIP');
      const created = await register(email);
      assert.equal(created.statusCode, 201, created.body);
      const { user } = created.json();
      assert.equal(user.email, email.toLowerCase());
      assert.equal(user.role, 'user');
      assert.ok(!Number.isNaN(Date.parse(user.createdAt)));
      assert.deepEqual(Object.keys(user).sort(), ['createdAt', 'email', 'id', 'role']);

      const loggedIn = await login(email.toUpperCase());
      assert.equal(loggedIn.statusCode, 200, loggedIn.body);
      assert.equal(loggedIn.headers['cache-control'], 'no-store');
      const token = loggedIn.json();
      assert.equal(token.tokenType, 'Bearer');
      assert.equal(token.expiresIn, 900);
      assert.equal(decodeJwt(token.accessToken).sub, user.id);

      const mine = await me(token.accessToken);
      assert.equal(mine.statusCode, 200, mine.body);
      assert.deepEqual(mine.json(), { user });
      assert.equal((await me(token.accessToken, 'bearer')).statusCode, 200);
    });

    it('stores an argon2id hash, never the password', async () => {
      const { email } = await signUp('hash');
      const row = await backend.db
        .selectFrom('users')
        .select('password_hash')
        .where('email', '=', email)
        .executeTakeFirstOrThrow();
      assert.match(row.password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      assert.ok(!row.password_hash.includes(PASSWORD));
    });

    it('refuses a second account for the same email in another case with 409 EMAIL_TAKEN', async () => {
      const email = unique('dup');
      assert.equal((await register(email)).statusCode, 201);
      const again = await register(email.toUpperCase(), 'another-password');
      assert.equal(again.statusCode, 409, again.body);
      assert.equal(code(again), 'EMAIL_TAKEN');
      // The first password still works: the failed attempt changed nothing.
      assert.equal((await login(email)).statusCode, 200);
    });

    it('answers a wrong password and an unknown email with the same 401', async () => {
      const { email } = await signUp('creds');
      const wrongPassword = await login(email, 'not-the-password');
      const unknownEmail = await login(unique('nobody'));
      assert.equal(wrongPassword.statusCode, 401);
      assert.equal(unknownEmail.statusCode, 401);
      assert.equal(code(wrongPassword), 'INVALID_CREDENTIALS');
      assert.equal(wrongPassword.body, unknownEmail.body);
    });

    it('refuses a request without a token with 401 UNAUTHENTICATED and a Bearer challenge', async () => {
      for (const response of [await me(), await me('dXNlcjpwYXNz', 'Basic'), await me('', '')]) {
        assert.equal(response.statusCode, 401, response.body);
        assert.equal(code(response), 'UNAUTHENTICATED');
        assert.equal(response.headers['www-authenticate'], 'Bearer');
      }
    });

    it('refuses an expired token with 401 TOKEN_EXPIRED', async () => {
      const { id } = await signUp('expired');
      const now = Math.floor(Date.now() / 1000);
      const expired = await new SignJWT({ role: 'user' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(id)
        .setIssuer(tokenOptions.issuer)
        .setAudience(tokenOptions.audience)
        .setIssuedAt(now - 3600)
        .setExpirationTime(now - 60)
        .sign(secretBytes);
      const response = await me(expired);
      assert.equal(response.statusCode, 401, response.body);
      assert.equal(code(response), 'TOKEN_EXPIRED');
      assert.match(String(response.headers['www-authenticate']), /^Bearer error="invalid_token"/);
    });

    it('refuses alg none, another algorithm, wrong audience, issuer or secret, and a tampered payload with 401 TOKEN_INVALID', async () => {
      const { id, token } = await signUp('forged');
      const [header, , signature] = token.split('.');
      const claims = decodeJwt(token);
      const issue = (overrides: Partial<TokenServiceOptions>) =>
        createTokenService({ ...tokenOptions, ...overrides }).issue({ id, role: 'user' });
      const forged: Record<string, string> = {
        'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, role: 'admin' })}.`,
        HS384: await new SignJWT(claims).setProtectedHeader({ alg: 'HS384' }).sign(secretBytes),
        'wrong audience': (await issue({ audience: 'someone-else' })).accessToken,
        'wrong issuer': (await issue({ issuer: 'https://evil.test' })).accessToken,
        'wrong secret': (await issue({ secret: 'another-secret-0123456789-abcdefghijklmnop' })).accessToken,
        'tampered payload': `${header}.${b64({ ...claims, role: 'admin' })}.${signature}`,
        'sub not a uuid': await new SignJWT({ ...claims, sub: 'admin' })
          .setProtectedHeader({ alg: 'HS256' })
          .sign(secretBytes),
        garbage: 'a.b.c',
        'not a b64token': 'has spaces in it',
      };
      for (const [name, bad] of Object.entries(forged)) {
        const response = await me(bad);
        assert.equal(response.statusCode, 401, `${name}: ${response.body}`);
        assert.equal(code(response), 'TOKEN_INVALID', name);
      }
      assert.equal((await me(token)).statusCode, 200, 'the genuine token still works');
    });

    it('refuses the token of a deleted account', async () => {
      const { id, token } = await signUp('deleted');
      assert.equal((await me(token)).statusCode, 200);
      await backend.db.deleteFrom('users').where('id', '=', id).execute();
      const response = await me(token);
      assert.equal(response.statusCode, 401, response.body);
      assert.equal(code(response), 'TOKEN_INVALID');
    });

    it('shows an upload to its owner and an admin, and 404 to another user', async () => {
      const alice = await signUp('alice');
      const bob = await signUp('bob');
      const upload = await backend.db
        .insertInto('uploads')
        .values({
          user_id: alice.id,
          status: 'ready',
          bucket: 'b',
          key: 'k',
          filename: 'squat.mp4',
          content_type: 'video/mp4',
          bytes: 1,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const get = (token: string, id = upload.id) =>
        app.inject({ method: 'GET', url: `/v1/uploads/${id}`, headers: { authorization: `Bearer ${token}` } });

      assert.equal((await get(alice.token)).json().filename, 'squat.mp4');
      const asBob = await get(bob.token);
      const missing = await get(bob.token, randomUUID());
      assert.equal(asBob.statusCode, 404);
      assert.equal(asBob.body, missing.body, 'another user’s upload looks exactly like a missing one');

      // The admin email (configured in another case) gets the admin role and sees everything.
      const admin = await register(ADMIN_EMAIL.toLowerCase());
      assert.equal(admin.statusCode, 201, admin.body);
      assert.equal(admin.json().user.role, 'admin');
      const adminToken = (await login(ADMIN_EMAIL)).json().accessToken;
      assert.equal((await get(adminToken)).statusCode, 200);
      assert.equal(
        (await app.inject({ url: '/v1/admin/ping', headers: { authorization: `Bearer ${adminToken}` } })).statusCode,
        200,
      );
      const notAdmin = await app.inject({ url: '/v1/admin/ping', headers: { authorization: `Bearer ${bob.token}` } });
      assert.equal(notAdmin.statusCode, 403);
      assert.equal(code(notAdmin), 'FORBIDDEN');
    });

    it('answers invalid input with 400, never 500', async () => {
      const bodies: unknown[] = [
        {},
        { email: 'not-an-email', password: PASSWORD },
        { email: unique('long'), password: 'x'.repeat(129) },
        { email: `${'a'.repeat(250)}@example.com`, password: PASSWORD },
        { email: 42, password: PASSWORD },
        // Non-ASCII look-alikes (Kelvin sign, long s): lower-cased differently by JS and SQL, refused up front.
        { email: `\u212Aelvin-${randomUUID().slice(0, 8)}@example.com`, password: PASSWORD },
        { email: `\u017Fquat-${randomUUID().slice(0, 8)}@example.com`, password: PASSWORD },
        { email: unique('nopassword') },
        [],
        'a string',
      ];
      const cases = [
        ...bodies.map((payload) => ['/v1/auth/login', payload] as const),
        ...bodies.map((payload) => ['/v1/auth/register', payload] as const),
        // Under the 8-character policy: refused at sign-up (at login it is just a wrong password).
        ['/v1/auth/register', { email: unique('short'), password: 'seven77' }] as const,
      ];
      for (const [url, payload] of cases) {
        const response = await app.inject({
          method: 'POST',
          url,
          headers: { 'content-type': 'application/json' },
          payload: JSON.stringify(payload),
        });
        assert.equal(response.statusCode, 400, `${url} ${JSON.stringify(payload)}: ${response.body}`);
        assert.equal(code(response), 'VALIDATION_FAILED');
        assert.ok(Array.isArray(response.json().error.details?.problems), 'the problems are in the body');
      }
      const malformed = await app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        headers: { 'content-type': 'application/json' },
        payload: '{"email":',
      });
      assert.equal(malformed.statusCode, 400, malformed.body);
      const at128 = await register(unique('max'), 'é'.repeat(128));
      assert.equal(at128.statusCode, 201, 'a 128-character password is allowed');
      const oddChars = await register(unique('odd'), 'nul\u0000 tab\t emoji \u{1F3CB}');
      assert.equal(oddChars.statusCode, 201, oddChars.body);
      const badId = await app.inject({ url: '/v1/uploads/not-a-uuid', headers: { authorization: 'Bearer x.y.z' } });
      assert.ok(badId.statusCode < 500, badId.body);
    });

    it('documents every auth response, and register and login as needing no token, in the OpenAPI document', () => {
      const doc = app.swagger() as unknown as {
        paths: Record<
          string,
          Record<string, { tags?: string[]; security?: unknown[]; responses: Record<string, unknown> }>
        >;
      };
      const register = doc.paths['/v1/auth/register']?.post;
      const login = doc.paths['/v1/auth/login']?.post;
      const whoami = doc.paths['/v1/auth/me']?.get;
      assert.deepEqual(Object.keys(register?.responses ?? {}).sort(), ['201', '400', '409']);
      assert.deepEqual(Object.keys(login?.responses ?? {}).sort(), ['200', '400', '401']);
      assert.deepEqual(Object.keys(whoami?.responses ?? {}).sort(), ['200', '401']);
      assert.deepEqual(register?.security, []);
      assert.deepEqual(login?.security, []);
      assert.deepEqual(whoami?.security, [{ bearerAuth: [] }]);
      assert.deepEqual(whoami?.tags, ['auth']);
    });
  });
}
