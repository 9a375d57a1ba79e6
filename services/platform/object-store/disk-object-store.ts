/**
 * Objects in a directory on local disk: the embedded default of `nfc serve`, behind the same
 * `ObjectStorage` contract as S3. A bucket is a sub-directory of the root, a key a relative
 * path under it (see disk-paths.ts for the layout and the checks that keep every path under
 * the root). Writes go to a temporary file that is synced and renamed into place, so a crash
 * never leaves half an object under its name. Signed URLs point at the API itself
 * (`/v1/objects/<bucket>/<key>`), which checks them with `verifyDiskObjectSignature`.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, constants as fsConstants } from 'node:fs';
import { access, mkdir, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { contentTypeOf, DEFAULT_CONTENT_TYPE } from './content-types.js';
import { noSuchBucket, noSuchKey, wrapFsError } from './disk-errors.js';
import {
  commitObject,
  deleteByPrefix,
  isGone,
  pruneUp,
  readContentType,
  removeStaleTemporaries,
  unlinkObject,
} from './disk-files.js';
import { bucketDir, checkBucket, keySegments, metaBucketDir, objectPaths, prefixScope, tmpDir } from './disk-paths.js';
import { type DiskSignatureCheck, signDiskObjectUrl, verifyDiskObjectSignature } from './disk-signature.js';
import { isObjectStoreError, ObjectStoreError } from './errors.js';
import { checkExpiresSeconds } from './expiry.js';
import { guardBody } from './guard-body.js';
import { formatS3Uri } from './s3-uri.js';
import type { ObjectInfo, ObjectStorage, SignedUrl } from './storage.js';

/**
 * A temporary upload file nobody wrote to for this long belongs to a process that died: every
 * live upload writes to its file at least every few seconds.
 */
const STALE_UPLOAD_MS = 60 * 60 * 1000;

export interface DiskObjectStoreOptions {
  /** The directory that holds every bucket (created by `ensureBucket`). */
  root: string;
  /** HMAC key of the signed URLs (at least 32 characters; keep it stable across restarts). */
  signingSecret: string;
  /** Where clients reach the API, e.g. http://127.0.0.1:8080; may be set after listen. */
  publicBaseUrl?: string;
}

export class DiskObjectStore implements ObjectStorage {
  readonly root: string;
  readonly #secret: string;
  #publicBaseUrl: string | undefined;

  constructor(options: DiskObjectStoreOptions) {
    if (!options.root) throw new Error('DiskObjectStore: root is required');
    if (typeof options.signingSecret !== 'string' || options.signingSecret.length < 32) {
      throw new Error('DiskObjectStore: signingSecret must be at least 32 characters');
    }
    this.root = resolve(options.root);
    this.#secret = options.signingSecret;
    if (options.publicBaseUrl !== undefined) this.setPublicBaseUrl(options.publicBaseUrl);
  }

  get publicBaseUrl(): string | undefined {
    return this.#publicBaseUrl;
  }

  /** Sets the API's public URL (known only once the server listens); signed URLs use it. */
  setPublicBaseUrl(url: string): void {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new Error(`DiskObjectStore: publicBaseUrl must be an http(s) URL (got "${url}")`);
    }
    this.#publicBaseUrl = url.replace(/\/+$/, '');
  }

  uri(bucket: string, key: string): string {
    return formatS3Uri(bucket, key);
  }

  async putStream(
    bucket: string,
    key: string,
    body: Readable,
    options: { contentType?: string; maxBytes?: number; signal?: AbortSignal },
  ): Promise<{ bytes: number }> {
    const guard = guardBody(
      body,
      { operation: 'upload', bucket, key, uri: this.uri(bucket, key) },
      {
        ...(options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      },
    );
    let tmp: string | undefined;
    try {
      const paths = objectPaths(this.root, bucket, key);
      await this.#requireBucket('upload', bucket);
      await mkdir(tmpDir(this.root), { recursive: true });
      tmp = join(tmpDir(this.root), `${randomUUID()}.part`);
      // Created here, opened below without O_CREAT: a clean-up racing the stream's own
      // (asynchronous) open can then never leave a file behind.
      await writeFile(tmp, '', { flag: 'wx' });
      // `flush`: the bytes reach the disk before the file is closed, so before the rename.
      await pipeline(guard.stream, createWriteStream(tmp, { flags: 'r+', flush: true }));
      // An abort after the last byte still means "do not keep it".
      if (guard.failure) throw guard.failure;
      await commitObject(paths, tmp, options.contentType ?? DEFAULT_CONTENT_TYPE);
      tmp = undefined;
      return { bytes: guard.bytes };
    } catch (err) {
      const error = guard.failure ?? wrapFsError('upload', bucket, key, err);
      guard.stop(error);
      if (tmp) await rm(tmp, { force: true });
      throw error;
    } finally {
      guard.dispose();
    }
  }

  async uploadFile(bucket: string, key: string, file: string, contentType?: string): Promise<void> {
    await this.putStream(bucket, key, createReadStream(file), { contentType: contentType ?? contentTypeOf(file) });
  }

  async getStream(bucket: string, key: string): Promise<{ body: Readable; info: ObjectInfo }> {
    const paths = objectPaths(this.root, bucket, key);
    let file: Awaited<ReturnType<typeof open>>;
    try {
      file = await open(paths.file, 'r');
    } catch (err) {
      throw await this.#missing('download', bucket, key, err);
    }
    try {
      const info = await file.stat();
      // Opening a directory for reading works on Linux: a "directory key" is no object.
      if (!info.isFile()) throw noSuchKey('download', bucket, key);
      const contentType = await readContentType(paths.meta);
      return { body: file.createReadStream(), info: { size: info.size, contentType } };
    } catch (err) {
      await file.close();
      throw wrapFsError('download', bucket, key, err);
    }
  }

  async head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    const paths = objectPaths(this.root, bucket, key);
    try {
      const info = await stat(paths.file);
      if (!info.isFile()) return undefined;
      return { size: info.size, contentType: await readContentType(paths.meta) };
    } catch (err) {
      if (isGone(err)) return undefined;
      throw wrapFsError('head', bucket, key, err);
    }
  }

  async downloadToFile(
    bucket: string,
    key: string,
    file: string,
    options: { maxBytes?: number } = {},
  ): Promise<{ bytes: number }> {
    const { body, info } = await this.getStream(bucket, key);
    if (options.maxBytes !== undefined && info.size > options.maxBytes) {
      body.destroy();
      throw new ObjectStoreError(
        `${this.uri(bucket, key)} is ${info.size} bytes, over the ${options.maxBytes}-byte limit`,
        'ObjectTooLarge',
        'permanent',
        { operation: 'download', bucket, key, bytes: info.size, maxBytes: options.maxBytes },
      );
    }
    const partial = `${file}.partial`;
    try {
      await pipeline(body, createWriteStream(partial));
      const { size } = await stat(partial);
      await rename(partial, file);
      return { bytes: size };
    } catch (err) {
      await rm(partial, { force: true });
      throw wrapFsError('download', bucket, key, err);
    }
  }

  /** Deletes one object; a missing one is not an error (as in S3). */
  async deleteObject(bucket: string, key: string): Promise<void> {
    const paths = objectPaths(this.root, bucket, key);
    try {
      await unlinkObject(paths);
    } catch (err) {
      throw wrapFsError('delete', bucket, key, err);
    }
    await pruneUp(dirname(paths.file), paths.bucketDir);
    await pruneUp(dirname(paths.meta), metaBucketDir(this.root, bucket));
  }

  /** Deletes every object whose key starts with `prefix` (a string prefix, as in S3); returns how many. */
  async deletePrefix(bucket: string, prefix: string, _options?: { pageSize?: number }): Promise<number> {
    prefixScope(this.root, bucket, prefix);
    await this.#requireBucket('delete', bucket);
    return deleteByPrefix(this.root, bucket, prefix);
  }

  async presignGet(
    bucket: string,
    key: string,
    options: { expiresSeconds: number; filename?: string },
  ): Promise<SignedUrl> {
    return this.#sign({ method: 'GET', bucket, key, expiresSeconds: options.expiresSeconds }, (grant) =>
      options.filename !== undefined ? { ...grant, filename: options.filename } : grant,
    );
  }

  /** A signed PUT bound to `contentType` and, when given, capped at `maxBytes` (the route enforces both). */
  async presignPut(
    bucket: string,
    key: string,
    options: { expiresSeconds: number; contentType: string; maxBytes?: number },
  ): Promise<SignedUrl> {
    const signed = await this.#sign({ method: 'PUT', bucket, key, expiresSeconds: options.expiresSeconds }, (g) => ({
      ...g,
      contentType: options.contentType,
      ...(options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}),
    }));
    return { ...signed, headers: { 'Content-Type': options.contentType } };
  }

  /** Checks a request to `/v1/objects/<bucket>/<key>` against this store's secret (see verifyDiskObjectSignature). */
  verifySignedRequest(request: Parameters<typeof verifyDiskObjectSignature>[1]): DiskSignatureCheck {
    return verifyDiskObjectSignature(this.#secret, request);
  }

  /** Creates the bucket's directories; also removes uploads a crashed process left half-written. */
  async ensureBucket(bucket: string): Promise<void> {
    try {
      await mkdir(bucketDir(this.root, bucket), { recursive: true });
      await mkdir(metaBucketDir(this.root, bucket), { recursive: true });
      await mkdir(tmpDir(this.root), { recursive: true });
    } catch (err) {
      throw wrapFsError('create-bucket', bucket, '', err);
    }
    await removeStaleTemporaries(tmpDir(this.root), STALE_UPLOAD_MS);
  }

  /** The bucket's directory exists and is writable. */
  async ping(bucket: string): Promise<void> {
    await this.#requireBucket('ping', bucket);
    try {
      await access(bucketDir(this.root, bucket), fsConstants.W_OK);
    } catch (err) {
      throw wrapFsError('ping', bucket, '', err);
    }
  }

  destroy(): void {}

  async #sign(
    base: { method: 'GET' | 'PUT'; bucket: string; key: string; expiresSeconds: number },
    extend: (grant: Parameters<typeof signDiskObjectUrl>[2]) => Parameters<typeof signDiskObjectUrl>[2],
  ): Promise<SignedUrl> {
    keySegments(base.bucket, base.key);
    checkBucket(base.bucket);
    const seconds = checkExpiresSeconds(base.expiresSeconds);
    if (this.#publicBaseUrl === undefined) {
      throw new ObjectStoreError('DiskObjectStore: publicBaseUrl is not set yet', 'NotConfigured', 'permanent', {
        operation: 'presign',
        bucket: base.bucket,
        key: base.key,
      });
    }
    const expires = Math.floor(Date.now() / 1000) + seconds;
    const grant = extend({ method: base.method, bucket: base.bucket, key: base.key, expires });
    return {
      url: signDiskObjectUrl(this.#secret, this.#publicBaseUrl, grant),
      method: base.method,
      headers: {},
      expiresAt: new Date(expires * 1000).toISOString(),
    };
  }

  async #requireBucket(operation: string, bucket: string): Promise<void> {
    const dir = bucketDir(this.root, bucket);
    const info = await stat(dir).catch((err: unknown) => {
      if (isGone(err)) return undefined;
      throw wrapFsError(operation, bucket, '', err);
    });
    if (!info?.isDirectory()) throw noSuchBucket(operation, bucket);
  }

  /** NoSuchBucket or NoSuchKey for a failed open, whichever is true. */
  async #missing(operation: string, bucket: string, key: string, err: unknown): Promise<ObjectStoreError> {
    if (!isGone(err)) return wrapFsError(operation, bucket, key, err);
    try {
      await this.#requireBucket(operation, bucket);
    } catch (bucketError) {
      if (isObjectStoreError(bucketError)) return bucketError;
    }
    return noSuchKey(operation, bucket, key);
  }
}
