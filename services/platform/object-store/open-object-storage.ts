/**
 * Opens the object store a process is configured for: S3 (MinIO or AWS) in the cluster and
 * with the queue, a directory on disk for `nfc serve`.
 */
import type { ObjectStoreConfig } from './config.js';
import { DiskObjectStore, type DiskObjectStoreOptions } from './disk-object-store.js';
import { ObjectStore, type ObjectStoreOptions } from './object-store.js';
import type { ObjectStorage } from './storage.js';

export type S3StorageConfig = { kind: 's3' } & ObjectStoreConfig & ObjectStoreOptions;
export type DiskStorageConfig = { kind: 'disk' } & DiskObjectStoreOptions;
export type ObjectStorageConfig = S3StorageConfig | DiskStorageConfig;

export function openObjectStorage(config: S3StorageConfig): ObjectStore;
export function openObjectStorage(config: DiskStorageConfig): DiskObjectStore;
export function openObjectStorage(config: ObjectStorageConfig): ObjectStorage;
export function openObjectStorage(config: ObjectStorageConfig): ObjectStorage {
  switch (config.kind) {
    case 's3': {
      const { kind: _kind, partSize, queueSize, ...s3 } = config;
      return new ObjectStore(s3, {
        ...(partSize !== undefined ? { partSize } : {}),
        ...(queueSize !== undefined ? { queueSize } : {}),
      });
    }
    case 'disk':
      return new DiskObjectStore({
        root: config.root,
        signingSecret: config.signingSecret,
        ...(config.publicBaseUrl !== undefined ? { publicBaseUrl: config.publicBaseUrl } : {}),
      });
  }
}
