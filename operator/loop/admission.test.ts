import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aVideoAnalysis } from '../plan/builders.js';
import { jobNameFor } from '../plan/job-spec.js';
import { AdmissionIndex, PRIORITY_ANNOTATION, priorityOf } from './admission.js';
import type { JobObject, VideoAnalysisObject } from './objects.js';

function va(name: string, opts: { ns?: string; created?: string; priority?: string; phase?: 'Succeeded' } = {}) {
  const built = aVideoAnalysis(name).build() as VideoAnalysisObject;
  built.metadata.namespace = opts.ns ?? 'a';
  built.metadata.creationTimestamp = opts.created ?? '2026-01-01T00:00:00Z';
  if (opts.priority !== undefined) built.metadata.annotations = { [PRIORITY_ANNOTATION]: opts.priority };
  if (opts.phase) built.status = { phase: opts.phase };
  return built;
}

function job(name: string, ns: string, finished = false): JobObject {
  return {
    metadata: { name: jobNameFor(name), namespace: ns },
    status: finished ? { conditions: [{ type: 'Complete', status: 'True' }] } : { active: 1 },
  };
}

function index(analyses: VideoAnalysisObject[], jobs: JobObject[], max = 3, perNs = 3) {
  return new AdmissionIndex(
    {
      analyses: () => analyses,
      jobs: () => jobs,
      jobOf: (v) =>
        jobs.find(
          (j) => j.metadata.name === jobNameFor(v.metadata.name) && j.metadata.namespace === v.metadata.namespace,
        ),
    },
    { maxRunning: max, maxRunningPerNamespace: perNs },
  );
}

describe('AdmissionIndex', () => {
  it('counts unfinished Jobs cluster-wide and per namespace', () => {
    const jobs = [job('r1', 'a'), job('r2', 'b'), job('r3', 'b', true)];
    const waiting = va('w', { ns: 'b' });
    const a = index([waiting], jobs).for(waiting);
    assert.equal(a.runningClusterWide, 2);
    assert.equal(a.runningInNamespace, 1);
  });

  it('orders higher priority first, then older, then by name', () => {
    const list = [
      va('old', { created: '2026-01-01T00:00:00Z' }),
      va('new-urgent', { created: '2026-01-01T00:00:09Z', priority: '5' }),
      va('same-time-b', { created: '2026-01-01T00:00:05Z' }),
      va('same-time-a', { created: '2026-01-01T00:00:05Z' }),
      va('finished', { phase: 'Succeeded' }),
    ];
    assert.deepEqual(index(list, [], 10, 10).waitingKeys(), [
      'a/new-urgent',
      'a/old',
      'a/same-time-a',
      'a/same-time-b',
    ]);
  });

  it('admits the head of the queue up to the free slots; the others get their place', () => {
    const list = ['q0', 'q1', 'q2', 'q3'].map((n, i) => va(n, { created: `2026-01-01T00:00:0${i}Z` }));
    const idx = index(list, [job('running', 'a')], 3, 3);
    assert.deepEqual(idx.admissible(), ['a/q0', 'a/q1']);
    assert.equal(idx.for(list[0] as VideoAnalysisObject).queuePosition, 0);
    assert.equal(idx.for(list[1] as VideoAnalysisObject).queuePosition, 0);
    assert.equal(idx.for(list[2] as VideoAnalysisObject).queuePosition, 2);
    assert.equal(idx.contended(), true);
  });

  it('a namespace at its cap does not block the queue behind it in other namespaces', () => {
    const list = [
      va('a-head', { ns: 'a', created: '2026-01-01T00:00:00Z' }),
      va('b-next', { ns: 'b', created: '2026-01-01T00:00:01Z' }),
    ];
    const idx = index(list, [job('a-running', 'a')], 3, 1);
    assert.deepEqual(idx.admissible(), ['b/b-next']);
    // The plan sees a position at least as large as the free slots, so a-head stays Queued.
    const head = idx.for(list[0] as VideoAnalysisObject);
    assert.ok(head.queuePosition >= Math.min(3 - head.runningClusterWide, 1 - head.runningInNamespace));
  });

  it('a resource with a Job, finished or being deleted is not waiting', () => {
    const deleting = va('deleting');
    deleting.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
    const list = [va('has-job'), va('done', { phase: 'Succeeded' }), deleting];
    assert.deepEqual(index(list, [job('has-job', 'a')]).waitingKeys(), []);
  });

  it('while uncontended, new resources take slots without a walk over all; past the cap they wait', () => {
    const list = [va('w0')];
    const jobs: JobObject[] = [];
    let walks = 0;
    const idx = new AdmissionIndex(
      {
        analyses: () => {
          walks++;
          return list;
        },
        jobs: () => jobs,
        jobOf: (v) => jobs.find((j) => j.metadata.name === jobNameFor(v.metadata.name)),
      },
      { maxRunning: 3, maxRunningPerNamespace: 3 },
    );
    assert.equal(idx.for(list[0] as VideoAnalysisObject).queuePosition, 0);
    assert.equal(walks, 1);
    for (const name of ['w1', 'w2']) {
      const added = va(name);
      list.push(added);
      idx.analysisAdded(added);
      assert.equal(idx.for(added).queuePosition, 0, name);
    }
    // A Job created for a counted resource, and slots freed, change nothing while uncontended.
    const created: JobObject = {
      ...job('w0', 'a'),
      metadata: {
        ...job('w0', 'a').metadata,
        ownerReferences: [{ apiVersion: 'v1', kind: 'VideoAnalysis', name: 'w0', uid: 'u', controller: true }],
      },
    };
    jobs.push(created);
    idx.jobAdded(created);
    idx.released();
    assert.equal(walks, 1, 'no walk while uncontended');
    assert.equal(idx.contended(), false);

    // The fourth is over the cap of 3: a full walk, and it waits.
    const over = va('w3', { created: '2026-01-01T00:00:09Z' });
    list.push(over);
    idx.analysisAdded(over);
    assert.equal(idx.for(over).queuePosition, 2);
    assert.equal(walks, 2);
    assert.equal(idx.contended(), true);
  });

  it('reads the priority annotation as an integer, 0 when absent or not one', () => {
    assert.equal(priorityOf(va('x', { priority: '7' })), 7);
    assert.equal(priorityOf(va('x', { priority: '-2' })), -2);
    assert.equal(priorityOf(va('x', { priority: 'high' })), 0);
    assert.equal(priorityOf(va('x', { priority: '1.5' })), 0);
    assert.equal(priorityOf(va('x')), 0);
  });
});
