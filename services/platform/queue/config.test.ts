import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeFailure, encodeFailure } from './analysis-queue.js';
import { redisConfigFromEnv } from './config.js';
import { describeRedis, redisOptions } from './connection.js';

describe('redisConfigFromEnv', () => {
  it('defaults to a local Redis without TLS', () => {
    assert.deepEqual(redisConfigFromEnv({}), { host: '127.0.0.1', port: 6379, tls: false, db: 0 });
  });

  it('reads host, port, credentials, TLS and database', () => {
    const c = redisConfigFromEnv({
      NFC_REDIS_HOST: 'redis.nfc.svc',
      NFC_REDIS_PORT: '6380',
      NFC_REDIS_USERNAME: 'nfc',
      NFC_REDIS_PASSWORD: 's3cret',
      NFC_REDIS_TLS: 'TRUE',
      NFC_REDIS_DB: '2',
    });
    assert.deepEqual(c, { host: 'redis.nfc.svc', port: 6380, username: 'nfc', password: 's3cret', tls: true, db: 2 });
    assert.equal(describeRedis(c), 'rediss://redis.nfc.svc:6380/2', 'never the password');
  });

  it('reports every problem at once', () => {
    assert.throws(
      () =>
        redisConfigFromEnv({
          NFC_REDIS_HOST: 'redis://x',
          NFC_REDIS_PORT: '70000',
          NFC_REDIS_TLS: 'yes',
          NFC_REDIS_DB: '-1',
          NFC_REDIS_USERNAME: 'nfc',
        }),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'REDIS_CONFIG');
        for (const name of [
          'NFC_REDIS_HOST',
          'NFC_REDIS_PORT',
          'NFC_REDIS_TLS',
          'NFC_REDIS_DB',
          'NFC_REDIS_PASSWORD',
        ]) {
          assert.match(err.message, new RegExp(name));
        }
        return true;
      },
    );
  });
});

describe('redisOptions', () => {
  const config = redisConfigFromEnv({ NFC_REDIS_PASSWORD: 'pw', NFC_REDIS_TLS: 'true' });

  it('blocking connections wait for Redis to come back; request ones give up after two reconnections', () => {
    assert.equal(redisOptions(config, 'blocking').maxRetriesPerRequest, null);
    assert.equal(redisOptions(config, 'request').maxRetriesPerRequest, 2);
  });

  it('reconnects for ever, quickly at first, at most every 2 s', () => {
    const { retryStrategy } = redisOptions(config, 'blocking');
    assert.equal(retryStrategy(1), 100);
    assert.equal(retryStrategy(1000), 2000);
  });

  it('passes the password and TLS (checked against the host name)', () => {
    const o = redisOptions(config, 'request');
    assert.equal(o.password, 'pw');
    assert.deepEqual(o.tls, { servername: '127.0.0.1' });
  });
});

describe('failure reasons', () => {
  it('carry the code in front of the message, and give both back', () => {
    const reason = encodeFailure('CORRUPT_VIDEO', 'the video cannot be analysed: [moov] atom not found');
    assert.deepEqual(decodeFailure(reason), {
      code: 'CORRUPT_VIDEO',
      message: 'the video cannot be analysed: [moov] atom not found',
    });
  });

  it("BullMQ's own reasons have no code", () => {
    assert.deepEqual(decodeFailure('job stalled more than allowable limit'), {
      message: 'job stalled more than allowable limit',
    });
    assert.deepEqual(decodeFailure(undefined), { message: 'the analysis failed' });
  });
});
