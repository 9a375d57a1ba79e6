import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aVideoAnalysis, observed, TEST_CONFIG } from './builders.js';
import { buildJob, jobNameFor } from './job-spec.js';
import { plan } from './plan.js';
import { type Action, FINALIZER } from './types.js';

const NOW = new Date('2026-11-29T10:00:00Z');
const kinds = (actions: Action[]) => actions.map((a) => a.kind);
const statusOf = (actions: Action[]) => actions.find((a) => a.kind === 'PatchStatus')?.status;

describe('plan', () => {
  const cases: Record<
    string,
    { va: ReturnType<typeof aVideoAnalysis>; obs: ReturnType<typeof observed>; expect: string[]; phase?: string }
  > = {
    'a new resource gets a Job (its status waits until the Job is seen)': {
      va: aVideoAnalysis('a'),
      obs: observed(),
      expect: ['CreateJob', 'RecordEvent'],
    },
    'a new resource with cleanupPolicy Delete gets the finalizer first': {
      va: aVideoAnalysis('b').spec({ cleanupPolicy: 'Delete' }),
      obs: observed(),
      expect: ['AddFinalizer', 'CreateJob', 'RecordEvent'],
    },
    'its Job seen, a new resource goes Running': {
      va: aVideoAnalysis('a2'),
      obs: observed({ active: 0 }),
      expect: ['PatchStatus'],
      phase: 'Running',
    },
    'a Job already finished when first seen: straight to Succeeded (no Running write)': {
      va: aVideoAnalysis('a3'),
      obs: observed({
        succeeded: 1,
        finished: { type: 'Complete', reason: 'Completed', message: '', time: '2026-11-29T10:05:00Z' },
      }),
      expect: ['PatchStatus', 'RecordEvent'],
      phase: 'Succeeded',
    },
    'over the cluster-wide cap it waits Queued and looks again later': {
      va: aVideoAnalysis('c'),
      obs: observed(undefined, { runningClusterWide: 5 }),
      expect: ['PatchStatus', 'RecordEvent', 'Requeue'],
      phase: 'Queued',
    },
    'over the per-namespace cap it waits Queued': {
      va: aVideoAnalysis('d'),
      obs: observed(undefined, { runningInNamespace: 3 }),
      expect: ['PatchStatus', 'RecordEvent', 'Requeue'],
      phase: 'Queued',
    },
    'queued behind others even with one free slot': {
      va: aVideoAnalysis('e').phase('Queued'),
      obs: observed(undefined, { runningClusterWide: 4, queuePosition: 1 }),
      expect: ['Requeue'],
    },
    'first in the queue takes the free slot': {
      va: aVideoAnalysis('f').phase('Queued'),
      obs: observed(undefined, { runningClusterWide: 4, queuePosition: 0 }),
      expect: ['CreateJob', 'RecordEvent'],
    },
    'a running Job already reflected in status needs no write': {
      va: aVideoAnalysis('g').status({ phase: 'Running', jobName: 'nfc-x', attempts: 0 }),
      obs: observed({ active: 1 }),
      expect: [],
    },
    'a retry shows in attempts': {
      va: aVideoAnalysis('h').status({ phase: 'Running', jobName: 'nfc-x', attempts: 0 }),
      obs: observed({ active: 1, failed: 1 }),
      expect: ['PatchStatus'],
      phase: 'Running',
    },
    'a completed Job makes the resource Succeeded': {
      va: aVideoAnalysis('i').status({ phase: 'Running', jobName: 'nfc-x' }),
      obs: observed({
        succeeded: 1,
        finished: { type: 'Complete', reason: 'Completed', message: '', time: '2026-11-29T10:05:00Z' },
      }),
      expect: ['PatchStatus', 'RecordEvent'],
      phase: 'Succeeded',
    },
    'a bad-input exit fails at once with the message': {
      va: aVideoAnalysis('j').status({ phase: 'Running', jobName: 'nfc-x' }),
      obs: observed({
        failed: 1,
        finished: { type: 'Failed', reason: 'PodFailurePolicy', message: 'exit 3', time: '2026-11-29T10:01:00Z' },
      }),
      expect: ['PatchStatus', 'RecordEvent'],
      phase: 'Failed',
    },
    'a finished resource whose Job was cleaned up stays as it is': {
      va: aVideoAnalysis('k').phase('Succeeded'),
      obs: observed(),
      expect: [],
    },
    'a URL on a host not allowed fails without a Job': {
      va: aVideoAnalysis('l').spec({ source: { url: 'https://evil.example.net/x.mp4' } }),
      obs: observed(),
      expect: ['PatchStatus', 'RecordEvent'],
      phase: 'Failed',
    },
    'deleting with cleanupPolicy Delete removes the artifacts, then the finalizer': {
      va: aVideoAnalysis('m').spec({ cleanupPolicy: 'Delete' }).finalizers(FINALIZER).deleting(),
      obs: observed(),
      expect: ['DeleteArtifacts', 'RemoveFinalizer'],
    },
    'deleting with Retain only releases the finalizer': {
      va: aVideoAnalysis('n').finalizers(FINALIZER).deleting(),
      obs: observed(),
      expect: ['RemoveFinalizer'],
    },
  };
  for (const [description, c] of Object.entries(cases)) {
    it(description, () => {
      const actions = plan(c.va.build(), c.obs, NOW, TEST_CONFIG);
      assert.deepEqual(kinds(actions), c.expect);
      if (c.phase) assert.equal(statusOf(actions)?.phase, c.phase);
    });
  }

  it('keeps what the worker wrote (progress, summary) when it patches the phase', () => {
    const va = aVideoAnalysis('o')
      .status({ phase: 'Running', jobName: 'nfc-x', summary: { reps: 3, durationSeconds: 8, faults: [] } })
      .build();
    const actions = plan(
      va,
      observed({ finished: { type: 'Complete', reason: 'Completed', message: '', time: 'T' } }),
      NOW,
      TEST_CONFIG,
    );
    assert.equal(statusOf(actions)?.summary?.reps, 3);
  });

  const badInput = observed({
    failed: 1,
    finished: {
      type: 'Failed',
      reason: 'PodFailurePolicy',
      message: 'Container worker for pod athletes/nfc-q-abcde failed with exit code 3 matching FailJob rule at index 0',
      time: '2026-11-29T10:01:00Z',
    },
  });

  it("keeps the worker's reason when a bad-input exit fails the Job", () => {
    const reason = 'the video cannot be analysed: the file is not a video (no video stream found)';
    const va = aVideoAnalysis('q').status({ phase: 'Running', jobName: 'nfc-q', message: reason }).build();
    const actions = plan(va, badInput, NOW, TEST_CONFIG);
    const status = statusOf(actions);
    assert.equal(status?.phase, 'Failed');
    assert.equal(status?.message, reason);
    assert.equal(status?.conditions?.find((c) => c.type === 'Failed')?.message, reason);
    const event = actions.find((a) => a.kind === 'RecordEvent');
    assert.equal(event?.kind === 'RecordEvent' ? event.message : undefined, reason);
  });

  it("says what the Job controller said when the worker wrote no reason (the operator's own message is not one)", () => {
    for (const message of [undefined, 'analysis started', 'analysis running', 'retrying after 1 failed attempt(s)']) {
      const va = aVideoAnalysis('r')
        .status({ phase: 'Running', jobName: 'nfc-r', ...(message ? { message } : {}) })
        .build();
      assert.match(
        statusOf(plan(va, badInput, NOW, TEST_CONFIG))?.message ?? '',
        /^the video cannot be analysed \(bad input\): Container worker .* exit code 3/,
        String(message),
      );
    }
  });

  it('a deadline is reported as such whatever the status said', () => {
    const va = aVideoAnalysis('s').status({ phase: 'Running', jobName: 'nfc-s', message: 'worker words' }).build();
    const deadline = observed({
      finished: {
        type: 'Failed',
        reason: 'DeadlineExceeded',
        message: 'Job was active longer than specified deadline',
        time: 'T',
      },
    });
    assert.equal(
      statusOf(plan(va, deadline, NOW, TEST_CONFIG))?.message,
      'the analysis took longer than deadlineSeconds (900 s)',
    );
  });

  it('is idempotent: planning again from the status it wrote plans no more writes', () => {
    const va = aVideoAnalysis('p').build();
    const job = observed({ name: jobNameFor('p'), active: 1 });
    const first = plan(va, job, NOW, TEST_CONFIG);
    assert.deepEqual(kinds(first), ['PatchStatus']);
    va.status = statusOf(first);
    assert.deepEqual(kinds(plan(va, job, NOW, TEST_CONFIG)), []);
  });
});

describe('the worker Job', () => {
  it('asks for GPUs on the configured nodes when spec.resources.gpu > 0', () => {
    const job = buildJob(aVideoAnalysis('gpu').build(), TEST_CONFIG);
    const pod = job.spec?.template.spec;
    assert.equal(pod?.containers[0]?.resources?.limits?.['nvidia.com/gpu'], '1');
    assert.deepEqual(pod?.nodeSelector, TEST_CONFIG.gpuNodeSelector);
    assert.equal(pod?.runtimeClassName, 'nvidia');
    assert.equal(pod?.tolerations?.[0]?.key, 'nvidia.com/gpu');
  });

  it('runs on any node without GPU settings when gpu is 0', () => {
    const pod = buildJob(
      aVideoAnalysis('cpu')
        .spec({ resources: { gpu: 0 } })
        .build(),
      TEST_CONFIG,
    ).spec?.template.spec;
    assert.equal(pod?.containers[0]?.resources?.limits?.['nvidia.com/gpu'], undefined);
    assert.equal(pod?.nodeSelector, undefined);
    assert.equal(pod?.runtimeClassName, undefined);
  });

  it('is owned by its resource, fails at once on the bad-input exit code and ignores disruptions', () => {
    const job = buildJob(aVideoAnalysis('own').build(), TEST_CONFIG);
    assert.equal(job.metadata?.ownerReferences?.[0]?.controller, true);
    assert.equal(job.metadata?.ownerReferences?.[0]?.uid, 'uid-own');
    const rules = job.spec?.podFailurePolicy?.rules ?? [];
    assert.deepEqual(rules[0]?.onExitCodes?.values, [3]);
    assert.equal(rules[0]?.action, 'FailJob');
    assert.equal(rules[1]?.action, 'Ignore');
    assert.equal(job.spec?.activeDeadlineSeconds, 900);
    assert.equal(job.spec?.template.spec?.restartPolicy, 'Never');
  });

  it('runs a restricted pod with a writable scratch volume', () => {
    const pod = buildJob(aVideoAnalysis('sec').build(), TEST_CONFIG).spec?.template.spec;
    const c = pod?.containers[0];
    assert.equal(pod?.securityContext?.runAsNonRoot, true);
    assert.equal(pod?.securityContext?.seccompProfile?.type, 'RuntimeDefault');
    assert.equal(c?.securityContext?.readOnlyRootFilesystem, true);
    assert.equal(c?.securityContext?.allowPrivilegeEscalation, false);
    assert.deepEqual(c?.securityContext?.capabilities?.drop, ['ALL']);
    assert.ok(c?.volumeMounts?.some((m) => m.mountPath === '/scratch'));
  });

  it('has a deterministic name that fits a label value, even for long resource names', () => {
    assert.equal(jobNameFor('squat-001'), 'nfc-squat-001');
    const long = jobNameFor('x'.repeat(200));
    assert.ok(long.length <= 63);
    assert.equal(long, jobNameFor('x'.repeat(200)));
    assert.notEqual(long, jobNameFor(`${'x'.repeat(199)}y`));
  });
});
