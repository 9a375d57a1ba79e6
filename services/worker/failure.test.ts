import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EngineError } from '../analysis/errors.js';
import { ObjectStoreError } from '../platform/object-store/errors.js';
import { describeFailure, kubeCall } from './failure.js';

const apiError = (code: number) => Object.assign(new Error(`HTTP-Code: ${code}`), { code });

describe('describeFailure: permanent ends the Job at once, transient lets it retry', () => {
  it('a corrupt video is permanent, with the engine message for the user', () => {
    const f = describeFailure(new EngineError('CORRUPT_VIDEO', 'The file is not a readable video.'));
    assert.deepEqual(f, {
      kind: 'permanent',
      code: 'CORRUPT_VIDEO',
      message: 'the video cannot be analysed: The file is not a readable video.',
    });
  });

  it('an engine failure on our side is transient', () => {
    assert.equal(describeFailure(new EngineError('BACKEND_UNAVAILABLE', 'no backend')).kind, 'transient');
  });

  it('object-store errors keep their own classification and message', () => {
    const missing = new ObjectStoreError('s3://v/a.mp4 does not exist', 'NoSuchKey', 'permanent', {});
    assert.deepEqual(describeFailure(missing), {
      kind: 'permanent',
      code: 'NoSuchKey',
      message: 's3://v/a.mp4 does not exist',
    });
    const down = new ObjectStoreError('unreachable', 'ECONNREFUSED', 'transient', {});
    assert.equal(describeFailure(down).kind, 'transient');
  });

  it('API calls: 5xx, 429 and no answer are transient; 404 and 403 are permanent', async () => {
    const outcome = async (err: unknown) =>
      describeFailure(await kubeCall('read it', () => Promise.reject(err)).catch((e: unknown) => e));
    assert.equal((await outcome(apiError(503))).kind, 'transient');
    assert.equal((await outcome(apiError(429))).kind, 'transient');
    assert.equal((await outcome(new TypeError('fetch failed'))).kind, 'transient');
    const notFound = await outcome(apiError(404));
    assert.equal(notFound.kind, 'permanent');
    assert.equal(notFound.code, 'KUBE_API_404');
    assert.match(notFound.message, /could not read it: HTTP 404/);
    assert.equal((await outcome(apiError(403))).kind, 'permanent');
  });

  it('anything unexpected is transient (a retry is bounded by the Job backoff limit)', () => {
    assert.equal(describeFailure(new Error('boom')).kind, 'transient');
    assert.equal(describeFailure('weird').code, 'INTERNAL');
  });
});
