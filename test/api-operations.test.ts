/**
 * What operators and browsers notice: health and readiness, Prometheus metrics, request ids,
 * security headers, CORS, rate limiting (shared through Redis by several replicas), the
 * OpenAPI document and Swagger UI, and settings refused at start with every problem listed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadApiConfig } from '../services/api/config.js';
import { startTestApi, type TestApi } from './support/api.js';
import { type RedisServer, startRedis } from './support/redis.js';

describe('API operations (embedded)', () => {
  let server: TestApi;
  before(async () => {
    server = await startTestApi({ env: { NFC_CORS_ORIGINS: 'https://coach.example.com' } });
  });
  after(async () => server?.close());

  it('answers /healthz and /readyz with each dependency checked', async () => {
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    const ready = await fetch(`${server.url}/readyz`);
    const body = (await ready.json()) as { status: string; checks: Record<string, { ok: boolean }> };
    assert.equal(ready.status, 200);
    assert.equal(body.status, 'ready');
    assert.deepEqual(Object.keys(body.checks).sort(), ['database', 'dispatcher', 'objectStore']);
  });

  it('counts requests by route in /metrics, never by id', async () => {
    const user = await server.signUp();
    await user.json('GET', '/v1/analyses/00000000-0000-4000-8000-000000000000');
    const text = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(text, /nfc_api_http_requests_total\{method="GET",route="\/v1\/analyses\/:id",status="404"\} 1/);
    assert.doesNotMatch(text, /00000000-0000-4000/);
    assert.match(text, /nfc_api_process_resident_memory_bytes/);
  });

  it('echoes a request id and sends security headers', async () => {
    const res = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'trace-123' } });
    assert.equal(res.headers.get('x-request-id'), 'trace-123');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.ok(res.headers.get('content-security-policy'));
    assert.ok(res.headers.get('strict-transport-security'));
    const generated = await fetch(`${server.url}/healthz`);
    assert.match(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  it('allows the configured browser origin only', async () => {
    const preflight = (origin: string) =>
      fetch(`${server.url}/v1/analyses`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
      });
    const allowed = await preflight('https://coach.example.com');
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://coach.example.com');
    const other = await preflight('https://evil.example.com');
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  });

  it('serves the OpenAPI document and Swagger UI', async () => {
    const doc = (await (await fetch(`${server.url}/docs/json`)).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
      components: { securitySchemes: Record<string, unknown> };
    };
    assert.match(doc.openapi, /^3\./);
    for (const path of [
      '/v1/uploads',
      '/v1/analyses',
      '/v1/analyses/{id}',
      '/v1/analyses/{id}/events',
      '/v1/auth/login',
    ]) {
      assert.ok(doc.paths[path], `${path} is documented`);
    }
    assert.ok(doc.components.securitySchemes.bearerAuth);
    const ui = await fetch(`${server.url}/docs/`);
    assert.equal(ui.status, 200);
    assert.match(await ui.text(), /swagger/i);
  });

  it('refuses bad settings at start, listing every problem', () => {
    assert.throws(
      () => loadApiConfig({ NFC_DISPATCH: 'carrier-pigeon', NFC_HTTP_PORT: 'eighty', NFC_MAX_UPLOAD_BYTES: '-1' }),
      (err: Error) =>
        /NFC_DISPATCH/.test(err.message) &&
        /NFC_HTTP_PORT/.test(err.message) &&
        /NFC_MAX_UPLOAD_BYTES/.test(err.message),
    );
    assert.throws(
      () => loadApiConfig({ NFC_DISPATCH: 'queue', NFC_DATABASE_HOST: 'db', NFC_JWT_SECRET: 'x'.repeat(40) }),
      /NFC_REDIS_HOST/,
    );
  });
});

describe('API rate limiting shared by replicas through Redis', () => {
  let redis: RedisServer;
  let a: TestApi;
  let b: TestApi;
  before(async () => {
    redis = await startRedis();
    const env = { NFC_RATE_LIMIT_PER_MINUTE: '6' };
    a = await startTestApi({ redis, env });
    b = await startTestApi({ redis, env });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await redis?.stop();
  });

  it('counts one client across both replicas and answers 429 with a code and Retry-After', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await fetch(`${a.url}/v1/auth/me`)).status);
      statuses.push((await fetch(`${b.url}/v1/auth/me`)).status);
    }
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 401, 429, 429]);
    const limited = await fetch(`${a.url}/v1/auth/me`);
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    assert.equal(((await limited.json()) as { error: { code: string } }).error.code, 'RATE_LIMITED');
    assert.equal((await fetch(`${a.url}/healthz`)).status, 200, 'health checks are never limited');
  });
});
