/**
 * S3 access for the worker, the operator's finalizer and the API (the S3 `ObjectStorage`):
 * streaming download to a file, file upload, streaming upload of a request body, presigned
 * URLs, delete-by-prefix. Works with AWS S3 and S3-compatible servers (MinIO). Every failure is
 * an ObjectStoreError classified transient or permanent; transient ones are retried here with
 * exponential backoff (the SDK's own retry is off, because it cannot rewind a file stream it
 * already sent — except for `putStream`'s parts, which are buffers).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { ObjectStoreConfig } from './config.js';
import { contentTypeOf } from './content-types.js';
import { isObjectStoreError, ObjectStoreError, wrapS3Error } from './errors.js';
import { createBucket, headBucket } from './s3-bucket.js';
import { newS3Client } from './s3-client.js';
import { presignS3Get, presignS3Put } from './s3-presign.js';
import { s3StreamUpload } from './s3-stream-upload.js';
import { formatS3Uri } from './s3-uri.js';
import type { ObjectInfo, ObjectStorage, SignedUrl } from './storage.js';

export type { ObjectInfo } from './storage.js';

/** Tuning for `putStream`: each upload holds at most (queueSize + 1) × partSize bytes. */
export interface ObjectStoreOptions {
  /** Multipart part size in bytes (S3's minimum is 5 MiB, its maximum 5 GiB); default 8 MiB. */
  partSize?: number;
  /** Parts uploaded at once per `putStream` (1 to 16); default 2. */
  queueSize?: number;
}

const MIN_PART_SIZE = 5 * 1024 * 1024;

export class ObjectStore implements ObjectStorage {
  readonly client: S3Client;
  readonly #config: ObjectStoreConfig;
  readonly #options: ObjectStoreOptions;
  #uploadClient: S3Client | undefined;

  constructor(config: ObjectStoreConfig, options: ObjectStoreOptions = {}) {
    if (options.partSize !== undefined && !(Number.isInteger(options.partSize) && options.partSize >= MIN_PART_SIZE)) {
      throw new Error(`ObjectStore: partSize must be an integer of at least ${MIN_PART_SIZE} bytes (S3's minimum)`);
    }
    if (
      options.queueSize !== undefined &&
      !(Number.isInteger(options.queueSize) && options.queueSize >= 1 && options.queueSize <= 16)
    ) {
      throw new Error('ObjectStore: queueSize must be an integer from 1 to 16');
    }
    this.#config = config;
    this.#options = options;
    this.client = newS3Client(config, 1);
  }

  uri(bucket: string, key: string): string {
    return formatS3Uri(bucket, key);
  }

  /**
   * Streams an object into `file` (written beside it first, renamed when complete). An object
   * larger than `maxBytes` is refused before any of it is written (a permanent ObjectTooLarge).
   */
  async downloadToFile(
    bucket: string,
    key: string,
    file: string,
    options: { maxBytes?: number } = {},
  ): Promise<{ bytes: number }> {
    return this.#attempt('download', bucket, key, async () => {
      const res = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!(res.Body instanceof Readable)) throw new Error('GetObject returned no Node.js stream');
      if (options.maxBytes !== undefined && (res.ContentLength ?? 0) > options.maxBytes) {
        res.Body.destroy();
        const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`;
        throw new ObjectStoreError(
          `${formatS3Uri(bucket, key)} is ${mb(res.ContentLength ?? 0)}, over the ${mb(options.maxBytes)} limit`,
          'ObjectTooLarge',
          'permanent',
          { operation: 'download', bucket, key, bytes: res.ContentLength, maxBytes: options.maxBytes },
        );
      }
      const partial = `${file}.partial`;
      let bytes = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          bytes += chunk.length;
          done(null, chunk);
        },
      });
      try {
        await pipeline(res.Body, counter, createWriteStream(partial));
        if (res.ContentLength !== undefined && bytes !== res.ContentLength) {
          throw Object.assign(new Error(`download truncated: ${bytes} of ${res.ContentLength} bytes`), {
            code: 'ECONNRESET',
          });
        }
        await rename(partial, file);
      } catch (err) {
        await rm(partial, { force: true });
        throw err;
      }
      return { bytes };
    });
  }

  /** Uploads a local file (streamed; re-read from disk on a retry). */
  async uploadFile(bucket: string, key: string, file: string, contentType?: string): Promise<void> {
    const { size } = await stat(file);
    const type = contentType ?? contentTypeOf(file);
    await this.#attempt('upload', bucket, key, async () => {
      await this.client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: createReadStream(file),
          ContentLength: size,
          ContentType: type,
        }),
      );
    });
  }

  /** Size and type of an object, or undefined when it does not exist. */
  async head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    try {
      return await this.#attempt('head', bucket, key, async () => {
        const res = await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return { size: res.ContentLength ?? 0, ...(res.ContentType ? { contentType: res.ContentType } : {}) };
      });
    } catch (err) {
      if (isObjectStoreError(err) && (err.code === 'NotFound' || err.code === 'NoSuchKey')) return undefined;
      throw err;
    }
  }

  /**
   * Streams `body` into the object as a multipart upload, holding at most (queueSize + 1) part
   * buffers (24 MiB by default) whatever the body's size. Over `maxBytes` (ObjectTooLarge),
   * when `signal` aborts (Aborted) or when `body` fails (BodyStreamFailed), `body` is
   * destroyed, the upload aborted and no object is left under `key`; the promise rejects.
   * Parts are retried by the SDK (they are buffers); the body as a whole is not.
   */
  async putStream(
    bucket: string,
    key: string,
    body: Readable,
    options: { contentType?: string; maxBytes?: number; signal?: AbortSignal },
  ): Promise<{ bytes: number }> {
    this.#uploadClient ??= newS3Client(this.#config, this.#config.maxAttempts);
    return s3StreamUpload({
      client: this.#uploadClient,
      bucket,
      key,
      body,
      ...options,
      ...this.#options,
      ...(this.#config.endpoint ? { endpoint: this.#config.endpoint } : {}),
    });
  }

  /** The object's bytes as a stream, with its size and type; a missing object rejects with NoSuchKey. */
  async getStream(bucket: string, key: string): Promise<{ body: Readable; info: ObjectInfo }> {
    return this.#attempt('download', bucket, key, async () => {
      const res = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!(res.Body instanceof Readable)) throw new Error('GetObject returned no Node.js stream');
      return {
        body: res.Body,
        info: { size: res.ContentLength ?? 0, ...(res.ContentType ? { contentType: res.ContentType } : {}) },
      };
    });
  }

  /** Deletes one object; a missing one is not an error (as in S3). */
  async deleteObject(bucket: string, key: string): Promise<void> {
    await this.#attempt('delete', bucket, key, () =>
      this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })),
    );
  }

  /** A presigned GET; with `filename`, browsers download it under that name. */
  presignGet(bucket: string, key: string, options: { expiresSeconds: number; filename?: string }): Promise<SignedUrl> {
    return presignS3Get(this.client, bucket, key, options);
  }

  /**
   * A presigned PUT bound to `contentType` (the client must send that Content-Type header).
   * S3 cannot enforce `maxBytes` on a presigned PUT: check the size (`head`) before using it.
   */
  presignPut(
    bucket: string,
    key: string,
    options: { expiresSeconds: number; contentType: string; maxBytes?: number },
  ): Promise<SignedUrl> {
    return presignS3Put(this.client, bucket, key, options);
  }

  /** Creates the bucket unless this account already has it. */
  async ensureBucket(bucket: string): Promise<void> {
    await this.#attempt('create-bucket', bucket, '', () => createBucket(this.client, bucket, this.#config.region));
  }

  /** One HeadBucket, no retry, at most `timeoutMs` (for /readyz); a missing bucket is NoSuchBucket. */
  async ping(bucket: string, options: { timeoutMs?: number } = {}): Promise<void> {
    await headBucket(this.client, bucket, options.timeoutMs ?? 2_000, this.#config.endpoint);
  }

  /**
   * Deletes every object whose key starts with `prefix`, a page at a time (`pageSize` keys, at
   * most 1000, per list and delete request). Returns how many were deleted. An empty prefix is
   * refused: it would empty the bucket.
   */
  async deletePrefix(bucket: string, prefix: string, options: { pageSize?: number } = {}): Promise<number> {
    if (prefix === '') throw new Error('deletePrefix: refusing an empty prefix (it would empty the bucket)');
    const pageSize = Math.min(1000, Math.max(1, options.pageSize ?? 1000));
    let deleted = 0;
    let token: string | undefined;
    do {
      const page = await this.#attempt('list', bucket, prefix, () =>
        this.client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: pageSize, ContinuationToken: token }),
        ),
      );
      const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
      if (keys.length > 0) {
        await this.#attempt('delete', bucket, prefix, async () => {
          const res = await this.client.send(
            new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }),
          );
          // Quiet mode lists only the failures; a key already gone is not one.
          const failed = (res.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
          const first = failed[0];
          if (first) {
            throw Object.assign(
              new Error(`${failed.length} object(s) not deleted, e.g. ${first.Key}: ${first.Message}`),
              {
                name: first.Code ?? 'InternalError',
              },
            );
          }
        });
        deleted += keys.length;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return deleted;
  }

  destroy(): void {
    this.client.destroy();
    this.#uploadClient?.destroy();
  }

  /** Runs one S3 operation, retrying transient failures; every failure leaves as an ObjectStoreError. */
  async #attempt<T>(operation: string, bucket: string, key: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const error = wrapS3Error(operation, bucket, key, err, this.#config.endpoint);
        if (error.kind === 'permanent' || attempt >= this.#config.maxAttempts) throw error;
        // 200 ms, 400 ms, 800 ms… (at most 5 s), with jitter so retries of many workers spread out.
        await sleep(Math.min(5_000, 200 * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2));
      }
    }
  }
}
