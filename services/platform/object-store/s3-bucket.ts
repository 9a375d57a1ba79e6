/** Bucket-level S3 requests: create-if-missing at start-up, and the readiness probe. */
import { BucketAlreadyOwnedByYou, CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { ObjectStoreError, wrapS3Error } from './errors.js';

/** CreateBucket; a bucket this account already owns is success (S3 says BucketAlreadyOwnedByYou). */
export async function createBucket(client: S3Client, bucket: string, region: string): Promise<void> {
  try {
    await client.send(
      new CreateBucketCommand({
        Bucket: bucket,
        // us-east-1 is the one region S3 wants no location constraint for.
        ...(region !== 'us-east-1' ? { CreateBucketConfiguration: { LocationConstraint: region as never } } : {}),
      }),
    );
  } catch (err) {
    if (err instanceof BucketAlreadyOwnedByYou || (err as { name?: string }).name === 'BucketAlreadyOwnedByYou') return;
    throw err;
  }
}

/** One HeadBucket within `timeoutMs`, not retried: a probe must answer now. */
export async function headBucket(
  client: S3Client,
  bucket: string,
  timeoutMs: number,
  endpoint?: string,
): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    // HeadBucket's 404 has no body, so no code: name it.
    if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) {
      throw new ObjectStoreError(`bucket "${bucket}" does not exist`, 'NoSuchBucket', 'permanent', {
        operation: 'ping',
        bucket,
      });
    }
    throw wrapS3Error('ping', bucket, '', err, endpoint);
  }
}
