import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { isApiError } from '../errors.js';
import { createTokenService, type TokenServiceOptions } from './tokens.js';

const options: TokenServiceOptions = {
  secret: 'a-test-secret-that-is-long-enough-0123456789',
  issuer: 'https://nfc.test',
  audience: 'nfc-api',
  ttlSeconds: 900,
};
const user = { id: randomUUID(), role: 'user' as const };
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isApiError(error), `not an ApiError: ${String(error)}`);
    assert.equal(error.statusCode, 401);
    return error.code;
  }
  assert.fail('the token was accepted');
}

describe('tokens', () => {
  const tokens = createTokenService(options);

  it('issues an HS256 bearer token with sub, role, iss, aud, iat, exp and jti, and verifies it', async () => {
    const issued = await tokens.issue(user);
    assert.equal(issued.tokenType, 'Bearer');
    assert.equal(issued.expiresIn, 900);
    assert.equal(decodeProtectedHeader(issued.accessToken).alg, 'HS256');
    const claims = decodeJwt(issued.accessToken);
    assert.equal(claims.sub, user.id);
    assert.equal(claims.role, 'user');
    assert.equal(claims.iss, options.issuer);
    assert.equal(claims.aud, options.audience);
    assert.equal((claims.exp ?? 0) - (claims.iat ?? 0), 900);
    assert.match(String(claims.jti), /^[0-9a-f-]{36}$/);
    assert.deepEqual(await tokens.verify(issued.accessToken), { userId: user.id, role: 'user' });
    assert.notEqual(decodeJwt((await tokens.issue(user)).accessToken).jti, claims.jti);
  });

  it('refuses a secret under 32 bytes and a bad TTL at start-up', () => {
    assert.throws(() => createTokenService({ ...options, secret: 'short' }), /at least 32 bytes/);
    assert.throws(() => createTokenService({ ...options, ttlSeconds: 0 }), /TTL/);
  });

  it('says TOKEN_EXPIRED for a genuine token past its expiry (beyond the clock tolerance)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ role: 'user' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user.id)
      .setIssuer(options.issuer)
      .setAudience(options.audience)
      .setIssuedAt(now - 1000)
      .setExpirationTime(now - 60)
      .sign(new TextEncoder().encode(String(options.secret)));
    assert.equal(await refusal(tokens.verify(token)), 'TOKEN_EXPIRED');
  });

  it('accepts a token expired by less than the clock tolerance', async () => {
    const lenient = createTokenService({ ...options, ttlSeconds: 1, clockToleranceSeconds: 30 });
    const token = await new SignJWT({ role: 'user' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user.id)
      .setIssuer(options.issuer)
      .setAudience(options.audience)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) - 10)
      .sign(new TextEncoder().encode(String(options.secret)));
    assert.equal((await lenient.verify(token)).userId, user.id);
  });

  it('says TOKEN_INVALID for alg none, another algorithm, wrong secret, issuer or audience, tampering, junk', async () => {
    const good = (await tokens.issue(user)).accessToken;
    const [header, payload, signature] = good.split('.');
    const claims = decodeJwt(good);
    const secret = new TextEncoder().encode(String(options.secret));
    const cases: Record<string, string> = {
      'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`,
      'alg none with the old signature': `${b64({ alg: 'none' })}.${payload}.${signature}`,
      HS512: await new SignJWT(claims).setProtectedHeader({ alg: 'HS512' }).sign(secret),
      'wrong secret': (
        await createTokenService({ ...options, secret: 'another-secret-that-is-long-enough-987654' }).issue(user)
      ).accessToken,
      'wrong issuer': (await createTokenService({ ...options, issuer: 'https://evil.test' }).issue(user)).accessToken,
      'wrong audience': (await createTokenService({ ...options, audience: 'other-api' }).issue(user)).accessToken,
      'role tampered': `${header}.${b64({ ...claims, role: 'admin' })}.${signature}`,
      'sub tampered': `${header}.${b64({ ...claims, sub: randomUUID() })}.${signature}`,
      'no sub': await new SignJWT({ role: 'user' })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer(options.issuer)
        .setAudience(options.audience)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(secret),
      'sub not a uuid': await new SignJWT({ ...claims, sub: "1' or '1'='1" })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(secret),
      'unknown role': await new SignJWT({ ...claims, role: 'root' }).setProtectedHeader({ alg: 'HS256' }).sign(secret),
      junk: 'not.a.token',
      empty: '',
    };
    for (const [name, token] of Object.entries(cases)) {
      assert.equal(await refusal(tokens.verify(token)), 'TOKEN_INVALID', name);
    }
  });
});
