/**
 * What every object store offers the API and the workers: S3 (`ObjectStore`, MinIO or AWS) and
 * a directory on disk (`DiskObjectStore`, the embedded default of `nfc serve`). Buckets are the
 * S3 buckets, or sub-directories of the data directory. Every failure is an ObjectStoreError
 * (transient or permanent, matched on `code`): NoSuchKey, NoSuchBucket, ObjectTooLarge, Aborted,
 * BodyStreamFailed, AccessDenied, InvalidKey / InvalidBucketName (disk: a key that would leave
 * its bucket), network and S3 codes. `openObjectStorage(config)` opens either.
 */
import type { Readable } from 'node:stream';

export interface ObjectInfo {
  size: number;
  contentType?: string;
}

/** A URL the client uses without our credentials (S3 presigned, or signed by the API for disk). */
export interface SignedUrl {
  url: string;
  method: 'GET' | 'PUT';
  /** Headers the client must send with it (e.g. Content-Type for a presigned PUT). */
  headers: Record<string, string>;
  expiresAt: string;
}

export interface ObjectStorage {
  /** `s3://bucket/key` for S3; the same form for disk (a stable name, not a path to open). */
  uri(bucket: string, key: string): string;
  downloadToFile(
    bucket: string,
    key: string,
    file: string,
    options?: { maxBytes?: number },
  ): Promise<{ bytes: number }>;
  uploadFile(bucket: string, key: string, file: string, contentType?: string): Promise<void>;
  /**
   * Streams `body` into an object without holding it in memory (S3: multipart upload; disk: a
   * temporary file renamed into place), so the object appears under `key` only when complete.
   * Over `maxBytes` (code ObjectTooLarge), when `signal` aborts (Aborted) or when `body` errors
   * or closes early, e.g. a client that disconnected (BodyStreamFailed, the body's error as
   * `cause`): `body` is destroyed, the upload aborted, nothing is left under `key`, and the
   * promise rejects. Resolves with the bytes stored.
   */
  putStream(
    bucket: string,
    key: string,
    body: Readable,
    options: { contentType?: string; maxBytes?: number; signal?: AbortSignal },
  ): Promise<{ bytes: number }>;
  /** The object's bytes as a stream; a missing object rejects with code NoSuchKey. */
  getStream(bucket: string, key: string): Promise<{ body: Readable; info: ObjectInfo }>;
  /** Size and type, or undefined when there is no such object. */
  head(bucket: string, key: string): Promise<ObjectInfo | undefined>;
  /** A missing object is not an error. */
  deleteObject(bucket: string, key: string): Promise<void>;
  /** Deletes every key starting with `prefix` (an empty prefix is refused); returns how many. */
  deletePrefix(bucket: string, prefix: string, options?: { pageSize?: number }): Promise<number>;
  /**
   * A URL that downloads the object without credentials, for `expiresSeconds` (1 s to 7 days);
   * with `filename`, served as an attachment of that name.
   */
  presignGet(bucket: string, key: string, options: { expiresSeconds: number; filename?: string }): Promise<SignedUrl>;
  /**
   * A URL that stores the object with a PUT carrying `headers` (Content-Type is bound into the
   * signature). The disk store's route also enforces `maxBytes`; S3 cannot on a presigned PUT,
   * so check the size (`head`) before using an object uploaded this way.
   */
  presignPut(
    bucket: string,
    key: string,
    options: { expiresSeconds: number; contentType: string; maxBytes?: number },
  ): Promise<SignedUrl>;
  /** Creates the bucket when it does not exist (used at start-up by `nfc serve` and tests). */
  ensureBucket(bucket: string): Promise<void>;
  /** Cheap round trip for /readyz. */
  ping(bucket: string): Promise<void>;
  destroy(): void;
}
