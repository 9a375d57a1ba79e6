import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeFailure } from '../../platform/queue/analysis-queue.js';
import {
  FinishedFilter,
  failedUpdate,
  type JobView,
  removedUpdate,
  retryingUpdate,
  runningNowUpdate,
  runningUpdate,
  succeededUpdate,
} from './queue-updates.js';

const job = (over: Partial<JobView> = {}): JobView => ({
  attemptsStarted: 1,
  attemptsMade: 0,
  processedOn: Date.parse('2026-01-01T10:00:00Z'),
  finishedOn: undefined,
  progress: 0,
  failedReason: '',
  returnvalue: null,
  ...over,
});

describe('queue job → analysis update', () => {
  it('a start is attempt n with its start time; a replica starting later also sees the progress', () => {
    const j = job({ attemptsStarted: 2, attemptsMade: 1, progress: { framesDone: 5, framesTotal: 80 } });
    assert.deepEqual(runningUpdate('a', j), {
      analysisId: 'a',
      status: 'running',
      attempts: 2,
      startedAt: '2026-01-01T10:00:00.000Z',
    });
    assert.deepEqual(runningNowUpdate('a', j).progress, { framesDone: 5, framesTotal: 80 });
  });

  it('succeeded carries the summary, the keys and the report headline as the message', () => {
    const value = {
      summary: { exercise: 'squat', reps: 3, durationSeconds: 8.5, score: 90, faults: [], message: '3 squat reps.' },
      results: { bucket: 'r', prefix: 'p/', report: 'p/report.json', thumbnails: [], framesCsv: 'p/frames.csv' },
    };
    const u = succeededUpdate('a', job({ attemptsMade: 1, finishedOn: Date.parse('2026-01-01T10:01:00Z') }), value);
    assert.equal(u.status, 'succeeded');
    assert.equal(u.summary?.reps, 3);
    assert.equal(u.results?.report, 'p/report.json');
    assert.equal(u.message, '3 squat reps.');
    assert.equal(u.attempts, 1);
    assert.equal(u.finishedAt, '2026-01-01T10:01:00.000Z');
  });

  it("failed splits the worker's code from its message; a cancelled job reads as cancelled", () => {
    const failed = failedUpdate(
      'a',
      job({ attemptsMade: 1 }),
      encodeFailure('CORRUPT_VIDEO', 'the video cannot be analysed'),
    );
    assert.equal(failed.status, 'failed');
    assert.equal(failed.errorCode, 'CORRUPT_VIDEO');
    assert.equal(failed.message, 'the video cannot be analysed');
    assert.equal(
      failedUpdate('a', undefined, encodeFailure('CANCELLED', 'the analysis was cancelled')).status,
      'cancelled',
    );
    assert.equal(failedUpdate('a', undefined, 'job stalled more than allowable limit').errorCode, 'WORKER_LOST');
  });

  it('a retry says which attempt failed, why, and how many are left', () => {
    const u = retryingUpdate(
      'a',
      job({ attemptsMade: 1, failedReason: encodeFailure('ECONNREFUSED', 'S3 unreachable') }),
    );
    assert.equal(u?.status, 'queued');
    assert.equal(u?.message, 'attempt 1 failed (S3 unreachable); retrying (2 attempts left)');
    assert.equal(retryingUpdate('a', job()), undefined, 'a delayed job that never ran is not a retry');
  });

  it('only a job removed before it ran was cancelled', () => {
    assert.equal(removedUpdate('a', 'waiting')?.status, 'cancelled');
    assert.equal(removedUpdate('a', 'delayed')?.status, 'cancelled');
    assert.equal(removedUpdate('a', 'completed'), undefined);
  });
});

describe('FinishedFilter', () => {
  it('drops updates that would make a finished analysis look unfinished again', () => {
    const f = new FinishedFilter();
    assert.ok(f.pass({ analysisId: 'a', status: 'running' }));
    assert.ok(f.pass({ analysisId: 'a', status: 'succeeded' }));
    assert.ok(!f.pass({ analysisId: 'a', status: 'running', progress: { framesDone: 1, framesTotal: 2 } }));
    assert.ok(f.pass({ analysisId: 'a', status: 'succeeded' }), 'a repeat of the ending is harmless');
    assert.ok(f.pass({ analysisId: 'b', status: 'running' }));
  });

  it('remembers the newest analyses only', () => {
    const f = new FinishedFilter(2);
    for (const id of ['a', 'b', 'c']) f.pass({ analysisId: id, status: 'failed' });
    assert.ok(f.pass({ analysisId: 'a', status: 'running' }), 'forgotten');
    assert.ok(!f.pass({ analysisId: 'c', status: 'running' }));
  });
});
