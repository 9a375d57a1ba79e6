/** How a VideoAnalysis's status becomes the analysis row's update, table by table. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { VideoAnalysisStatus } from '../../platform/kube/video-analysis.js';
import { analysisIdOf, buildVideoAnalysis, resourceName, type WatchedAnalysis } from './kubernetes-resource.js';
import { updateFromDeletion, updateFromResource } from './kubernetes-status.js';

const ID = '0b7c5f0e-3a52-4c1e-9a57-6b1f4f1d2a10';
const UID = '5f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

function aVideoAnalysis(
  opts: { labelled?: boolean; status?: VideoAnalysisStatus; deleting?: boolean } = {},
): WatchedAnalysis {
  const va = buildVideoAnalysis(
    {
      analysisId: ID,
      source: { bucket: 'videos', key: `uploads/${ID}.mp4` },
      exercise: 'squat',
      fps: 12,
      output: { bucket: 'results', prefix: `analyses/${ID}/` },
    },
    'athletes',
    { gpu: 1, cleanupPolicy: 'Delete' },
  ) as WatchedAnalysis;
  va.metadata.uid = UID;
  if (opts.labelled === false) va.metadata.labels = {};
  if (opts.deleting) va.metadata.deletionTimestamp = '2026-11-29T10:05:00Z';
  if (opts.status) va.status = opts.status;
  return va;
}

const condition = (type: string, reason: string, at: string) => ({
  type,
  status: 'True' as const,
  reason,
  message: '',
  lastTransitionTime: at,
});

describe('the VideoAnalysis the API creates', () => {
  it('is named after the analysis, labelled with its id, with the spec from the task', () => {
    const va = aVideoAnalysis();
    assert.equal(va.metadata.name, resourceName(ID));
    assert.equal(va.metadata.name, `a-${ID}`);
    assert.equal(va.metadata.namespace, 'athletes');
    assert.deepEqual(va.metadata.labels, {
      'nutrifitcoach.io/analysis-id': ID,
      'app.kubernetes.io/managed-by': 'nfc-api',
    });
    assert.deepEqual(va.spec, {
      source: { s3: { bucket: 'videos', key: `uploads/${ID}.mp4` } },
      exercise: 'squat',
      sampling: { fps: 12 },
      resources: { gpu: 1 },
      output: { bucket: 'results', prefix: `analyses/${ID}/` },
      cleanupPolicy: 'Delete',
    });
  });

  it('maps back to its id; one without the label (kubectl) maps to its uid', () => {
    assert.deepEqual(analysisIdOf(aVideoAnalysis()), { id: ID, discovered: false });
    assert.deepEqual(analysisIdOf(aVideoAnalysis({ labelled: false })), { id: UID, discovered: true });
  });
});

describe('status → update', () => {
  const cases: Array<[string, VideoAnalysisStatus | undefined, Record<string, unknown>]> = [
    ['no status yet (the operator has not seen it): queued', undefined, { status: 'queued' }],
    ['Pending: queued', { phase: 'Pending' }, { status: 'queued' }],
    [
      'Queued (admission): queued',
      { phase: 'Queued', message: 'waiting for a slot' },
      { status: 'queued', message: 'waiting for a slot' },
    ],
    [
      'Running with progress',
      {
        phase: 'Running',
        attempts: 0,
        startTime: '2026-11-29T10:00:00Z',
        progress: { framesDone: 30, framesTotal: 120 },
      },
      {
        status: 'running',
        attempts: 0,
        startedAt: '2026-11-29T10:00:00Z',
        progress: { framesDone: 30, framesTotal: 120 },
      },
    ],
    [
      'Succeeded: summary, result keys (frames.csv beside the report), times',
      {
        phase: 'Succeeded',
        attempts: 0,
        startTime: '2026-11-29T10:00:00Z',
        completionTime: '2026-11-29T10:02:00Z',
        progress: { framesDone: 120, framesTotal: 120 },
        summary: { exercise: 'squat', reps: 3, durationSeconds: 8.1, score: 72, faults: ['depth'] },
        results: {
          report: `s3://results/analyses/${ID}/report.json`,
          thumbnails: [`s3://results/analyses/${ID}/thumbnails/rep-01.png`],
        },
      },
      {
        status: 'succeeded',
        attempts: 0,
        startedAt: '2026-11-29T10:00:00Z',
        finishedAt: '2026-11-29T10:02:00Z',
        progress: { framesDone: 120, framesTotal: 120 },
        summary: { exercise: 'squat', reps: 3, durationSeconds: 8.1, score: 72, faults: ['depth'] },
        results: {
          bucket: 'results',
          prefix: `analyses/${ID}/`,
          report: `analyses/${ID}/report.json`,
          thumbnails: [`analyses/${ID}/thumbnails/rep-01.png`],
          framesCsv: `analyses/${ID}/frames.csv`,
        },
      },
    ],
    [
      'a summary without score or exercise: null score, the spec exercise',
      { phase: 'Running', summary: { reps: 0, durationSeconds: 4, faults: [] } },
      { status: 'running', summary: { exercise: 'squat', reps: 0, durationSeconds: 4, score: null, faults: [] } },
    ],
    [
      'Failed: message, the condition reason as code, its time as the end',
      {
        phase: 'Failed',
        attempts: 1,
        message: 'the video cannot be analysed: no video stream',
        conditions: [condition('Failed', 'PodFailurePolicy', '2026-11-29T10:01:00Z')],
      },
      {
        status: 'failed',
        attempts: 1,
        message: 'the video cannot be analysed: no video stream',
        errorCode: 'PodFailurePolicy',
        finishedAt: '2026-11-29T10:01:00Z',
      },
    ],
  ];
  for (const [name, status, expected] of cases) {
    it(name, () => {
      assert.deepEqual(updateFromResource(aVideoAnalysis(status ? { status } : {})), { analysisId: ID, ...expected });
    });
  }

  it('a kubectl resource: its uid and what the API needs to create a row, on every update', () => {
    const update = updateFromResource(aVideoAnalysis({ labelled: false, status: { phase: 'Running' } }));
    assert.deepEqual(update, {
      analysisId: UID,
      status: 'running',
      discovered: { resource: 'athletes/a-0b7c5f0e-3a52-4c1e-9a57-6b1f4f1d2a10', exercise: 'squat', fps: 12 },
    });
  });

  it('a kubectl resource being deleted: no discovered (its row, deleted through the API, must not come back)', () => {
    const update = updateFromResource(
      aVideoAnalysis({ labelled: false, deleting: true, status: { phase: 'Succeeded' } }),
    );
    assert.equal(update.analysisId, UID);
    assert.equal(update.status, 'succeeded');
    assert.equal(update.discovered, undefined);
  });

  it('being deleted before it finished: cancelled at once (the finalizer may take a while)', () => {
    const update = updateFromResource(aVideoAnalysis({ deleting: true, status: { phase: 'Running' } }));
    assert.equal(update.status, 'cancelled');
    assert.equal(update.finishedAt, '2026-11-29T10:05:00Z');
    assert.match(update.message ?? '', /was deleted before it finished/);
  });

  it('deleted: cancelled unless it had finished (a finished one keeps its outcome)', () => {
    const now = new Date('2026-11-29T11:00:00Z');
    assert.deepEqual(updateFromDeletion(aVideoAnalysis({ status: { phase: 'Running' } }), now), {
      analysisId: ID,
      status: 'cancelled',
      message: `the VideoAnalysis athletes/a-${ID} was deleted before it finished`,
      finishedAt: '2026-11-29T11:00:00.000Z',
    });
    assert.equal(updateFromDeletion(aVideoAnalysis({ status: { phase: 'Succeeded' } }), now), undefined);
    assert.equal(updateFromDeletion(aVideoAnalysis({ status: { phase: 'Failed' } }), now), undefined);
  });
});
