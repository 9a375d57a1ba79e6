/**
 * What every object store offers the API and the workers: S3 (`ObjectStore`, MinIO or AWS) and
 * a directory on disk (`DiskObjectStore`, the embedded default of `nfc serve`). Buckets are the
 * S3 buckets, or sub-directories of the data directory. Every failure is an ObjectStoreError
 * (transient or permanent, matched on `code`).
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
   * Streams `body` into an object without holding it in memory (S3: multipart upload). Over
   * `maxBytes`, or when `signal` aborts or `body` errors, the upload is aborted and nothing is
   * left behind; the promise rejects.
   */
  putStream(
    bucket: string,
    key: string,
    body: Readable,
    options: { contentType?: string; maxBytes?: number; signal?: AbortSignal },
  ): Promise<{ bytes: number }>;
  /** The object's bytes as a stream; a missing object rejects with code NoSuchKey. */
  getStream(bucket: string, key: string): Promise<{ body: Readable; info: ObjectInfo }>;
  head(bucket: string, key: string): Promise<ObjectInfo | undefined>;
  deleteObject(bucket: string, key: string): Promise<void>;
  deletePrefix(bucket: string, prefix: string, options?: { pageSize?: number }): Promise<number>;
  presignGet(bucket: string, key: string, options: { expiresSeconds: number; filename?: string }): Promise<SignedUrl>;
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
