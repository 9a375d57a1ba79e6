import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { DiskObjectStore } from '../platform/object-store/disk-object-store.js';
import { downloadSource } from './download-source.js';
import { describeFailure } from './failure.js';

describe('downloadSource (the disk object store)', () => {
  let dir: string;
  let store: DiskObjectStore;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nfc-download-source-'));
    store = new DiskObjectStore({ root: join(dir, 'objects'), signingSecret: randomBytes(32).toString('hex') });
    await store.ensureBucket('videos');
    await store.putStream('videos', 'uploads/u1/squat.MP4', Readable.from([Buffer.from('not really a video')]), {
      contentType: 'video/mp4',
    });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('brings the object into the work directory, keeping its extension as a hint', async () => {
    const { video, bytes } = await downloadSource(store, { bucket: 'videos', key: 'uploads/u1/squat.MP4' }, 'uri', dir);
    assert.equal(basename(video), 'source.mp4');
    assert.equal(bytes, 18);
    assert.equal(await readFile(video, 'utf8'), 'not really a video');
  });

  it('a missing key or bucket fails for good with SOURCE_MISSING and names the source', async () => {
    for (const [source, wrong] of [
      [{ bucket: 'videos', key: 'uploads/u1/gone.mp4' }, 'key'],
      [{ bucket: 'no-such-bucket', key: 'uploads/u1/squat.MP4' }, 'bucket'],
    ] as const) {
      const uri = store.uri(source.bucket, source.key);
      const failure = await downloadSource(store, source, uri, dir).then(
        () => assert.fail('downloaded a source that does not exist'),
        (err: unknown) => describeFailure(err),
      );
      assert.deepEqual(failure, {
        kind: 'permanent',
        code: 'SOURCE_MISSING',
        message: `the source video ${uri} does not exist (deleted after upload, or a wrong ${wrong})`,
      });
    }
  });
});
