/**
 * S3 access for the worker, the operator's finalizer and the API: streaming download to a
 * file, file upload, delete-by-prefix. Works with AWS S3 and S3-compatible servers (MinIO).
 * Every failure is an ObjectStoreError classified transient or permanent; transient ones are
 * retried here with exponential backoff (the SDK's own retry is off, because it cannot rewind
 * a file stream it already sent).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { ObjectStoreConfig } from './config.js';
import { classifyS3Error, isObjectStoreError, ObjectStoreError } from './errors.js';
import { formatS3Uri } from './s3-uri.js';

export interface ObjectInfo {
  size: number;
  contentType?: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.csv': 'text/csv; charset=utf-8',
  '.png': 'image/png',
  '.mp4': 'video/mp4',
  '.mov': 'video/quicktime',
  '.webm': 'video/webm',
  '.mkv': 'video/x-matroska',
};

export class ObjectStore {
  readonly client: S3Client;
  readonly #config: ObjectStoreConfig;

  constructor(config: ObjectStoreConfig) {
    this.#config = config;
    this.client = new S3Client({
      region: config.region,
      forcePathStyle: config.forcePathStyle,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      ...(config.credentials ? { credentials: config.credentials } : {}),
      maxAttempts: 1,
      // S3-compatible servers differ in which checksums they accept: send them only where the
      // API requires one (DeleteObjects), as SDKs did before 2025.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 60_000 },
    });
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
    const type = contentType ?? CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
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
  }

  /** Runs one S3 operation, retrying transient failures; every failure leaves as an ObjectStoreError. */
  async #attempt<T>(operation: string, bucket: string, key: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const error = this.#wrap(operation, bucket, key, err);
        if (error.kind === 'permanent' || attempt >= this.#config.maxAttempts) throw error;
        // 200 ms, 400 ms, 800 ms… (at most 5 s), with jitter so retries of many workers spread out.
        await sleep(Math.min(5_000, 200 * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2));
      }
    }
  }

  #wrap(operation: string, bucket: string, key: string, err: unknown): ObjectStoreError {
    if (isObjectStoreError(err)) return err;
    const { kind, code, httpStatus, network } = classifyS3Error(err);
    const where = formatS3Uri(bucket, key);
    const detail = err instanceof Error && err.message && err.message !== code ? `: ${err.message}` : '';
    const message =
      code === 'NoSuchKey' || code === 'NotFound'
        ? `${where} does not exist`
        : code === 'NoSuchBucket'
          ? `bucket "${bucket}" does not exist`
          : code === 'AccessDenied' || code === 'InvalidAccessKeyId' || code === 'SignatureDoesNotMatch'
            ? `access to ${where} denied (${code}): check the S3 credentials and the bucket policy`
            : network
              ? `object store ${this.#config.endpoint ?? 'S3'} unreachable during ${operation} of ${where} (${code}${detail})`
              : `S3 ${operation} of ${where} failed (${code}${detail})`;
    return new ObjectStoreError(
      message,
      code,
      kind,
      { operation, bucket, key, ...(httpStatus !== undefined ? { httpStatus } : {}) },
      err,
    );
  }
}
