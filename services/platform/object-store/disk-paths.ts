/**
 * Where an object of the disk store lives, and the checks that keep every path under the root.
 * Buckets and keys come from requests (an upload's key, a signed URL's path), so anything that
 * could leave the root — `..`, an absolute path, a backslash, NUL or another control
 * character — is refused with a permanent ObjectStoreError before a path is built.
 *
 * Layout under the root:
 *   <bucket>/<key>           the object's bytes (key segments are directories)
 *   .meta/<bucket>/<key>     its metadata as JSON ({ "contentType": … })
 *   .tmp/                    uploads in progress, renamed into place when complete
 * Bucket names follow S3's rules, so none starts with a dot and none collides with these.
 */
import { join, resolve, sep } from 'node:path';
import { ObjectStoreError } from './errors.js';

export interface DiskObjectPaths {
  bucketDir: string;
  file: string;
  meta: string;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const MAX_KEY_BYTES = 1024;
const MAX_SEGMENT_BYTES = 255;

export function checkBucket(bucket: string): void {
  if (typeof bucket !== 'string' || !BUCKET_NAME.test(bucket) || bucket.includes('..')) {
    throw invalid('InvalidBucketName', `invalid bucket name "${String(bucket)}"`, { bucket });
  }
}

/** The segments of a valid key; throws InvalidKey for anything that could escape the bucket. */
export function keySegments(bucket: string, key: string): string[] {
  if (typeof key !== 'string' || key === '') throw invalid('InvalidKey', 'an object key must not be empty', { bucket });
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) {
    throw invalid('KeyTooLongError', `object key over ${MAX_KEY_BYTES} bytes`, { bucket });
  }
  if (hasControl(key) || key.includes('\\') || key.startsWith('/')) {
    throw invalid('InvalidKey', `invalid object key ${JSON.stringify(key)}`, { bucket, key });
  }
  const segments = key.split('/');
  for (const segment of segments) {
    if (segment === '' || segment === '.' || segment === '..') {
      throw invalid('InvalidKey', `invalid object key ${JSON.stringify(key)} (empty, "." or ".." segment)`, {
        bucket,
        key,
      });
    }
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) {
      throw invalid('KeyTooLongError', `object key segment over ${MAX_SEGMENT_BYTES} bytes`, { bucket, key });
    }
  }
  return segments;
}

export function bucketDir(root: string, bucket: string): string {
  checkBucket(bucket);
  return join(root, bucket);
}

export function metaBucketDir(root: string, bucket: string): string {
  checkBucket(bucket);
  return join(root, '.meta', bucket);
}

export function tmpDir(root: string): string {
  return join(root, '.tmp');
}

export function objectPaths(root: string, bucket: string, key: string): DiskObjectPaths {
  const dir = bucketDir(root, bucket);
  const segments = keySegments(bucket, key);
  const file = within(dir, resolve(dir, ...segments), bucket, key);
  const metaDir = metaBucketDir(root, bucket);
  const meta = within(metaDir, resolve(metaDir, ...segments), bucket, key);
  return { bucketDir: dir, file, meta };
}

/**
 * The directory to walk for `prefix` and the part of the last segment to match: `a/b/c` is
 * "entries of a/b whose key starts with a/b/c". A prefix is matched as a string, as in S3.
 */
export function prefixScope(root: string, bucket: string, prefix: string): { dir: string; dirKey: string } {
  if (typeof prefix !== 'string' || prefix === '') {
    throw invalid('InvalidArgument', 'refusing an empty prefix (it would empty the bucket)', { bucket });
  }
  const cut = prefix.lastIndexOf('/');
  const dirKey = cut < 0 ? '' : prefix.slice(0, cut);
  const dir = bucketDir(root, bucket);
  if (dirKey === '') return { dir, dirKey };
  if (hasControl(prefix) || prefix.includes('\\')) {
    throw invalid('InvalidKey', `invalid prefix ${JSON.stringify(prefix)}`, { bucket, key: prefix });
  }
  return { dir: within(dir, resolve(dir, ...keySegments(bucket, dirKey)), bucket, prefix), dirKey };
}

function within(base: string, path: string, bucket: string, key: string): string {
  // Belt and braces: the checks above already make this impossible.
  if (!path.startsWith(base + sep)) {
    throw invalid('InvalidKey', `object key ${JSON.stringify(key)} leaves the bucket`, { bucket, key });
  }
  return path;
}

function invalid(code: string, message: string, context: Record<string, unknown>): ObjectStoreError {
  return new ObjectStoreError(message, code, 'permanent', { operation: 'validate', ...context });
}

/** NUL, the other C0 controls and DEL: never useful in a key, and some break file systems or logs. */
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
