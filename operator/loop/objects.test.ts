import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aVideoAnalysis, TEST_CONFIG } from '../plan/builders.js';
import { buildJob } from '../plan/job-spec.js';
import { plan } from '../plan/plan.js';
import { type JobObject, PRIORITY_ANNOTATION, slimAnalysis, slimJob, type VideoAnalysisObject } from './objects.js';

describe('cache transforms', () => {
  it('a cached VideoAnalysis keeps what planning reads and drops the rest', () => {
    const va = aVideoAnalysis('a')
      .status({
        phase: 'Running',
        jobName: 'nfc-a',
        message: 'analysis running',
        progress: { framesDone: 5, framesTotal: 9 },
      })
      .build() as VideoAnalysisObject & { metadata: { managedFields?: unknown } };
    va.metadata.resourceVersion = '42';
    va.metadata.annotations = {
      [PRIORITY_ANNOTATION]: '3',
      'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(va),
    };
    va.metadata.managedFields = [{ manager: 'kubectl', fieldsV1: { 'f:spec': {} } }];
    const slim = slimAnalysis(va);
    assert.deepEqual(slim.metadata.annotations, { [PRIORITY_ANNOTATION]: '3' });
    assert.equal('managedFields' in slim.metadata, false);
    assert.deepEqual(slim.status, { phase: 'Running', jobName: 'nfc-a', message: 'analysis running' });
    assert.deepEqual(slim.spec, va.spec);
    // Planning decides the same on the slim object as on the whole one.
    const observed = { admission: { runningClusterWide: 0, runningInNamespace: 0, queuePosition: 0 } };
    const now = new Date('2026-11-29T10:00:00Z');
    assert.deepEqual(
      plan(slim, observed, now, TEST_CONFIG).map((a) => a.kind),
      plan(va, observed, now, TEST_CONFIG).map((a) => a.kind),
    );
  });

  it('a cached Job keeps its owner and status counts, with only the terminal condition, and no pod template', () => {
    const job = buildJob(aVideoAnalysis('b').build(), TEST_CONFIG) as unknown as JobObject & { spec?: unknown };
    job.metadata.resourceVersion = '7';
    job.status = {
      succeeded: 1,
      completionTime: '2026-11-29T10:01:00Z',
      conditions: [
        { type: 'SuccessCriteriaMet', status: 'True', reason: 'CompletionsReached' },
        { type: 'Complete', status: 'True', reason: 'CompletionsReached', message: 'done' },
      ],
    };
    const slim = slimJob(job) as JobObject & { spec?: unknown };
    assert.equal(slim.spec, undefined);
    assert.equal(slim.metadata.labels, undefined);
    assert.deepEqual(
      slim.metadata.ownerReferences?.map((r) => r.uid),
      ['uid-b'],
    );
    assert.deepEqual(
      slim.status?.conditions?.map((c) => c.type),
      ['Complete'],
    );
    assert.equal(slim.status?.succeeded, 1);
    assert.ok(JSON.stringify(slim).length * 4 < JSON.stringify(job).length, 'a fraction of the size');
  });
});
