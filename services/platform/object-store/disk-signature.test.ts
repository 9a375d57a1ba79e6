import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DiskObjectGrant, signDiskObjectUrl, verifyDiskObjectSignature } from './disk-signature.js';

const secret = 'a-test-secret-of-at-least-32-characters';
const now = Date.UTC(2026, 0, 1);
const expires = now / 1000 + 600;

/** What a route for /v1/objects/:bucket/* sees for `url`. */
function request(url: string, method: string, contentType?: string) {
  const u = new URL(url);
  const [, , , bucket, ...key] = u.pathname.split('/');
  return {
    method,
    bucket: decodeURIComponent(bucket ?? ''),
    key: key.map(decodeURIComponent).join('/'),
    query: Object.fromEntries(u.searchParams),
    ...(contentType !== undefined ? { contentType } : {}),
    now,
  };
}

const codeOf = (r: Parameters<typeof verifyDiskObjectSignature>[1]) => {
  const check = verifyDiskObjectSignature(secret, r);
  return check.ok ? 'ok' : check.code;
};

describe('signed disk URLs', () => {
  const get: DiskObjectGrant = { method: 'GET', bucket: 'videos', key: 'a b/ü/#?.png', expires, filename: 'x.png' };
  const put: DiskObjectGrant = {
    method: 'PUT',
    bucket: 'videos',
    key: 'uploads/u1/source.mp4',
    expires,
    contentType: 'video/mp4',
    maxBytes: 1024,
  };

  it('encodes each key segment and keeps the slashes', () => {
    const url = signDiskObjectUrl(secret, 'http://h:1/', get);
    assert.ok(url.startsWith('http://h:1/v1/objects/videos/a%20b/%C3%BC/%23%3F.png?method=GET&expires='), url);
  });

  it('verifies what it signed, and returns the grant', () => {
    const r = request(signDiskObjectUrl(secret, 'http://h:1', get), 'GET');
    assert.deepEqual(verifyDiskObjectSignature(secret, r), { ok: true, grant: get });
    const p = request(signDiskObjectUrl(secret, 'http://h:1', put), 'PUT', 'video/mp4');
    assert.deepEqual(verifyDiskObjectSignature(secret, p), { ok: true, grant: put });
  });

  it('refuses a tampered, expired, misused or unsigned request', () => {
    const r = request(signDiskObjectUrl(secret, 'http://h:1', get), 'GET');
    const p = request(signDiskObjectUrl(secret, 'http://h:1', put), 'PUT', 'video/mp4');
    assert.equal(codeOf({ ...r, key: 'other.png' }), 'SignatureDoesNotMatch');
    assert.equal(codeOf({ ...r, query: { ...r.query, expires: String(expires + 1) } }), 'SignatureDoesNotMatch');
    assert.equal(codeOf({ ...r, query: { ...r.query, filename: 'y.html' } }), 'SignatureDoesNotMatch');
    assert.equal(codeOf({ ...r, query: { ...r.query, method: 'PUT' }, method: 'PUT' }), 'SignatureDoesNotMatch');
    assert.equal(codeOf({ ...r, now: expires * 1000 + 1 }), 'SignatureExpired');
    assert.equal(codeOf({ ...r, now: expires * 1000 }), 'ok');
    assert.equal(codeOf({ ...r, method: 'DELETE' }), 'MethodNotAllowed');
    assert.equal(codeOf({ ...r, query: {} }), 'SignatureMissing');
    assert.equal(codeOf({ ...p, contentType: undefined }), 'ContentTypeMismatch');
    assert.equal(codeOf({ ...p, contentType: 'video/mp4; x=1' }), 'ContentTypeMismatch');
    assert.equal(codeOf({ ...p, query: { ...p.query, max: '99999' } }), 'SignatureDoesNotMatch');
    assert.equal(codeOf({ ...p, query: { ...p.query, max: '1e9' } }), 'SignatureMissing');
    assert.equal(verifyDiskObjectSignature('another-secret-of-at-least-32-chars!!', r).ok, false);
  });
});
