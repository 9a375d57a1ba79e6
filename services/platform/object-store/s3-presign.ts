/**
 * Presigned S3 URLs: a GET the browser can follow (optionally downloaded under a file name),
 * and a PUT whose Content-Type is part of the signature, so the client cannot store the object
 * under another type. A presigned PUT cannot cap the size: whoever registers the upload
 * afterwards must check it (`head`).
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { contentDisposition } from './content-disposition.js';
import { checkExpiresSeconds } from './expiry.js';
import type { SignedUrl } from './storage.js';

export async function presignS3Get(
  client: S3Client,
  bucket: string,
  key: string,
  options: { expiresSeconds: number; filename?: string },
): Promise<SignedUrl> {
  const expiresIn = checkExpiresSeconds(options.expiresSeconds);
  const command = new GetObjectCommand({
    Bucket: bucket,
    Key: key,
    ...(options.filename ? { ResponseContentDisposition: contentDisposition(options.filename) } : {}),
  });
  const url = await getSignedUrl(client, command, { expiresIn });
  return { url, method: 'GET', headers: {}, expiresAt: new Date(Date.now() + expiresIn * 1000).toISOString() };
}

export async function presignS3Put(
  client: S3Client,
  bucket: string,
  key: string,
  options: { expiresSeconds: number; contentType: string },
): Promise<SignedUrl> {
  const expiresIn = checkExpiresSeconds(options.expiresSeconds);
  const command = new PutObjectCommand({ Bucket: bucket, Key: key, ContentType: options.contentType });
  // content-type stays a header (only x-amz-* headers move into the query) and is signed.
  const url = await getSignedUrl(client, command, { expiresIn, signableHeaders: new Set(['content-type']) });
  return {
    url,
    method: 'PUT',
    headers: { 'Content-Type': options.contentType },
    expiresAt: new Date(Date.now() + expiresIn * 1000).toISOString(),
  };
}
