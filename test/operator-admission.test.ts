/**
 * Admission on a real API server: 20 VideoAnalyses, at most 5 Jobs unfinished at once. The test
 * plays the Job controller (completes each Job a moment after it appears) and watches every Job
 * event, so the cap is checked at every change, not at a few samples.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type KubeConfig, Watch } from '@kubernetes/client-node';
import { type ControlPlane, startControlPlane } from './support/control-plane.js';
import {
  eventually,
  installCrd,
  type OperatorProcess,
  operatorTestClient,
  startOperator,
  videoAnalysis,
} from './support/operator-process.js';

interface JobEvent {
  type: string;
  object: { metadata: { name: string }; status?: { conditions?: Array<{ type: string; status: string }> } };
}

const finished = (job: JobEvent['object']) =>
  job.status?.conditions?.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') ?? false;

describe('operator admission', () => {
  let cp: ControlPlane;
  let kc: KubeConfig;
  let op: OperatorProcess | undefined;
  let client: ReturnType<typeof operatorTestClient>;

  before(async () => {
    cp = await startControlPlane();
    kc = cp.kubeConfig();
    await installCrd(kc);
    client = operatorTestClient(kc);
  });
  after(async () => {
    await op?.kill('SIGKILL');
    await cp?.stop();
  });

  test('20 analyses, cap 5: never more than 5 Jobs unfinished, the rest Queued, created by priority then age; all finish', async () => {
    const ns = 'default';
    // 18 at the default priority, oldest first by name; then 2 urgent ones, created last.
    const normal = Array.from({ length: 18 }, (_, i) => `adm-${String(i).padStart(2, '0')}`);
    const urgent = ['adm-urgent-a', 'adm-urgent-b'];
    for (const name of normal) await client.create(videoAnalysis(name, { namespace: ns }));
    for (const name of urgent) await client.create(videoAnalysis(name, { namespace: ns, priority: 10 }));
    const expectedOrder = [...urgent, ...normal].map((n) => `nfc-${n}`);

    // Every Job event, in the API server's order.
    const created: string[] = [];
    const unfinished = new Set<string>();
    let peak = 0;
    const stream = (await new Watch(kc).watch(
      `/apis/batch/v1/namespaces/${ns}/jobs`,
      {},
      (type: string, job: JobEvent['object']) => {
        const name = job.metadata.name;
        if (type === 'ADDED') {
          created.push(name);
          if (!finished(job)) unfinished.add(name);
        } else if (type === 'MODIFIED' && finished(job)) {
          unfinished.delete(name);
        }
        peak = Math.max(peak, unfinished.size);
      },
      () => {},
    )) as AbortController;

    try {
      const started = Date.now();
      op = await startOperator({
        kubeconfigPath: cp.kubeconfigPath,
        env: { NFC_MAX_RUNNING: '5', NFC_MAX_RUNNING_PER_NAMESPACE: '5' },
      });

      // The first five slots go to the head of the queue; the other fifteen wait, Queued.
      const statuses = await eventually('5 Running, 15 Queued', 20_000, async () => {
        const list = await client.list(ns);
        const running = list.filter((va) => va.status?.phase === 'Running').length;
        const queued = list.filter((va) => va.status?.phase === 'Queued');
        return running === 5 && queued.length === 15 ? queued : undefined;
      });
      for (const va of statuses) {
        assert.match(va.status?.message ?? '', /waiting for a slot: 5\/5 analyses running/);
        assert.equal(va.status?.conditions?.find((c) => c.type === 'Admitted')?.status, 'False');
      }
      await sleep(500);
      assert.deepEqual(created, expectedOrder.slice(0, 5));

      // Play the Job controller: finish each Job a moment after it appears.
      const completing = new Set<string>();
      await eventually('all 20 Succeeded', 90_000, async () => {
        for (const name of [...unfinished]) {
          if (completing.has(name)) continue;
          completing.add(name);
          void sleep(50 + Math.random() * 250).then(() => client.finishJob(name, { type: 'Complete' }, ns));
        }
        const list = await client.list(ns);
        return list.filter((va) => va.status?.phase === 'Succeeded').length === 20 ? true : undefined;
      });
      const elapsed = Date.now() - started;

      assert.ok(peak <= 5, `at most 5 Jobs unfinished at once (peak ${peak})`);
      assert.equal(peak, 5, 'the cap was used');
      assert.equal(created.length, 20, 'one Job each');
      assert.deepEqual(created, expectedOrder, 'Jobs created by priority, then oldest first');
      process.stdout.write(`# 20 analyses through a cap of 5 in ${elapsed} ms\n`);

      const m = await op.metrics();
      assert.equal(m['nfc_operator_jobs{phase="Succeeded"}'], 20);
      assert.equal(m.nfc_operator_reconcile_errors_total, 0);
    } finally {
      stream.abort();
    }
  });
});
