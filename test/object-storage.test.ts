/**
 * The object storage both the API and the workers use, against the real thing: S3 on a real
 * MinIO, and the disk store in a temporary directory. One behaviour suite runs on both (what the
 * API relies on for uploads: streaming, the size cap, a client that disconnects, an abort —
 * and that none of them leaves anything behind); then what only one of them has.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { DiskObjectStore } from '../services/platform/object-store/disk-object-store.js';
import { ObjectStore } from '../services/platform/object-store/object-store.js';
import { openObjectStorage } from '../services/platform/object-store/open-object-storage.js';
import type { ObjectStorage } from '../services/platform/object-store/storage.js';
import { type Minio, startMinio } from './support/minio.js';

const MB = 1024 * 1024;
const SECRET = randomBytes(32).toString('base64url');

/** A deterministic stream of `total` bytes, hashed as it is produced; optional hooks at a byte count. */
function generated(
  total: number,
  hooks: { at?: number; act?: (stream: Readable) => void } = {},
): { stream: Readable; sha256: () => string } {
  const pool = randomBytes(MB + 64 * 1024);
  const hash = createHash('sha256');
  let sent = 0;
  let chunk = 0;
  let hooked = false;
  const stream = new Readable({
    read() {
      if (hooks.at !== undefined && !hooked && sent >= hooks.at) {
        hooked = true;
        hooks.act?.(this);
        if (this.destroyed) return;
      }
      if (sent >= total) {
        this.push(null);
        return;
      }
      const size = Math.min(64 * 1024, total - sent);
      const offset = ((chunk++ * 4099) % 16) * 64 * 1024;
      const piece = pool.subarray(offset, offset + size);
      hash.update(piece);
      sent += size;
      this.push(piece);
    },
  });
  return { stream, sha256: () => hash.digest('hex') };
}

/** A body whose client goes away after `bytes` (what a request stream does on a disconnect). */
function disconnecting(total: number, bytes: number): Readable {
  return generated(total, {
    at: bytes,
    act: (s) => s.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })),
  }).stream;
}

async function sha256Of(body: Readable): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of body) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** Samples RSS while `fn` runs; returns the largest growth over the value before it started. */
async function rssGrowth<T>(fn: () => Promise<T>): Promise<{ result: T; growthMb: number }> {
  const base = process.memoryUsage.rss();
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  try {
    const result = await fn();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { result, growthMb: (peak - base) / MB };
  } finally {
    clearInterval(timer);
  }
}

interface Harness {
  store: ObjectStorage;
  bucket: string;
  /** Asserts that nothing at all remains of an upload to `key`: no object, no pending part, no temp file. */
  assertNothingLeft(key: string): Promise<void>;
}

/** What both stores must do the same way. */
function behaviourSuite(name: string, setup: () => Harness) {
  describe(`${name}: behaviour the API relies on`, () => {
    test('a 30 MB stream is stored and reads back byte for byte, with its content type', async () => {
      const { store, bucket } = setup();
      const key = `uploads/${randomUUID()}/source.mp4`;
      const source = generated(30 * MB);
      const { bytes } = await store.putStream(bucket, key, source.stream, { contentType: 'video/mp4' });
      assert.equal(bytes, 30 * MB);
      const { body, info } = await store.getStream(bucket, key);
      assert.deepEqual(info, { size: 30 * MB, contentType: 'video/mp4' });
      assert.deepEqual(await sha256Of(body), { sha256: source.sha256(), bytes: 30 * MB });
      assert.deepEqual(await store.head(bucket, key), { size: 30 * MB, contentType: 'video/mp4' });
    });

    test('an upload is not visible under its name until it is complete', async () => {
      const { store, bucket } = setup();
      const key = `uploads/${randomUUID()}/source.mp4`;
      let midway: unknown = 'not checked';
      const source = generated(20 * MB, {
        at: 12 * MB,
        act: (s) => {
          s.pause();
          store.head(bucket, key).then(
            (info) => {
              midway = info;
              s.resume();
            },
            (err: unknown) => {
              midway = err;
              s.resume();
            },
          );
        },
      });
      await store.putStream(bucket, key, source.stream, {});
      assert.equal(midway, undefined, 'head() in the middle of the upload');
      assert.equal((await store.head(bucket, key))?.size, 20 * MB);
    });

    test('over maxBytes: ObjectTooLarge (permanent), and nothing left behind', async () => {
      const { store, bucket, assertNothingLeft } = setup();
      const key = `uploads/${randomUUID()}/source.mp4`;
      await assert.rejects(store.putStream(bucket, key, generated(30 * MB).stream, { maxBytes: 20 * MB }), {
        code: 'ObjectTooLarge',
        kind: 'permanent',
      });
      await assertNothingLeft(key);
    });

    test('a small body over maxBytes (one request, no multipart) leaves nothing either', async () => {
      const { store, bucket, assertNothingLeft } = setup();
      const key = `uploads/${randomUUID()}/small.bin`;
      await assert.rejects(store.putStream(bucket, key, generated(300 * 1024).stream, { maxBytes: 100 * 1024 }), {
        code: 'ObjectTooLarge',
      });
      await assertNothingLeft(key);
    });

    test('a client that disconnects after 10 MB: the upload rejects and nothing is left', async () => {
      const { store, bucket, assertNothingLeft } = setup();
      const key = `uploads/${randomUUID()}/source.mp4`;
      await assert.rejects(store.putStream(bucket, key, disconnecting(30 * MB, 10 * MB), {}), (err: unknown) => {
        const e = err as { code?: string; cause?: { code?: string } };
        assert.equal(e.code, 'BodyStreamFailed');
        assert.equal(e.cause?.code, 'ECONNRESET');
        return true;
      });
      await assertNothingLeft(key);
    });

    test('an abort signal midway: Aborted, and nothing left', async () => {
      const { store, bucket, assertNothingLeft } = setup();
      const key = `uploads/${randomUUID()}/source.mp4`;
      const controller = new AbortController();
      const source = generated(30 * MB, { at: 12 * MB, act: () => controller.abort() });
      await assert.rejects(store.putStream(bucket, key, source.stream, { signal: controller.signal }), {
        code: 'Aborted',
      });
      await assertNothingLeft(key);
      assert.ok(source.stream.destroyed, 'the body is destroyed, so no more of it is read');
    });

    test('an abort as the last byte arrives still leaves nothing (small body, single request)', async () => {
      const { store, bucket, assertNothingLeft } = setup();
      const key = `uploads/${randomUUID()}/small.bin`;
      const controller = new AbortController();
      const body = Readable.from([randomBytes(64 * 1024)]);
      body.once('end', () => setImmediate(() => controller.abort()));
      await assert.rejects(store.putStream(bucket, key, body, { signal: controller.signal }), { code: 'Aborted' });
      await assertNothingLeft(key);
    });

    test('an already-aborted signal stores nothing', async () => {
      const { store, bucket, assertNothingLeft } = setup();
      const key = `uploads/${randomUUID()}/small.bin`;
      await assert.rejects(
        store.putStream(bucket, key, Readable.from([Buffer.from('x')]), { signal: AbortSignal.abort() }),
        { code: 'Aborted' },
      );
      await assertNothingLeft(key);
    });

    test('an upload to a bucket that does not exist is NoSuchBucket, and stops reading the body', async () => {
      const { store } = setup();
      const source = generated(100 * MB);
      await assert.rejects(store.putStream('no-such-bucket', 'k', source.stream, {}), {
        code: 'NoSuchBucket',
        kind: 'permanent',
      });
      assert.ok(source.stream.destroyed, 'the body is not read to its end');
    });

    test('a missing object is NoSuchKey (permanent); head says undefined', async () => {
      const { store, bucket } = setup();
      await assert.rejects(store.getStream(bucket, 'no/such/key'), { code: 'NoSuchKey', kind: 'permanent' });
      assert.equal(await store.head(bucket, 'no/such/key'), undefined);
      await store.deleteObject(bucket, 'no/such/key'); // not an error, as in S3
    });

    test('uploadFile, downloadToFile and deleteObject', async () => {
      const { store, bucket } = setup();
      const dir = await mkdtemp(join(tmpdir(), 'nfc-os-file-'));
      try {
        const key = `analyses/${randomUUID()}/report.json`;
        const file = join(dir, 'report.json');
        const { writeFile, readFile } = await import('node:fs/promises');
        await writeFile(file, '{"reps":7}\n');
        await store.uploadFile(bucket, key, file);
        assert.deepEqual(await store.head(bucket, key), { size: 11, contentType: 'application/json' });
        await assert.rejects(store.downloadToFile(bucket, key, join(dir, 'small'), { maxBytes: 5 }), {
          code: 'ObjectTooLarge',
        });
        assert.deepEqual(await store.downloadToFile(bucket, key, join(dir, 'copy.json')), { bytes: 11 });
        assert.equal(await readFile(join(dir, 'copy.json'), 'utf8'), '{"reps":7}\n');
        await store.deleteObject(bucket, key);
        assert.equal(await store.head(bucket, key), undefined);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    test('deletePrefix removes every object under the prefix and nothing else', async () => {
      const { store, bucket } = setup();
      const id = randomUUID();
      const keys = ['report.json', 'frames.csv', 'thumbnails/rep-1.png', 'thumbnails/rep-2.png', 'chart.png'];
      for (const k of keys) await store.putStream(bucket, `analyses/${id}/${k}`, Readable.from([Buffer.from(k)]), {});
      await store.putStream(bucket, `analyses/${id}-other/report.json`, Readable.from([Buffer.from('keep')]), {});
      assert.equal(await store.deletePrefix(bucket, `analyses/${id}/`, { pageSize: 2 }), 5);
      for (const k of keys) assert.equal(await store.head(bucket, `analyses/${id}/${k}`), undefined);
      assert.equal((await store.head(bucket, `analyses/${id}-other/report.json`))?.size, 4);
      assert.equal(await store.deletePrefix(bucket, `analyses/${id}/`), 0);
      await assert.rejects(store.deletePrefix(bucket, ''), /empty prefix/);
    });

    test('ensureBucket is idempotent; ping answers for a bucket that exists and fails for one that does not', async () => {
      const { store } = setup();
      const bucket = `b-${randomUUID().slice(0, 8)}`;
      await assert.rejects(store.ping(bucket), { code: 'NoSuchBucket' });
      await store.ensureBucket(bucket);
      await store.ensureBucket(bucket);
      await store.ping(bucket);
      await store.putStream(bucket, 'x', Readable.from([Buffer.from('x')]), {});
      await store.ensureBucket(bucket); // and keeps what is in it
      assert.equal((await store.head(bucket, 'x'))?.size, 1);
    });

    test('uri() names the object the same way for both stores', () => {
      const { store } = setup();
      assert.equal(store.uri('videos', 'uploads/a/source.mp4'), 's3://videos/uploads/a/source.mp4');
    });
  });
}

// ---------------------------------------------------------------------------------------------
// S3 on a real MinIO

let minio: Minio;
let s3: ObjectStore;
let admin: S3Client;
const S3_BUCKET = 'nfc-object-storage';

async function pendingUploads(key: string): Promise<number> {
  // MinIO lists multipart uploads per object name, so ask for this key exactly.
  const res = await admin.send(new ListMultipartUploadsCommand({ Bucket: S3_BUCKET, Prefix: key }));
  return (res.Uploads ?? []).length;
}

before(async () => {
  minio = await startMinio();
  admin = minio.client();
  s3 = openObjectStorage({
    kind: 's3',
    endpoint: minio.endpoint,
    region: minio.region,
    forcePathStyle: true,
    credentials: { accessKeyId: minio.accessKey, secretAccessKey: minio.secretKey },
    maxAttempts: 3,
  });
  await s3.ensureBucket(S3_BUCKET);
});

after(async () => {
  s3?.destroy();
  admin?.destroy();
  await minio?.stop();
});

behaviourSuite('S3 (MinIO)', () => ({
  store: s3,
  bucket: S3_BUCKET,
  async assertNothingLeft(key) {
    assert.equal(await s3.head(S3_BUCKET, key), undefined, `no object ${key}`);
    assert.equal(await pendingUploads(key), 0, `no pending multipart upload for ${key}`);
  },
}));

describe('S3 (MinIO): multipart and presigned URLs', () => {
  test('the pending-upload check would see a leftover multipart upload (control)', async () => {
    const key = `control/${randomUUID()}`;
    const { UploadId } = await admin.send(new CreateMultipartUploadCommand({ Bucket: S3_BUCKET, Key: key }));
    assert.equal(await pendingUploads(key), 1);
    await admin.send(new AbortMultipartUploadCommand({ Bucket: S3_BUCKET, Key: key, UploadId }));
    assert.equal(await pendingUploads(key), 0);
  });

  test('a 30 MB stream goes up as a multipart upload of 8 MB parts', async () => {
    const key = `uploads/${randomUUID()}/source.mp4`;
    await s3.putStream(S3_BUCKET, key, generated(30 * MB).stream, { contentType: 'video/mp4' });
    const head = await admin.send(new HeadObjectCommand({ Bucket: S3_BUCKET, Key: key }));
    // A multipart object's ETag ends in -<parts>: 30 MB in 8 MB parts is 4.
    assert.match(head.ETag ?? '', /-4"$/);
  });

  test('a 200 MB upload keeps the process RSS growth under 64 MB', async () => {
    const key = `uploads/${randomUUID()}/big.mp4`;
    const source = generated(200 * MB);
    const { result, growthMb } = await rssGrowth(() =>
      s3.putStream(S3_BUCKET, key, source.stream, { contentType: 'video/mp4' }),
    );
    console.log(`S3 putStream 200 MB: RSS growth ${growthMb.toFixed(1)} MB`);
    assert.equal(result.bytes, 200 * MB);
    assert.ok(growthMb < 64, `RSS grew by ${growthMb.toFixed(1)} MB`);
    await s3.deleteObject(S3_BUCKET, key);
  });

  test('a presigned GET is fetched without credentials, under the download name given', async () => {
    const key = `analyses/${randomUUID()}/frames.csv`;
    await s3.putStream(S3_BUCKET, key, Readable.from([Buffer.from('frame,angle\n1,90\n')]), {
      contentType: 'text/csv; charset=utf-8',
    });
    const signed = await s3.presignGet(S3_BUCKET, key, { expiresSeconds: 60, filename: 'squat frames.csv' });
    assert.equal(signed.method, 'GET');
    const res = await fetch(signed.url);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'frame,angle\n1,90\n');
    assert.match(res.headers.get('content-disposition') ?? '', /^attachment; filename="squat frames.csv"/);
    const tampered = signed.url.replace(encodeURIComponent(key).replaceAll('%2F', '/'), `${key}x`);
    assert.equal((await fetch(tampered)).status, 403);
  });

  test('a presigned PUT accepts the content type it was signed for and refuses another', async () => {
    const key = `uploads/${randomUUID()}/source.mp4`;
    const signed = await s3.presignPut(S3_BUCKET, key, { expiresSeconds: 60, contentType: 'video/mp4' });
    assert.deepEqual(signed.headers, { 'Content-Type': 'video/mp4' });
    const wrong = await fetch(signed.url, { method: 'PUT', headers: { 'Content-Type': 'text/html' }, body: 'x' });
    assert.equal(wrong.status, 403);
    assert.equal(await s3.head(S3_BUCKET, key), undefined);
    const bytes = randomBytes(4096);
    const ok = await fetch(signed.url, { method: 'PUT', headers: signed.headers, body: bytes });
    assert.equal(ok.status, 200);
    assert.deepEqual(await s3.head(S3_BUCKET, key), { size: 4096, contentType: 'video/mp4' });
  });

  test('a wrong secret key is a permanent AccessDenied-class error', async () => {
    const bad = new ObjectStore({
      endpoint: minio.endpoint,
      region: minio.region,
      forcePathStyle: true,
      credentials: { accessKeyId: minio.accessKey, secretAccessKey: 'wrong-secret-key' },
      maxAttempts: 3,
    });
    try {
      await assert.rejects(bad.putStream(S3_BUCKET, 'x', Readable.from([Buffer.from('x')]), {}), {
        code: 'SignatureDoesNotMatch',
        kind: 'permanent',
      });
    } finally {
      bad.destroy();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The disk store in a temporary directory

let diskRoot: string;
let disk: DiskObjectStore;
const DISK_BUCKET = 'videos';

before(async () => {
  diskRoot = await mkdtemp(join(tmpdir(), 'nfc-disk-store-'));
  disk = openObjectStorage({ kind: 'disk', root: join(diskRoot, 'objects'), signingSecret: SECRET });
  await disk.ensureBucket(DISK_BUCKET);
});

after(async () => {
  if (diskRoot) await rm(diskRoot, { recursive: true, force: true });
});

async function filesUnder(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  } catch {
    return [];
  }
}

behaviourSuite('disk', () => ({
  store: disk,
  bucket: DISK_BUCKET,
  async assertNothingLeft(key) {
    assert.equal(await disk.head(DISK_BUCKET, key), undefined, `no object ${key}`);
    const everything = await filesUnder(disk.root);
    assert.deepEqual(
      everything.filter((f) => f.includes(key) || f.includes('.tmp')),
      [],
      'no file of the upload, temporary or not',
    );
  },
}));

describe('disk: what only the disk store has', () => {
  test('a 200 MB upload keeps the process RSS growth under 64 MB', async () => {
    const key = `uploads/${randomUUID()}/big.mp4`;
    const source = generated(200 * MB);
    const { result, growthMb } = await rssGrowth(() =>
      disk.putStream(DISK_BUCKET, key, source.stream, { contentType: 'video/mp4' }),
    );
    console.log(`disk putStream 200 MB: RSS growth ${growthMb.toFixed(1)} MB`);
    assert.equal(result.bytes, 200 * MB);
    assert.ok(growthMb < 64, `RSS grew by ${growthMb.toFixed(1)} MB`);
    const { body } = await disk.getStream(DISK_BUCKET, key);
    assert.equal((await sha256Of(body)).sha256, source.sha256());
    await disk.deleteObject(DISK_BUCKET, key);
  });

  test('keys and buckets that would leave the root are refused, and nothing is written outside it', async () => {
    const outside = join(diskRoot, 'escaped');
    const badKeys = [
      '../escaped/x',
      'a/../../escaped/x',
      '/etc/passwd',
      'a\\..\\x',
      'a\0b',
      '',
      'a//b',
      'a/',
      '.',
      '..',
    ];
    for (const key of badKeys) {
      await assert.rejects(
        disk.putStream(DISK_BUCKET, key, Readable.from([Buffer.from('x')]), {}),
        (err: unknown) =>
          (err as { kind?: string; code?: string }).kind === 'permanent' &&
          /Invalid/.test(String((err as { code?: string }).code)),
        `key ${JSON.stringify(key)}`,
      );
      await assert.rejects(disk.getStream(DISK_BUCKET, key), { kind: 'permanent' });
      await assert.rejects(disk.presignGet(DISK_BUCKET, key, { expiresSeconds: 60 }), { kind: 'permanent' });
    }
    for (const bucket of ['..', '../escaped', 'a/b', 'UPPER', '.meta', '.tmp', '']) {
      await assert.rejects(disk.ensureBucket(bucket), { code: 'InvalidBucketName' }, `bucket ${bucket}`);
      await assert.rejects(disk.putStream(bucket, 'x', Readable.from([Buffer.from('x')]), {}), {
        code: 'InvalidBucketName',
      });
    }
    await assert.rejects(disk.deletePrefix(DISK_BUCKET, '../'), { kind: 'permanent' });
    assert.deepEqual(await filesUnder(outside), []);
  });

  test('a signed GET URL verifies; tampered, expired or misused URLs are refused', async () => {
    const key = `analyses/${randomUUID()}/thumb nails/rep 1 ü%.png`;
    await disk.putStream(DISK_BUCKET, key, Readable.from([Buffer.from('png')]), { contentType: 'image/png' });
    await assert.rejects(disk.presignGet(DISK_BUCKET, key, { expiresSeconds: 60 }), { code: 'NotConfigured' });
    disk.setPublicBaseUrl('http://127.0.0.1:8080/');
    const signed = await disk.presignGet(DISK_BUCKET, key, { expiresSeconds: 60, filename: 'rep 1.png' });
    const request = asRouteSees(signed.url, 'GET');
    assert.equal(request.bucket, DISK_BUCKET);
    assert.equal(request.key, key, 'the key survives the URL encoding');
    const good = disk.verifySignedRequest(request);
    assert.ok(good.ok);
    assert.equal(good.grant.filename, 'rep 1.png');
    assert.ok(disk.verifySignedRequest({ ...request, method: 'HEAD' }).ok);

    const refused = (r: Parameters<DiskObjectStore['verifySignedRequest']>[0]) => {
      const check = disk.verifySignedRequest(r);
      return check.ok ? 'accepted' : check.code;
    };
    assert.equal(refused({ ...request, key: `${key}x` }), 'SignatureDoesNotMatch');
    assert.equal(refused({ ...request, bucket: 'other' }), 'SignatureDoesNotMatch');
    assert.equal(refused({ ...request, query: { ...request.query, expires: '9999999999' } }), 'SignatureDoesNotMatch');
    assert.equal(refused({ ...request, query: { ...request.query, filename: 'evil.html' } }), 'SignatureDoesNotMatch');
    assert.equal(refused({ ...request, query: { ...request.query, sig: 'AAAA' } }), 'SignatureDoesNotMatch');
    assert.equal(refused({ ...request, query: { ...request.query, sig: undefined } }), 'SignatureMissing');
    assert.equal(refused({ ...request, method: 'PUT' }), 'MethodNotAllowed');
    assert.equal(refused({ ...request, now: Date.now() + 61_000 }), 'SignatureExpired');
    const otherStore = new DiskObjectStore({ root: disk.root, signingSecret: randomBytes(32).toString('hex') });
    assert.equal(otherStore.verifySignedRequest(request).ok, false, 'another secret does not verify it');
  });

  test('a signed PUT URL is bound to its content type and size cap', async () => {
    disk.setPublicBaseUrl('http://127.0.0.1:8080');
    const key = `uploads/${randomUUID()}/source.mp4`;
    const signed = await disk.presignPut(DISK_BUCKET, key, {
      expiresSeconds: 300,
      contentType: 'video/mp4',
      maxBytes: 10 * MB,
    });
    assert.deepEqual(signed.headers, { 'Content-Type': 'video/mp4' });
    assert.ok(signed.url.startsWith('http://127.0.0.1:8080/v1/objects/videos/uploads/'));
    const request = { ...asRouteSees(signed.url, 'PUT'), contentType: 'video/mp4' };
    const good = disk.verifySignedRequest(request);
    assert.ok(good.ok);
    assert.equal(good.grant.maxBytes, 10 * MB);
    assert.equal(good.grant.contentType, 'video/mp4');
    const check = (r: typeof request) => {
      const c = disk.verifySignedRequest(r);
      return c.ok ? 'accepted' : c.code;
    };
    assert.equal(check({ ...request, contentType: 'text/html' }), 'ContentTypeMismatch');
    assert.equal(check({ ...request, query: { ...request.query, max: String(1000 * MB) } }), 'SignatureDoesNotMatch');
    assert.equal(check({ ...request, query: { ...request.query, max: 'lots' } }), 'SignatureMissing');
    assert.equal(
      check({ ...request, query: { ...request.query, type: 'text/html' }, contentType: 'text/html' }),
      'SignatureDoesNotMatch',
    );
    assert.equal(check({ ...request, method: 'GET' }), 'MethodNotAllowed');
  });

  test('an object stored under a key that is also a "directory" of other keys is a KeyConflict', async () => {
    const id = randomUUID();
    await disk.putStream(DISK_BUCKET, `c/${id}/a/b`, Readable.from([Buffer.from('x')]), {});
    await assert.rejects(disk.putStream(DISK_BUCKET, `c/${id}/a`, Readable.from([Buffer.from('y')]), {}), {
      code: 'KeyConflict',
      kind: 'permanent',
    });
    await assertDiskClean(`c/${id}/a`);
    await disk.deleteObject(DISK_BUCKET, `c/${id}/a/b`);
    // Deleting the last key under a "directory" removes the directory, so the name is free again.
    await disk.putStream(DISK_BUCKET, `c/${id}/a`, Readable.from([Buffer.from('y')]), {});
    assert.equal((await disk.head(DISK_BUCKET, `c/${id}/a`))?.size, 1);
  });

  test('start-up removes uploads a crashed process left in .tmp, and keeps live ones', async () => {
    const { utimes, writeFile } = await import('node:fs/promises');
    const stale = join(disk.root, '.tmp', 'crashed.part');
    const live = join(disk.root, '.tmp', 'live.part');
    await writeFile(stale, 'half an upload');
    await writeFile(live, 'an upload in progress');
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    await utimes(stale, twoHoursAgo, twoHoursAgo);
    await disk.ensureBucket(DISK_BUCKET);
    const left = await filesUnder(join(disk.root, '.tmp'));
    assert.deepEqual(left, [live]);
    await rm(live);
  });

  test('two uploads to the same key at once: one whole object wins, no temporary file remains', async () => {
    const key = `uploads/${randomUUID()}/source.mp4`;
    const a = generated(12 * MB);
    const b = generated(9 * MB);
    await Promise.all([disk.putStream(DISK_BUCKET, key, a.stream, {}), disk.putStream(DISK_BUCKET, key, b.stream, {})]);
    const { body, info } = await disk.getStream(DISK_BUCKET, key);
    const { sha256 } = await sha256Of(body);
    assert.ok(
      (info.size === 12 * MB && sha256 === a.sha256()) || (info.size === 9 * MB && sha256 === b.sha256()),
      'the object is one of the two uploads, whole',
    );
    assert.deepEqual(await filesUnder(join(disk.root, '.tmp')), []);
  });

  test('data written by one store instance is read by the next (restart), types included', async () => {
    const key = `analyses/${randomUUID()}/report.json`;
    await disk.putStream(DISK_BUCKET, key, Readable.from([Buffer.from('{}')]), { contentType: 'application/json' });
    const reopened = new DiskObjectStore({ root: disk.root, signingSecret: SECRET });
    assert.deepEqual(await reopened.head(DISK_BUCKET, key), { size: 2, contentType: 'application/json' });
  });
});

/** What the API route gets for a signed URL: the decoded bucket and key, and the query. */
function asRouteSees(url: string, method: string) {
  const u = new URL(url);
  const [, bucket, ...rest] = u.pathname.replace(/^\/v1\/objects/, '').split('/');
  return {
    method,
    bucket: decodeURIComponent(bucket ?? ''),
    key: rest.map(decodeURIComponent).join('/'),
    query: Object.fromEntries(u.searchParams) as Record<string, string | undefined>,
  };
}

async function assertDiskClean(key: string): Promise<void> {
  assert.equal(await disk.head(DISK_BUCKET, key), undefined);
  assert.deepEqual(
    (await filesUnder(disk.root)).filter((f) => f.includes('.tmp')),
    [],
  );
}
