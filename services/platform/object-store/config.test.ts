import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { objectStoreConfigFromEnv } from './config.js';
import { formatS3Uri, keyUnder, parseS3Uri } from './s3-uri.js';

describe('objectStoreConfigFromEnv', () => {
  it('reads the S3 Secret keys; a custom endpoint means path-style', () => {
    const c = objectStoreConfigFromEnv({
      AWS_ACCESS_KEY_ID: 'id',
      AWS_SECRET_ACCESS_KEY: 'secret',
      S3_ENDPOINT: 'http://minio:9000',
      S3_REGION: 'eu-west-1',
    });
    assert.deepEqual(c, {
      endpoint: 'http://minio:9000',
      region: 'eu-west-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'id', secretAccessKey: 'secret' },
      maxAttempts: 3,
    });
  });

  it('without an endpoint or keys: AWS S3 with the SDK credential chain', () => {
    assert.deepEqual(objectStoreConfigFromEnv({}), { region: 'us-east-1', forcePathStyle: false, maxAttempts: 3 });
  });

  it('reports every problem at once', () => {
    assert.throws(
      () => objectStoreConfigFromEnv({ S3_ENDPOINT: 'minio:9000', AWS_ACCESS_KEY_ID: 'id', S3_MAX_ATTEMPTS: '0' }),
      (err: Error) =>
        /S3_ENDPOINT must be an http\(s\) URL/.test(err.message) &&
        /set together/.test(err.message) &&
        /S3_MAX_ATTEMPTS/.test(err.message),
    );
  });
});

describe('s3 URIs and keys', () => {
  it('formats and parses s3://bucket/key', () => {
    assert.equal(formatS3Uri('results', 'a/b.json'), 's3://results/a/b.json');
    assert.deepEqual(parseS3Uri('s3://results/a/b.json'), { bucket: 'results', key: 'a/b.json' });
    assert.equal(parseS3Uri('https://x/y'), undefined);
    assert.equal(parseS3Uri('s3://bucket-only'), undefined);
  });

  it('puts exactly one slash between prefix and name', () => {
    assert.equal(keyUnder('analyses/x/', 'report.json'), 'analyses/x/report.json');
    assert.equal(keyUnder('analyses/x', 'report.json'), 'analyses/x/report.json');
    assert.equal(keyUnder('', '/thumbnails/rep-01.png'), 'thumbnails/rep-01.png');
  });
});
