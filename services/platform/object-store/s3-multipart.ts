/**
 * The S3 requests of one streamed upload, with a fixed memory budget: the body is copied into
 * at most `queueSize + 1` part buffers of `partSize` bytes, allocated once and reused as parts
 * complete, so a 1 GiB upload holds the same ~24 MB as a 20 MB one and leaves no garbage for
 * the collector to catch up with. (lib-storage's Upload concatenates a fresh buffer per part;
 * under V8's external-memory GC threshold that grew the RSS by ~70 MB per upload here.) A body
 * that fits in one part goes up as a single PutObject.
 */
import type { Readable } from 'node:stream';
import {
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';

export interface MultipartTarget {
  client: S3Client;
  bucket: string;
  key: string;
  contentType?: string;
  partSize: number;
  queueSize: number;
  /** Set as soon as a multipart upload exists, so a failure can abort it. */
  onUploadId(uploadId: string): void;
}

/** S3's limit per multipart upload: with 8 MiB parts, objects up to 78 GiB. */
const MAX_PARTS = 10_000;

/** Reads `body` to its end and stores it under the key; rejects on the first failed request. */
export async function uploadInParts(body: Readable, target: MultipartTarget): Promise<void> {
  const { client, bucket, key, partSize, queueSize } = target;
  const type = target.contentType ? { ContentType: target.contentType } : {};
  const spare: Buffer[] = [];
  const inFlight = new Set<Promise<void>>();
  const parts: CompletedPart[] = [];
  let failure: { error: unknown } | undefined;
  let uploadId: string | undefined;
  let current: Buffer = Buffer.allocUnsafe(partSize);
  let filled = 0;
  let partNumber = 1;

  const send = async (buffer: Buffer, length: number) => {
    if (uploadId === undefined) {
      const created = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...type }));
      if (!created.UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
      uploadId = created.UploadId;
      target.onUploadId(uploadId);
    }
    const number = partNumber++;
    if (number > MAX_PARTS) {
      throw Object.assign(new Error(`more than ${MAX_PARTS} parts of ${partSize} bytes`), { name: 'EntityTooLarge' });
    }
    const task = client
      .send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: number,
          Body: buffer.subarray(0, length),
          ContentLength: length,
        }),
      )
      .then(
        (res) => {
          parts.push({ PartNumber: number, ETag: res.ETag });
          spare.push(buffer);
        },
        (error: unknown) => {
          failure ??= { error };
        },
      )
      .finally(() => inFlight.delete(task));
    inFlight.add(task);
    // Back-pressure: no more reading while the queue is full.
    while (inFlight.size >= queueSize && !failure) await Promise.race(inFlight);
  };

  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      let offset = 0;
      while (offset < chunk.length) {
        const n = Math.min(partSize - filled, chunk.length - offset);
        chunk.copy(current, filled, offset, offset + n);
        filled += n;
        offset += n;
        if (filled === partSize) {
          await send(current, filled);
          if (failure) break;
          current = spare.pop() ?? Buffer.allocUnsafe(partSize);
          filled = 0;
        }
      }
      // Leaving the loop destroys the body: no point reading what can no longer be stored.
      if (failure) break;
    }
  } catch (err) {
    // The body failed: let the parts in flight settle before the caller aborts the upload.
    await Promise.all(inFlight);
    throw err;
  }
  if (!failure && uploadId === undefined) {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: current.subarray(0, filled), ...type }));
    return;
  }
  if (!failure && filled > 0) await send(current, filled);
  await Promise.all(inFlight);
  if (failure) throw failure.error;
  parts.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
  await client.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId: uploadId,
      MultipartUpload: { Parts: parts },
    }),
  );
}
