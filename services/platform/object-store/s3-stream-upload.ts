/**
 * `putStream` for S3: a multipart upload (s3-multipart.ts) fed from the guarded body, so at
 * most `queueSize + 1` parts of `partSize` bytes are in memory whatever the body's size. A body
 * smaller than one part goes up as a single PutObject.
 *
 * On any failure nothing is left behind: the multipart upload is aborted, and when the whole
 * body had already been read — so a PutObject or CompleteMultipartUpload may have reached the
 * server — the object is deleted too (a previous object under the same key would have been
 * replaced by then anyway).
 */
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { AbortMultipartUploadCommand, DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { classifyS3Error, ObjectStoreError, wrapS3Error } from './errors.js';
import { guardBody } from './guard-body.js';
import { uploadInParts } from './s3-multipart.js';
import { formatS3Uri } from './s3-uri.js';

/** 8 MiB parts: few requests for a video, little memory per upload. */
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
/** Parts in flight at once per upload. */
export const DEFAULT_QUEUE_SIZE = 2;

export interface S3StreamUploadArgs {
  /** A client whose SDK retries are on: each part is a buffer, so a retry can resend it. */
  client: S3Client;
  bucket: string;
  key: string;
  body: Readable;
  contentType?: string;
  maxBytes?: number;
  signal?: AbortSignal;
  partSize?: number;
  queueSize?: number;
  /** For messages only. */
  endpoint?: string;
}

export async function s3StreamUpload(args: S3StreamUploadArgs): Promise<{ bytes: number }> {
  const { client, bucket, key } = args;
  const uri = formatS3Uri(bucket, key);
  const guard = guardBody(
    args.body,
    { operation: 'upload', bucket, key, uri },
    {
      ...(args.maxBytes !== undefined ? { maxBytes: args.maxBytes } : {}),
      ...(args.signal ? { signal: args.signal } : {}),
    },
  );
  let uploadId: string | undefined;
  try {
    await uploadInParts(guard.stream, {
      client,
      bucket,
      key,
      ...(args.contentType ? { contentType: args.contentType } : {}),
      partSize: args.partSize ?? DEFAULT_PART_SIZE,
      queueSize: args.queueSize ?? DEFAULT_QUEUE_SIZE,
      onUploadId: (id) => {
        uploadId = id;
      },
    });
    // An abort that came after the last byte, while the object was being committed, still
    // means "do not keep it".
    if (guard.failure) throw guard.failure;
    return { bytes: guard.bytes };
  } catch (err) {
    const error = guard.failure ?? wrapS3Error('upload', bucket, key, err, args.endpoint);
    guard.stop(error);
    // Once the whole body was read, a PutObject or CompleteMultipartUpload may have stored the
    // object, unless S3 answered with a refusal (a permanent error: nothing was written).
    const mayExist = guard.ended && (guard.failure !== undefined || error.kind === 'transient');
    const leftover = await cleanUp(client, bucket, key, uploadId, mayExist);
    if (leftover === undefined) throw error;
    throw new ObjectStoreError(
      `${error.message}; removing what was uploaded failed too (${leftover})`,
      error.code,
      error.kind,
      { ...error.context, cleanupFailed: true },
      error,
    );
  } finally {
    guard.dispose();
  }
}

async function cleanUp(
  client: S3Client,
  bucket: string,
  key: string,
  uploadId: string | undefined,
  mayExist: boolean,
): Promise<string | undefined> {
  const problems: unknown[] = [];
  if (uploadId) {
    await retry(
      () => client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })),
      ['NoSuchUpload', 'NoSuchBucket'],
    ).catch((e: unknown) => problems.push(e));
  }
  if (mayExist) {
    await retry(
      () => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })),
      ['NoSuchKey', 'NoSuchBucket'],
    ).catch((e: unknown) => problems.push(e));
  }
  return problems.length > 0 ? problems.map((e) => classifyS3Error(e).code).join(', ') : undefined;
}

/** A few quick attempts for a clean-up request; `gone` codes mean there is nothing to clean. */
async function retry(fn: () => Promise<unknown>, gone: string[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await fn();
      return;
    } catch (err) {
      const { kind, code } = classifyS3Error(err);
      if (gone.includes(code)) return;
      if (kind === 'permanent' || attempt >= 3) throw err;
      await sleep(200 * attempt);
    }
  }
}
