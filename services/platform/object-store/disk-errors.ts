/** File-system failures of the disk store, in the same terms as S3's (code + transient/permanent). */
import { isObjectStoreError, ObjectStoreError } from './errors.js';
import { formatS3Uri } from './s3-uri.js';

const PERMANENT: Record<string, string> = {
  ENOENT: 'NoSuchKey',
  EACCES: 'AccessDenied',
  EPERM: 'AccessDenied',
  EROFS: 'AccessDenied',
  // A key that is also a "directory" of other keys (a and a/b): S3 allows it, a disk cannot.
  ENOTDIR: 'KeyConflict',
  EISDIR: 'KeyConflict',
  EEXIST: 'KeyConflict',
  ENOTEMPTY: 'KeyConflict',
  ENAMETOOLONG: 'KeyTooLongError',
};

export function wrapFsError(operation: string, bucket: string, key: string, err: unknown): ObjectStoreError {
  if (isObjectStoreError(err)) return err;
  const sysCode = (err as { code?: unknown } | null)?.code;
  const fsCode = typeof sysCode === 'string' ? sysCode : 'Unknown';
  const code = PERMANENT[fsCode];
  const where = formatS3Uri(bucket, key);
  const detail = err instanceof Error ? err.message : String(err);
  return new ObjectStoreError(
    code === 'NoSuchKey' ? `${where} does not exist` : `disk ${operation} of ${where} failed (${fsCode}: ${detail})`,
    code ?? fsCode,
    code ? 'permanent' : 'transient',
    { operation, bucket, key },
    err,
  );
}

export function noSuchBucket(operation: string, bucket: string): ObjectStoreError {
  return new ObjectStoreError(`bucket "${bucket}" does not exist`, 'NoSuchBucket', 'permanent', { operation, bucket });
}

export function noSuchKey(operation: string, bucket: string, key: string): ObjectStoreError {
  return new ObjectStoreError(`${formatS3Uri(bucket, key)} does not exist`, 'NoSuchKey', 'permanent', {
    operation,
    bucket,
    key,
  });
}
