/**
 * The first step of every analysis: the source video from object storage to the task's scratch
 * directory, under the engine's size cap (checked before the download fills the volume). A
 * source that is not there (deleted after upload, a wrong key or bucket in a manifest) fails
 * the analysis for good with SOURCE_MISSING and a sentence naming it, instead of the store's
 * bare NoSuchKey.
 */
import { extname, join } from 'node:path';
import { DEFAULT_LIMITS } from '../analysis/limits.js';
import { isObjectStoreError } from '../platform/object-store/errors.js';
import type { ObjectStorage } from '../platform/object-store/storage.js';
import { JobError } from './failure.js';

const MISSING_CODES = new Set(['NoSuchKey', 'NoSuchBucket']);

/** Downloads `source` into `workDir`; the file keeps the key's extension (only a hint: the probe checks the real format). */
export async function downloadSource(
  store: Pick<ObjectStorage, 'downloadToFile'>,
  source: { bucket: string; key: string },
  sourceUri: string,
  workDir: string,
): Promise<{ video: string; bytes: number }> {
  const ext = extname(source.key).toLowerCase();
  const video = join(workDir, `source${/^\.[a-z0-9]{1,5}$/.test(ext) ? ext : ''}`);
  try {
    const { bytes } = await store.downloadToFile(source.bucket, source.key, video, {
      maxBytes: DEFAULT_LIMITS.maxBytes,
    });
    return { video, bytes };
  } catch (err) {
    if (isObjectStoreError(err) && MISSING_CODES.has(err.code)) {
      throw new JobError(
        'permanent',
        'SOURCE_MISSING',
        `the source video ${sourceUri} does not exist (deleted after upload, or a wrong ${err.code === 'NoSuchBucket' ? 'bucket' : 'key'})`,
        { cause: err },
      );
    }
    throw err;
  }
}
