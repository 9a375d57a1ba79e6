/**
 * Signed URLs of the disk store. The API serves the objects itself at
 * `/v1/objects/<bucket>/<key>`; a URL is valid when its query carries an HMAC-SHA256 (keyed
 * with the store's secret) over everything it grants — method, bucket, key, expiry, and the
 * Content-Type and size cap of a PUT or the download name of a GET — and has not expired.
 * The API route calls `verifyDiskObjectSignature` before serving or accepting any bytes.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** What one signed URL allows. */
export interface DiskObjectGrant {
  method: 'GET' | 'PUT';
  bucket: string;
  key: string;
  /** Unix seconds after which the URL is refused. */
  expires: number;
  /** PUT: the Content-Type the request must carry. */
  contentType?: string;
  /** PUT: the most bytes the route may accept. */
  maxBytes?: number;
  /** GET: the download name for Content-Disposition. */
  filename?: string;
}

export type DiskSignatureCheck =
  | { ok: true; grant: DiskObjectGrant }
  | {
      ok: false;
      /** SignatureMissing, SignatureDoesNotMatch, SignatureExpired, MethodNotAllowed or ContentTypeMismatch. */
      code: string;
      message: string;
    };

/** The path of an object under the API: each key segment percent-encoded, slashes kept. */
export function diskObjectPath(bucket: string, key: string): string {
  return `/v1/objects/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/** The full signed URL for `grant`, under `publicBaseUrl` (e.g. http://127.0.0.1:8080). */
export function signDiskObjectUrl(secret: string, publicBaseUrl: string, grant: DiskObjectGrant): string {
  const query = new URLSearchParams({ method: grant.method, expires: String(grant.expires) });
  if (grant.contentType !== undefined) query.set('type', grant.contentType);
  if (grant.maxBytes !== undefined) query.set('max', String(grant.maxBytes));
  if (grant.filename !== undefined) query.set('filename', grant.filename);
  query.set('sig', signature(secret, grant));
  return `${publicBaseUrl.replace(/\/+$/, '')}${diskObjectPath(grant.bucket, grant.key)}?${query}`;
}

/**
 * Checks a request for `/v1/objects/<bucket>/<key>`: `method` is the request's HTTP method
 * (HEAD counts as GET), `bucket` and `key` the decoded path parameters, `query` the parsed
 * query string, `contentType` the request's Content-Type header (PUT). Returns what the URL
 * grants, or why it is refused; the signature is compared in constant time.
 */
export function verifyDiskObjectSignature(
  secret: string,
  request: {
    method: string;
    bucket: string;
    key: string;
    query: Record<string, unknown>;
    contentType?: string | undefined;
    /** Milliseconds since the epoch; default Date.now(). */
    now?: number;
  },
): DiskSignatureCheck {
  const q = request.query;
  const text = (name: string) => (typeof q[name] === 'string' ? (q[name] as string) : undefined);
  const method = text('method');
  const expires = Number(text('expires'));
  const sig = text('sig');
  if ((method !== 'GET' && method !== 'PUT') || !Number.isInteger(expires) || !sig) {
    return { ok: false, code: 'SignatureMissing', message: 'the URL carries no valid signature' };
  }
  const max = text('max');
  if (max !== undefined && !/^\d{1,15}$/.test(max)) {
    return { ok: false, code: 'SignatureMissing', message: 'the URL carries an invalid size cap' };
  }
  const grant: DiskObjectGrant = {
    method,
    bucket: request.bucket,
    key: request.key,
    expires,
    ...(text('type') !== undefined ? { contentType: text('type') as string } : {}),
    ...(max !== undefined ? { maxBytes: Number(max) } : {}),
    ...(text('filename') !== undefined ? { filename: text('filename') as string } : {}),
  };
  const expected = Buffer.from(signature(secret, grant), 'base64url');
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, code: 'SignatureDoesNotMatch', message: 'the URL signature does not match' };
  }
  if ((request.now ?? Date.now()) > expires * 1000) {
    return { ok: false, code: 'SignatureExpired', message: 'the URL has expired' };
  }
  const requestMethod = request.method.toUpperCase();
  if (requestMethod !== method && !(method === 'GET' && requestMethod === 'HEAD')) {
    return { ok: false, code: 'MethodNotAllowed', message: `the URL allows ${method}, not ${requestMethod}` };
  }
  if (method === 'PUT' && (request.contentType ?? '').trim() !== (grant.contentType ?? '')) {
    return {
      ok: false,
      code: 'ContentTypeMismatch',
      message: `the URL requires Content-Type: ${grant.contentType ?? '(none)'}`,
    };
  }
  return { ok: true, grant };
}

function signature(secret: string, g: DiskObjectGrant): string {
  // JSON of a fixed-order array: no field can bleed into the next.
  const canonical = JSON.stringify([
    'nfc-disk-object-v1',
    g.method,
    g.bucket,
    g.key,
    g.expires,
    g.contentType ?? null,
    g.maxBytes ?? null,
    g.filename ?? null,
  ]);
  return createHmac('sha256', secret).update(canonical).digest('base64url');
}
