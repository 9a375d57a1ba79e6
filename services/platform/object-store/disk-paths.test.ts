import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { objectPaths, prefixScope } from './disk-paths.js';

const root = '/data/objects';

describe('objectPaths', () => {
  it('maps a key to a file under its bucket, with metadata in the parallel .meta tree', () => {
    assert.deepEqual(objectPaths(root, 'videos', 'uploads/u1/source.mp4'), {
      bucketDir: '/data/objects/videos',
      file: '/data/objects/videos/uploads/u1/source.mp4',
      meta: '/data/objects/.meta/videos/uploads/u1/source.mp4',
    });
  });

  it('keeps odd but harmless characters as they are', () => {
    assert.equal(objectPaths(root, 'videos', 'a b/ü%20..x/.hidden').file, '/data/objects/videos/a b/ü%20..x/.hidden');
  });

  const badKeys: Record<string, [string, string]> = {
    'a parent segment': ['../x', 'InvalidKey'],
    'a parent segment deeper down': ['a/b/../../../x', 'InvalidKey'],
    'an absolute path': ['/etc/passwd', 'InvalidKey'],
    'a backslash': ['a\\..\\..\\x', 'InvalidKey'],
    'a NUL': ['a\0.png', 'InvalidKey'],
    'a newline': ['a\nb', 'InvalidKey'],
    'an empty key': ['', 'InvalidKey'],
    'an empty segment': ['a//b', 'InvalidKey'],
    'a trailing slash': ['a/', 'InvalidKey'],
    'a dot segment': ['a/./b', 'InvalidKey'],
    'a segment over 255 bytes': [`a/${'x'.repeat(256)}`, 'KeyTooLongError'],
    'a key over 1024 bytes': ['ab/'.repeat(400), 'KeyTooLongError'],
  };
  for (const [what, [key, code]] of Object.entries(badKeys)) {
    it(`refuses ${what} (permanent ${code})`, () => {
      assert.throws(() => objectPaths(root, 'videos', key), { code, kind: 'permanent' });
    });
  }

  for (const bucket of ['..', '.meta', '.tmp', 'a/b', 'Videos', 'ab', '', 'a..b', `x${'y'.repeat(63)}`]) {
    it(`refuses the bucket name ${JSON.stringify(bucket)}`, () => {
      assert.throws(() => objectPaths(root, bucket, 'k'), { code: 'InvalidBucketName', kind: 'permanent' });
    });
  }
});

describe('prefixScope', () => {
  it('walks only the directory the prefix names', () => {
    assert.deepEqual(prefixScope(root, 'videos', 'analyses/a1/'), {
      dir: '/data/objects/videos/analyses/a1',
      dirKey: 'analyses/a1',
    });
    assert.deepEqual(prefixScope(root, 'videos', 'analyses/a1'), {
      dir: '/data/objects/videos/analyses',
      dirKey: 'analyses',
    });
    assert.deepEqual(prefixScope(root, 'videos', 'ana'), { dir: '/data/objects/videos', dirKey: '' });
  });

  it('refuses an empty prefix and one that leaves the bucket', () => {
    assert.throws(() => prefixScope(root, 'videos', ''), { code: 'InvalidArgument' });
    assert.throws(() => prefixScope(root, 'videos', '../'), { code: 'InvalidKey' });
    assert.throws(() => prefixScope(root, 'videos', 'a/../../x'), { code: 'InvalidKey' });
  });
});
