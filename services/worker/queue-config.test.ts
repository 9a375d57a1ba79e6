import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadWorkerQueueConfig } from './queue-config.js';

describe('loadWorkerQueueConfig', () => {
  it('defaults: one analysis at a time, 15 s locks, progress every second, 20 s to finish on SIGTERM', () => {
    const c = loadWorkerQueueConfig({ NFC_WORKERS: '2', NFC_SCRATCH_DIR: '/scratch' });
    assert.equal(c.concurrency, 1);
    assert.equal(c.workers, 2);
    assert.equal(c.scratchDir, '/scratch');
    assert.equal(c.backend, 'auto');
    assert.equal(c.lockMs, 15_000);
    assert.equal(c.progressIntervalMs, 1_000);
    assert.equal(c.shutdownGraceMs, 20_000);
    assert.deepEqual(c.redis, { host: '127.0.0.1', port: 6379, tls: false, db: 0 });
    assert.ok(Object.isFrozen(c));
  });

  it('reports every problem at once, Redis and S3 included', () => {
    assert.throws(
      () =>
        loadWorkerQueueConfig({
          NFC_WORKER_CONCURRENCY: '0',
          NFC_QUEUE_LOCK_MS: 'soon',
          NFC_BACKEND: 'cuda',
          NFC_REDIS_PORT: 'x',
          S3_ENDPOINT: 'minio:9000',
        }),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'WORKER_CONFIG');
        for (const name of [
          'NFC_WORKER_CONCURRENCY',
          'NFC_QUEUE_LOCK_MS',
          'NFC_BACKEND',
          'NFC_REDIS_PORT',
          'S3_ENDPOINT',
        ]) {
          assert.match(err.message, new RegExp(name));
        }
        return true;
      },
    );
  });
});
