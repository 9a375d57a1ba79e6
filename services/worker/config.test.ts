import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadWorkerJobConfig } from './config.js';

describe('loadWorkerJobConfig', () => {
  it('takes the resource from the arguments, else from NFC_NAMESPACE/NFC_NAME', () => {
    const env = { NFC_NAMESPACE: 'athletes', NFC_NAME: 'squat-001', NFC_SCRATCH_DIR: '/scratch', NFC_BACKEND: 'wasm' };
    const fromEnv = loadWorkerJobConfig({}, env);
    assert.equal(fromEnv.namespace, 'athletes');
    assert.equal(fromEnv.name, 'squat-001');
    assert.equal(fromEnv.scratchDir, '/scratch');
    assert.equal(fromEnv.backend, 'wasm');
    assert.equal(fromEnv.progressIntervalMs, 2000);
    assert.equal(fromEnv.terminationLogPath, '/dev/termination-log');
    assert.ok(fromEnv.workers >= 1);
    assert.ok(Object.isFrozen(fromEnv));
    assert.equal(loadWorkerJobConfig({ namespace: 'other', name: 'x' }, env).namespace, 'other');
  });

  it('reports every bad setting at once', () => {
    assert.throws(
      () => loadWorkerJobConfig({ name: 'Not_A_Name' }, { NFC_BACKEND: 'cuda', NFC_WORKERS: '0', S3_ENDPOINT: 'x' }),
      (err: Error & { code?: string }) =>
        err.code === 'WORKER_CONFIG' &&
        ['namespace', 'name must be', 'NFC_BACKEND', 'NFC_WORKERS', 'S3_ENDPOINT'].every((s) =>
          err.message.includes(s),
        ),
    );
  });
});
