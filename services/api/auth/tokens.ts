/**
 * JWT access tokens: HS256 with the algorithm, issuer and audience pinned on verification, a short
 * expiry and a small clock tolerance. Every failure is an ApiError 401: TOKEN_EXPIRED when the
 * token was good but is out of date (the client should log in again), TOKEN_INVALID otherwise.
 */
import { randomUUID } from 'node:crypto';
import { errors as jose, jwtVerify, SignJWT } from 'jose';
import type { UserRole } from '../../platform/db/schema.js';
import { errors } from '../errors.js';

export interface TokenServiceOptions {
  /** HMAC key: a string (its UTF-8 bytes) or raw bytes, at least 32 bytes (RFC 7518 §3.2). */
  secret: string | Uint8Array;
  issuer: string;
  audience: string;
  ttlSeconds: number;
  /** Seconds of clock skew accepted on exp/iat/nbf; default 5. */
  clockToleranceSeconds?: number;
}

/** What the login route returns (OAuth 2 token response shape, RFC 6749 §5.1). */
export interface IssuedToken {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

/** The claims this service trusts, once the token is verified. */
export interface TokenClaims {
  userId: string;
  role: UserRole;
}

export interface TokenService {
  issue(user: { id: string; role: UserRole }): Promise<IssuedToken>;
  /** Verifies and returns the claims, or throws ApiError 401 TOKEN_EXPIRED / TOKEN_INVALID. */
  verify(token: string): Promise<TokenClaims>;
}

export const MIN_SECRET_BYTES = 32;
const ALGORITHM = 'HS256';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Creates the token service; throws at start-up on a short secret or a bad TTL. */
export function createTokenService(options: TokenServiceOptions): TokenService {
  const key = typeof options.secret === 'string' ? new TextEncoder().encode(options.secret) : options.secret;
  if (key.byteLength < MIN_SECRET_BYTES) {
    throw new RangeError(`the JWT secret must be at least ${MIN_SECRET_BYTES} bytes (got ${key.byteLength})`);
  }
  if (!Number.isInteger(options.ttlSeconds) || options.ttlSeconds <= 0) {
    throw new RangeError(`the token TTL must be a positive whole number of seconds (got ${options.ttlSeconds})`);
  }
  if (!options.issuer || !options.audience) throw new RangeError('the JWT issuer and audience must not be empty');
  const { issuer, audience, ttlSeconds } = options;
  const clockTolerance = options.clockToleranceSeconds ?? 5;

  return {
    async issue(user) {
      const now = Math.floor(Date.now() / 1000);
      const accessToken = await new SignJWT({ role: user.role })
        .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
        .setSubject(user.id)
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt(now)
        .setExpirationTime(now + ttlSeconds)
        .setJti(randomUUID())
        .sign(key);
      return { accessToken, tokenType: 'Bearer', expiresIn: ttlSeconds };
    },

    async verify(token) {
      let payload: Record<string, unknown>;
      try {
        ({ payload } = await jwtVerify(token, key, {
          algorithms: [ALGORITHM],
          issuer,
          audience,
          clockTolerance,
          requiredClaims: ['sub', 'exp', 'iat'],
        }));
      } catch (error) {
        // jose checks the signature before the claims, so "expired" is only said of a genuine token.
        if (error instanceof jose.JWTExpired) throw errors.tokenExpired();
        throw errors.tokenInvalid();
      }
      const { sub, role } = payload;
      // The user id goes into a uuid-typed SQL parameter: anything else would be a 500, not a 401.
      if (typeof sub !== 'string' || !UUID.test(sub)) throw errors.tokenInvalid();
      if (role !== 'user' && role !== 'admin') throw errors.tokenInvalid();
      return { userId: sub, role };
    },
  };
}
