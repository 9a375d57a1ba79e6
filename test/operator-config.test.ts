/** The operator's settings (operator/config.ts) and its health report (operator/health.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, ENV, loadConfig } from '../operator/config.js';
import { healthReport } from '../operator/health.js';

describe('operator loadConfig', () => {
  it('fills every default from the schema and freezes the result', () => {
    const c = loadConfig({ NFC_POD_NAME: 'op-0', NFC_NAMESPACE: 'nfc' });
    assert.equal(c.job.maxRunning, 8);
    assert.equal(c.job.gpuResourceName, 'nvidia.com/gpu');
    assert.deepEqual(c.job.gpuTolerations, []);
    assert.deepEqual(c.watchNamespaces, []);
    assert.equal(c.leaderElection.identity, 'op-0');
    assert.equal(c.leaderElection.leaseNamespace, 'nfc', 'the pod namespace by default');
    assert.equal(c.leaderElection.leaseDurationSeconds, 15);
    assert.equal(c.metricsPort, 9090);
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.job) && Object.isFrozen(c.job.cpu));
    assert.throws(() => {
      (c.job as { maxRunning: number }).maxRunning = 1;
    });
  });

  it('reads JSON, lists, integers and booleans from their variables', () => {
    const c = loadConfig({
      NFC_GPU_NODE_SELECTOR: '{"gpu":"a100"}',
      NFC_GPU_TOLERATIONS: '[{"key":"nvidia.com/gpu","operator":"Exists","effect":"NoSchedule"}]',
      NFC_WATCH_NAMESPACES: 'team-a, team-b',
      NFC_MAX_RUNNING: '12',
      NFC_OPERATOR_LEADER_ELECT: 'false',
      NFC_WORKER_CPU: '{"request":"500m","limit":"1"}',
    });
    assert.deepEqual(c.job.gpuNodeSelector, { gpu: 'a100' });
    assert.equal(c.job.gpuTolerations[0]?.operator, 'Exists');
    assert.deepEqual(c.watchNamespaces, ['team-a', 'team-b']);
    assert.equal(c.job.maxRunning, 12);
    assert.equal(c.leaderElection.enabled, false);
    assert.deepEqual(c.job.cpu, { request: '500m', limit: '1' });
  });

  it('reports every problem at once, each with its path and variable', () => {
    let error: unknown;
    try {
      loadConfig({
        NFC_MAX_RUNNING: 'many',
        NFC_GPU_TOLERATIONS: '[{"key":1,"operator":"Sometimes"}]',
        NFC_WORKER_MEMORY: '{not json',
        NFC_OPERATOR_LEASE_DURATION_SECONDS: '0',
        NFC_OPERATOR_LEADER_ELECT: 'perhaps',
      });
    } catch (err) {
      error = err;
    }
    assert.ok(error instanceof ConfigError);
    assert.equal(error.code, 'INVALID_CONFIG');
    const where = error.problems.map((p) => `${p.path} ${p.variable}`);
    for (const expected of [
      '/job/maxRunning NFC_MAX_RUNNING',
      '/job/gpuTolerations/0/key NFC_GPU_TOLERATIONS',
      '/job/gpuTolerations/0/operator NFC_GPU_TOLERATIONS',
      '/job/memory NFC_WORKER_MEMORY',
      '/leaderElection/leaseDurationSeconds NFC_OPERATOR_LEASE_DURATION_SECONDS',
      '/leaderElection/enabled NFC_OPERATOR_LEADER_ELECT',
    ]) {
      assert.ok(where.includes(expected), `${expected} in ${where.join('; ')}`);
    }
    assert.match(error.message, /\/job\/memory \(NFC_WORKER_MEMORY\): not valid JSON/);
    assert.match(error.message, /operator.*expected one of "Exists", "Equal"/);
  });

  it('checks settings against each other: renew deadline < lease duration, retry < renew deadline', () => {
    assert.throws(
      () => loadConfig({ NFC_OPERATOR_LEASE_DURATION_SECONDS: '10', NFC_OPERATOR_RENEW_DEADLINE_SECONDS: '10' }),
      /renewDeadlineSeconds \(NFC_OPERATOR_RENEW_DEADLINE_SECONDS\): must be less than leaseDurationSeconds/,
    );
    assert.throws(
      () => loadConfig({ NFC_MAX_RUNNING: '2', NFC_MAX_RUNNING_PER_NAMESPACE: '3' }),
      /maxRunningPerNamespace.*must not exceed maxRunning/,
    );
  });

  it('has one variable per setting, all distinct', () => {
    const variables = ENV.map(([, v]) => v);
    assert.equal(new Set(variables).size, variables.length);
  });
});

describe('operator health report', () => {
  const base = {
    leader: () => true,
    identity: 'op-0',
    staleAfterMs: 60_000,
    startedAt: Date.parse('2026-01-01T00:00:00Z'),
  };
  const watch = (resource: string, lastEventTime: string | null) => ({
    resource,
    namespace: '*',
    synced: true,
    lastEventTime,
    failures: 0,
  });

  it('is ok with the oldest watch event time while every watch has had news within the limit', () => {
    const report = healthReport(
      {
        ...base,
        watches: () => [watch('videoanalyses', '2026-01-01T00:10:30Z'), watch('jobs', '2026-01-01T00:10:00Z')],
      },
      Date.parse('2026-01-01T00:10:40Z'),
    );
    assert.equal(report.status, 'ok');
    assert.equal(report.lastWatchEventTime, '2026-01-01T00:10:00Z');
  });

  it('is stale when a watch has been silent for longer than the limit', () => {
    const report = healthReport(
      {
        ...base,
        watches: () => [watch('videoanalyses', '2026-01-01T00:10:30Z'), watch('jobs', '2026-01-01T00:08:00Z')],
      },
      Date.parse('2026-01-01T00:10:40Z'),
    );
    assert.equal(report.status, 'stale');
    assert.deepEqual(
      report.watches.map((w) => w.stale),
      [false, true],
    );
  });
});
