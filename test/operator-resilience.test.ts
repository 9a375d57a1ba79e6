/**
 * The operator when things fail around it, on a real API server: SIGKILL in the middle of a
 * reconcile, the API server restarted under its watches, and two replicas electing a leader on
 * a Lease (then the leader killed). Each test has its own namespace, watched alone.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoordinationV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { type ControlPlane, startControlPlane } from './support/control-plane.js';
import {
  eventually,
  installCrd,
  type OperatorProcess,
  operatorTestClient,
  startOperator,
  videoAnalysis,
} from './support/operator-process.js';

describe('operator resilience', () => {
  let cp: ControlPlane;
  let kc: KubeConfig;
  let client: ReturnType<typeof operatorTestClient>;
  const operators: OperatorProcess[] = [];

  before(async () => {
    cp = await startControlPlane();
    kc = cp.kubeConfig();
    await installCrd(kc);
    client = operatorTestClient(kc);
    const core = kc.makeApiClient(CoreV1Api);
    for (const name of ['crash', 'restart', 'silent', 'ha'])
      await core.createNamespace({ body: { metadata: { name } } });
  });
  after(async () => {
    await Promise.all(operators.map((o) => o.kill('SIGKILL')));
    await cp?.stop();
  });

  const start = async (
    namespace: string,
    env: Record<string, string> = {},
    identity?: string,
    kubeconfigPath?: string,
  ) => {
    const op = await startOperator({
      kubeconfigPath: kubeconfigPath ?? cp.kubeconfigPath,
      ...(identity ? { identity } : {}),
      // The failpoint may kill it before it answers /readyz.
      waitReady: !env.NFC_OPERATOR_FAILPOINT,
      env: {
        NFC_WATCH_NAMESPACES: namespace,
        NFC_OPERATOR_LEASE_NAME: `nfc-operator-${namespace}`,
        NFC_MAX_RUNNING: '50',
        NFC_MAX_RUNNING_PER_NAMESPACE: '50',
        ...env,
      },
    });
    operators.push(op);
    return op;
  };
  const phases = async (namespace: string) =>
    Object.fromEntries((await client.list(namespace)).map((va) => [va.metadata.name, va.status?.phase]));
  const allInPhase = (namespace: string, names: string[], phase: string, timeoutMs = 30_000) =>
    eventually(`${names.length} in ${namespace} ${phase}`, timeoutMs, async () => {
      const p = await phases(namespace);
      return names.every((n) => p[n] === phase) ? p : undefined;
    });

  test('SIGKILLed mid-reconcile (Job created, status not yet written) and restarted: no duplicate Job, it converges', async () => {
    const ns = 'crash';
    const first = await client.create(videoAnalysis('crash-0', { namespace: ns }));
    // The failpoint kills the operator right after the API server accepted the Job.
    const doomed = await start(ns, { NFC_OPERATOR_FAILPOINT: 'exit-after-create-job' }, 'crash-replica');
    const exit = await doomed.exited;
    assert.equal(exit.signal, 'SIGKILL');
    assert.equal((await client.jobs(ns)).length, 1, 'the Job was created');
    assert.equal((await client.get('crash-0', ns)).status?.phase, undefined, 'the status was not written');

    // More work arrives while it is down; then a kill at an arbitrary point of a burst.
    const names = Array.from({ length: 12 }, (_, i) => `crash-${String(i + 1).padStart(2, '0')}`);
    for (const name of names) await client.create(videoAnalysis(name, { namespace: ns }));
    const again = await start(ns, {}, 'crash-replica');
    await eventually('a few Jobs created', 20_000, async () =>
      (await client.jobs(ns)).length >= 4 ? true : undefined,
    );
    await again.kill('SIGKILL');

    const last = await start(ns, {}, 'crash-replica');
    const all = ['crash-0', ...names];
    await allInPhase(ns, all, 'Running');
    const jobs = await client.jobs(ns);
    assert.equal(jobs.length, all.length, 'one Job per analysis, no duplicates');
    const uids = new Map((await client.list(ns)).map((va) => [va.metadata.name, va.metadata.uid]));
    for (const job of jobs) {
      const owner = job.metadata?.ownerReferences?.[0];
      assert.equal(job.metadata?.name, `nfc-${owner?.name}`);
      assert.equal(owner?.uid, uids.get(owner?.name ?? ''));
    }
    const firstNow = await client.get('crash-0', ns);
    assert.equal(firstNow.status?.jobName, 'nfc-crash-0');
    assert.equal(firstNow.metadata.uid, first.metadata.uid);
    await last.kill('SIGTERM');
  });

  test('kube-apiserver restarted under the running operator: watches recover and nothing created meanwhile is missed', async () => {
    const ns = 'restart';
    // Lease longer than the outage: an outage longer than the renew deadline rightly costs leadership.
    const op = await start(ns, {
      NFC_OPERATOR_LEASE_DURATION_SECONDS: '60',
      NFC_OPERATOR_RENEW_DEADLINE_SECONDS: '45',
      NFC_OPERATOR_RETRY_PERIOD_SECONDS: '2',
    });
    await op.waitForLog(/became leader/);
    await client.create(videoAnalysis('before-restart', { namespace: ns }));
    await allInPhase(ns, ['before-restart'], 'Running');

    const restartedAt = Date.now();
    await cp.restartApiServer();
    // Created before the operator's watches reconnect (they back off while the server is down).
    const after = ['after-restart-1', 'after-restart-2', 'after-restart-3'];
    for (const name of after) await client.create(videoAnalysis(name, { namespace: ns }));
    await client.finishJob('nfc-before-restart', { type: 'Complete' }, ns);

    await allInPhase(ns, after, 'Running', 60_000);
    await allInPhase(ns, ['before-restart'], 'Succeeded', 30_000);
    const health = JSON.parse((await op.get('/healthz')).body) as {
      status: string;
      watches: Array<{ resource: string; lastEventTime: string; failures: number }>;
    };
    assert.equal(health.status, 'ok');
    for (const w of health.watches) {
      assert.ok(Date.parse(w.lastEventTime) > restartedAt, `${w.resource} watch has events since the restart`);
      assert.equal(w.failures, 0);
    }
    const m = await op.metrics();
    const restarts = Object.entries(m)
      .filter(([k]) => k.startsWith('nfc_operator_watch_restarts_total'))
      .reduce((sum, [, v]) => sum + v, 0);
    assert.ok(restarts >= 2, `both watches restarted (${restarts})`);
    assert.equal(m.nfc_operator_leader, 1, 'still the leader');
    assert.equal((await client.jobs(ns)).length, 4);
    await op.kill('SIGTERM');
  });

  test('a watch that goes silent (connection open, nothing flowing) is dropped and reopened on a new connection: nothing is missed', async () => {
    const ns = 'silent';
    const proxy = await freezableProxy(new URL(cp.server));
    const kubeconfigPath = join(cp.dir, 'kubeconfig-via-proxy');
    writeFileSync(kubeconfigPath, readFileSync(cp.kubeconfigPath, 'utf8').replace(cp.server, proxy.url));
    try {
      const op = await start(
        ns,
        { NFC_OPERATOR_LEADER_ELECT: 'false', NFC_OPERATOR_WATCH_INACTIVITY_SECONDS: '4' },
        undefined,
        kubeconfigPath,
      );
      await client.create(videoAnalysis('silent-1', { namespace: ns }));
      await allInPhase(ns, ['silent-1'], 'Running');
      // Every connection the operator has goes quiet without being closed (a dead NAT entry, say).
      const frozen = proxy.freezeExisting();
      assert.ok(frozen > 0);
      await client.create(videoAnalysis('silent-2', { namespace: ns }));
      await allInPhase(ns, ['silent-2'], 'Running', 30_000);
      const m = await op.metrics();
      const timeouts = Object.entries(m)
        .filter(([k]) => k.startsWith('nfc_operator_watch_restarts_total') && k.includes('reason="timeout"'))
        .reduce((sum, [, v]) => sum + v, 0);
      assert.ok(timeouts >= 1, 'a silent watch was dropped');
      assert.ok(op.logLines().some((l) => l.msg === 'watch went silent; renewing connections'));
      await op.kill('SIGTERM');
    } finally {
      await proxy.close();
    }
  });

  test('two replicas: exactly one leads and reconciles; when it dies the other takes over within the lease duration', async () => {
    const ns = 'ha';
    const leaseName = `nfc-operator-${ns}`;
    const leases = kc.makeApiClient(CoordinationV1Api);
    const [a, b] = await Promise.all([start(ns, {}, 'replica-a'), start(ns, {}, 'replica-b')]);
    const holder = await eventually('a lease holder', 15_000, async () => {
      const lease = await leases.readNamespacedLease({ name: leaseName, namespace: 'default' });
      return lease.spec?.holderIdentity || undefined;
    });
    const [leader, standby] = holder === 'replica-a' ? [a, b] : [b, a];
    assert.ok(leader && standby);

    const names = ['ha-1', 'ha-2', 'ha-3'];
    for (const name of names) await client.create(videoAnalysis(name, { namespace: ns }));
    await allInPhase(ns, names, 'Running');
    const [lm, sm] = await Promise.all([leader.metrics(), standby.metrics()]);
    assert.equal(lm.nfc_operator_leader, 1);
    assert.equal(sm.nfc_operator_leader, 0);
    assert.ok((lm['nfc_operator_reconciles_total{result="success"}'] ?? 0) >= 3);
    assert.equal(sm['nfc_operator_reconciles_total{result="success"}'] ?? 0, 0, 'the standby reconciles nothing');
    const standbyWrites = Object.entries(sm).filter(
      ([k, n]) =>
        n > 0 &&
        /^nfc_operator_api_requests_total\{verb="(POST|PATCH)",resource="(jobs|videoanalyses.*|events)"\}$/.test(k),
    );
    assert.deepEqual(standbyWrites, [], 'the standby writes nothing');
    assert.equal(standby.logLines().filter((l) => l.msg === 'job created').length, 0);
    assert.equal((await standby.get('/readyz')).status, 200, 'the standby is warm');

    const before = await leases.readNamespacedLease({ name: leaseName, namespace: 'default' });
    const killedAt = Date.now();
    await leader.kill('SIGKILL');
    await standby.waitForLog(/"msg":"became leader"/, 15_000);
    const takeoverMs = Date.now() - killedAt;
    const lease = await leases.readNamespacedLease({ name: leaseName, namespace: 'default' });
    assert.equal(lease.spec?.holderIdentity, standby.identity);
    assert.equal(lease.spec?.leaseTransitions, (before.spec?.leaseTransitions ?? 0) + 1);
    // Lease duration 4 s; a candidate looks every retry period (1 s).
    assert.ok(takeoverMs <= 4_000 + 1_000 + 500, `took over after ${takeoverMs} ms`);
    process.stdout.write(`# leader killed → standby leading after ${takeoverMs} ms (lease 4 s)\n`);

    await client.create(videoAnalysis('ha-after', { namespace: ns }));
    await client.finishJob('nfc-ha-1', { type: 'Complete' }, ns);
    await allInPhase(ns, ['ha-after'], 'Running');
    await allInPhase(ns, ['ha-1'], 'Succeeded');
    assert.equal((await client.jobs(ns)).length, 4);

    // A graceful stop hands the Lease over at once.
    await sleep(200);
    await standby.kill('SIGTERM');
    const released = await leases.readNamespacedLease({ name: leaseName, namespace: 'default' });
    assert.equal(released.spec?.holderIdentity ?? '', '');
  });
});

/**
 * A TCP proxy to the API server whose open connections can be frozen: kept open, nothing passes
 * either way (as when a NAT or a load balancer forgets a connection without resetting it).
 */
async function freezableProxy(target: URL) {
  const pairs = new Set<[Socket, Socket]>();
  const frozen: Socket[] = [];
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const s of pair) {
      s.on('error', drop);
      s.on('close', drop);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `https://127.0.0.1:${port}`,
    /** Freezes every connection open now; returns how many. New connections pass. */
    freezeExisting(): number {
      const n = pairs.size;
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
        frozen.push(client, upstream);
      }
      pairs.clear();
      return n;
    },
    async close() {
      for (const s of frozen) s.destroy();
      for (const [client, upstream] of pairs) {
        client.destroy();
        upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
