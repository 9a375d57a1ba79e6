import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NoSuchBucket, NoSuchKey, NotFound, S3ServiceException } from '@aws-sdk/client-s3';
import { classifyS3Error } from './errors.js';

const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });
const service = (name: string, status: number) =>
  new S3ServiceException({ name, $fault: status >= 500 ? 'server' : 'client', ...meta(status), message: name });
const sysError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:9000`), { code });

describe('classifyS3Error', () => {
  const cases: Record<string, [unknown, 'transient' | 'permanent', string]> = {
    'a missing object': [new NoSuchKey({ message: 'no such key', ...meta(404) }), 'permanent', 'NoSuchKey'],
    "HeadObject's bodiless 404": [new NotFound({ message: 'UnknownError', ...meta(404) }), 'permanent', 'NotFound'],
    'a missing bucket': [new NoSuchBucket({ message: 'no bucket', ...meta(404) }), 'permanent', 'NoSuchBucket'],
    'access denied': [service('AccessDenied', 403), 'permanent', 'AccessDenied'],
    'a wrong secret key': [service('SignatureDoesNotMatch', 403), 'permanent', 'SignatureDoesNotMatch'],
    'an unknown 4xx': [service('SomethingNew', 400), 'permanent', 'SomethingNew'],
    throttling: [service('SlowDown', 503), 'transient', 'SlowDown'],
    'a 429 of another name': [service('TooManyRequests', 429), 'transient', 'TooManyRequests'],
    'an internal error': [service('InternalError', 500), 'transient', 'InternalError'],
    'an unknown 5xx': [service('Whatever', 502), 'transient', 'Whatever'],
    'connection refused': [sysError('ECONNREFUSED'), 'transient', 'ECONNREFUSED'],
    'connection reset mid-download': [sysError('ECONNRESET'), 'transient', 'ECONNRESET'],
    'DNS failure': [sysError('ENOTFOUND'), 'transient', 'ENOTFOUND'],
    'every address refused (AggregateError)': [
      Object.assign(new AggregateError([sysError('ECONNREFUSED'), sysError('ECONNREFUSED')]), { code: undefined }),
      'transient',
      'ECONNREFUSED',
    ],
    'a timeout from the HTTP handler': [
      Object.assign(new Error('timed out'), { name: 'TimeoutError' }),
      'transient',
      'TimeoutError',
    ],
    'something unknown': [new Error('?'), 'transient', 'Error'],
  };
  for (const [what, [error, kind, code]] of Object.entries(cases)) {
    it(`${what}: ${kind}`, () => {
      const c = classifyS3Error(error);
      assert.equal(c.kind, kind);
      assert.equal(c.code, code);
    });
  }
});
