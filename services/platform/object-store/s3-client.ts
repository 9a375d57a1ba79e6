/** The S3 client every ObjectStore request goes through. */
import { S3Client } from '@aws-sdk/client-s3';
import type { ObjectStoreConfig } from './config.js';

/**
 * `maxAttempts` is the SDK's own retry: 1 where a request body is a file stream it could not
 * rewind (ObjectStore retries those itself), more where bodies are buffers (putStream's parts).
 */
export function newS3Client(config: ObjectStoreConfig, maxAttempts: number): S3Client {
  return new S3Client({
    region: config.region,
    forcePathStyle: config.forcePathStyle,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(config.credentials ? { credentials: config.credentials } : {}),
    maxAttempts,
    // S3-compatible servers differ in which checksums they accept: send them only where the
    // API requires one (DeleteObjects), as SDKs did before 2025.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 60_000 },
  });
}
