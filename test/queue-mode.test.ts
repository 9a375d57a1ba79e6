/**
 * The `queue` dispatch mode end to end on real parts: a real Redis (redis-server, append-only
 * file), a real MinIO, real `nfc worker queue` processes (bin/nfc), and the API's
 * QueueDispatcher in this process. Each test checks what a user would see: the updates the API
 * would write into the analysis row (status, progress, reps, message, code), and the objects
 * in the bucket.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ENGINE_ERROR_CODES } from '../services/analysis/errors.js';
import type { Report } from '../services/analysis/report/schema.js';
import type { AnalysisUpdate } from '../services/api/dispatch/dispatcher.js';
import { QueueDispatcher } from '../services/api/dispatch/queue.js';
import type { AnalysisTask } from '../services/platform/analysis-task.js';
import { createLogger } from '../services/platform/logging.js';
import { redisConfigFromEnv } from '../services/platform/queue/config.js';
import { clip, REPO_ROOT } from './support/clips.js';
import { type Minio, startMinio } from './support/minio.js';
import { type QueueWorkerProcess, startQueueWorker } from './support/queue-worker.js';
import { type RedisServer, startRedis } from './support/redis.js';
import { eventually } from './support/wait.js';

const SQUAT = clip('formfit_squat.mp4');
/** Short locks so a killed worker's job comes back within seconds (production: 15 s). */
const LOCK_MS = 4_000;

describe('queue dispatch: real Redis, MinIO and `nfc worker queue` processes', { timeout: 600_000 }, () => {
  let redis: RedisServer;
  let minio: Minio;
  let s3: S3Client;
  let dispatcher: QueueDispatcher;
  let scratch: string;
  const updates: AnalysisUpdate[] = [];
  /** When each update arrived (diagnostics). */
  const arrivals: string[] = [];
  const workers: QueueWorkerProcess[] = [];

  before(async () => {
    [redis, minio] = await Promise.all([startRedis(), startMinio()]);
    s3 = minio.client();
    scratch = await mkdtemp(join(tmpdir(), 'nfc-queue-scratch-'));
    await s3.send(new CreateBucketCommand({ Bucket: 'videos' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'results' }));
    await s3.send(new PutObjectCommand({ Bucket: 'videos', Key: 'uploads/squat.mp4', Body: readFileSync(SQUAT.path) }));
    // A few KB of garbage named .mp4.
    await s3.send(
      new PutObjectCommand({
        Bucket: 'videos',
        Key: 'uploads/corrupt.mp4',
        Body: Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251)),
      }),
    );
    dispatcher = new QueueDispatcher({
      redis: redisConfigFromEnv(redis.env),
      log: createLogger({ LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    });
    await dispatcher.start((u) => {
      updates.push(u);
      arrivals.push(`${new Date().toISOString()} ${JSON.stringify(u).slice(0, 160)}`);
    });
    await dispatcher.ready();
  });

  after(async () => {
    await Promise.all(workers.map((w) => w.kill('SIGKILL')));
    await dispatcher?.stop();
    s3?.destroy();
    await Promise.all([redis?.stop(), minio?.stop()]);
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  function startWorker(extraEnv: Record<string, string> = {}): QueueWorkerProcess {
    const w = startQueueWorker({
      ...redis.env,
      ...minio.env,
      NFC_WORKERS: '1',
      NFC_WORKER_CONCURRENCY: '1',
      NFC_QUEUE_LOCK_MS: String(LOCK_MS),
      NFC_SCRATCH_DIR: scratch,
      ...extraEnv,
    });
    workers.push(w);
    return w;
  }

  function task(source: string): AnalysisTask {
    const analysisId = randomUUID();
    return {
      analysisId,
      source: { bucket: 'videos', key: `uploads/${source}` },
      exercise: 'squat',
      fps: 10,
      output: { bucket: 'results', prefix: `analyses/${analysisId}/` },
    };
  }

  const updatesOf = (id: string) => updates.filter((u) => u.analysisId === id);
  const finalUpdate = (id: string, timeoutMs: number, w: QueueWorkerProcess) =>
    explained(w, arrivals, () =>
      eventually(
        `analysis ${id} finished`,
        timeoutMs,
        async () =>
          updatesOf(id).find((u) => u.status === 'succeeded' || u.status === 'failed' || u.status === 'cancelled'),
        200,
      ),
    );
  /** The first update saying frames were analysed: the analysis is well under way. */
  const firstProgress = (id: string, w: QueueWorkerProcess) =>
    explained(w, arrivals, () =>
      eventually(`first progress of ${id}`, 120_000, async () =>
        updatesOf(id).find((u) => u.progress && u.progress.framesDone > 0),
      ),
    );

  async function keysUnder(prefix: string): Promise<string[]> {
    const res = await s3.send(new ListObjectsV2Command({ Bucket: 'results', Prefix: prefix }));
    return (res.Contents ?? []).map((o) => o.Key as string).sort();
  }

  async function reportOf(key: string): Promise<Report> {
    const res = await s3.send(new GetObjectCommand({ Bucket: 'results', Key: key }));
    return JSON.parse(await (res.Body as { transformToString(): Promise<string> }).transformToString()) as Report;
  }

  test('a clip submitted twice is analysed once: running with progress, then succeeded with its reps and files', async () => {
    const worker = startWorker();
    const t = task('squat.mp4');
    await dispatcher.submit(t);
    await dispatcher.submit(t); // a retried request: same job id, nothing new
    const done = await finalUpdate(t.analysisId, 180_000, worker);
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    assert.equal(done.summary?.reps, SQUAT.reps);
    assert.equal(done.summary?.exercise, 'squat');
    assert.equal(done.attempts, 1);
    assert.ok(done.finishedAt, 'finishedAt');

    const seen = updatesOf(t.analysisId);
    const running = seen.find((u) => u.status === 'running' && u.startedAt);
    assert.ok(running, `a running update with startedAt: ${JSON.stringify(seen)}`);
    const progress = seen.filter((u) => u.progress).map((u) => u.progress);
    assert.ok(progress.length >= 2, `progress updates: ${JSON.stringify(progress)}`);
    const last = progress.at(-1);
    assert.ok(last && last.framesTotal > 0 && last.framesDone === last.framesTotal, JSON.stringify(last));
    assert.equal(seen.filter((u) => u.status === 'succeeded').length, 1, 'succeeded once');
    assert.equal(seen.filter((u) => u.status === 'running' && !u.progress).length, 1, 'started once');

    // The same keys as the Job mode, report.json naming them.
    const prefix = `analyses/${t.analysisId}/`;
    const thumbs = Array.from(
      { length: SQUAT.reps },
      (_, i) => `${prefix}thumbnails/rep-${String(i + 1).padStart(2, '0')}.png`,
    );
    assert.deepEqual(done.results, {
      bucket: 'results',
      prefix,
      report: `${prefix}report.json`,
      framesCsv: `${prefix}frames.csv`,
      thumbnails: thumbs,
    });
    assert.deepEqual(
      await keysUnder(prefix),
      [`${prefix}chart.png`, `${prefix}frames.csv`, `${prefix}report.json`, ...thumbs].sort(),
    );
    const report = await reportOf(`${prefix}report.json`);
    assert.equal(report.summary.reps, SQUAT.reps);
    assert.equal(report.video.file, 's3://videos/uploads/squat.mp4');
    assert.equal(report.files.thumbnails[0], `s3://results/${thumbs[0]}`);
    for (const key of thumbs) await s3.send(new HeadObjectCommand({ Bucket: 'results', Key: key }));

    await worker.stop();
    assert.equal(worker.exitCode(), 0, worker.logTail());
  });

  test('a corrupt video fails at once (one attempt, no retry) with a clear message and code', async () => {
    const worker = startWorker();
    const t = task('corrupt.mp4');
    await dispatcher.submit(t);
    const done = await finalUpdate(t.analysisId, 60_000, worker);
    assert.equal(done.status, 'failed', JSON.stringify(done));
    assert.equal(done.attempts, 1);
    assert.ok(
      done.errorCode && ENGINE_ERROR_CODES[done.errorCode as keyof typeof ENGINE_ERROR_CODES] === 'bad-input',
      JSON.stringify(done),
    );
    assert.match(done.message ?? '', /cannot be analysed/);
    assert.doesNotMatch(done.message ?? '', /^\[/, 'the code is not left in the message');
    assert.equal(updatesOf(t.analysisId).filter((u) => u.status === 'queued').length, 0, 'never retried');
    assert.deepEqual(await keysUnder(`analyses/${t.analysisId}/`), []);
    await worker.stop();
  });

  test('a worker killed (SIGKILL) mid-analysis: another worker takes the job over and exactly one report exists', async () => {
    const first = startWorker();
    const t = task('squat.mp4');
    await dispatcher.submit(t);
    await firstProgress(t.analysisId, first);
    await first.kill('SIGKILL');
    const killedAt = Date.now();
    const second = startWorker();
    const done = await finalUpdate(t.analysisId, 180_000, second);
    assert.equal(done.status, 'succeeded', `${JSON.stringify(done)}\n${second.logTail()}`);
    assert.equal(done.summary?.reps, SQUAT.reps);

    const seen = updatesOf(t.analysisId);
    const stalled = seen.find((u) => u.status === 'queued' && /stopped responding/.test(u.message ?? ''));
    assert.ok(stalled, `the user is told the worker stopped: ${JSON.stringify(seen)}`);
    const starts = seen.filter((u) => u.status === 'running' && !u.progress);
    assert.equal(starts.length, 2, 'started twice');
    assert.equal(starts[1]?.attempts, 2);
    assert.equal(done.attempts, 2, 'started twice');
    assert.equal(seen.filter((u) => u.status === 'succeeded').length, 1, 'succeeded once');
    const restartedAt = Date.parse(starts[1]?.startedAt ?? '');
    const recoveryMs = restartedAt - killedAt;
    console.log(
      `# killed worker's job running again on another worker after ${(recoveryMs / 1000).toFixed(1)} s (lock ${LOCK_MS / 1000} s)`,
    );
    // 1.5 lock durations, plus the second worker's start-up (up to ~10 s on a busy 2-core machine).
    assert.ok(recoveryMs < 1.5 * LOCK_MS + 12_000, `recovered after ${recoveryMs} ms`);

    const keys = await keysUnder(`analyses/${t.analysisId}/`);
    assert.equal(keys.filter((k) => k.endsWith('report.json')).length, 1, keys.join('\n'));
    assert.equal(keys.filter((k) => k.includes('/thumbnails/')).length, SQUAT.reps, keys.join('\n'));
    await second.stop();
    // The killed worker's scratch copy of the video was removed by the next worker to start.
    assert.deepEqual(await readdir(scratch), []);
  });

  test('a worker stopped (SIGTERM) mid-analysis hands its job back at once; another worker finishes it, no failed attempt', async () => {
    const first = startWorker({ NFC_SHUTDOWN_GRACE_MS: '500' });
    const t = task('squat.mp4');
    await dispatcher.submit(t);
    await firstProgress(t.analysisId, first);
    const stoppedAt = Date.now();
    await first.stop();
    const stopMs = Date.now() - stoppedAt;
    assert.equal(first.exitCode(), 0, first.logTail());
    assert.match(first.logTail(), /handed back to the queue/);
    assert.ok(stopMs < 10_000, `stopped in ${stopMs} ms`);
    await explained(first, arrivals, () =>
      eventually('told the analysis waits for another worker', 10_000, async () =>
        updatesOf(t.analysisId).find((u) => u.status === 'queued' && /stopped before finishing/.test(u.message ?? '')),
      ),
    );

    const second = startWorker();
    const done = await finalUpdate(t.analysisId, 180_000, second);
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    assert.equal(done.summary?.reps, SQUAT.reps);
    assert.equal(done.attempts, 2, 'started twice');
    const seen = updatesOf(t.analysisId);
    assert.equal(seen.filter((u) => u.status === 'failed').length, 0);
    assert.equal(seen.filter((u) => /retrying/.test(u.message ?? '')).length, 0, 'not a failed attempt');
    console.log(`# SIGTERM to exit with the job handed back: ${(stopMs / 1000).toFixed(1)} s`);
    await second.stop();
  });

  test('S3 unreachable from the worker: retried with backoff (the user sees each retry), then failed after 3 attempts', async () => {
    // A worker whose S3 endpoint refuses connections: every download fails, transiently.
    const worker = startWorker({ S3_ENDPOINT: 'http://127.0.0.1:9', S3_MAX_ATTEMPTS: '1' });
    const t = task('squat.mp4');
    const submittedAt = Date.now();
    await dispatcher.submit(t);
    const done = await finalUpdate(t.analysisId, 90_000, worker);
    const elapsed = Date.now() - submittedAt;
    assert.equal(done.status, 'failed', JSON.stringify(done));
    assert.equal(done.attempts, 3);
    assert.ok(done.errorCode, JSON.stringify(done));
    const retries = updatesOf(t.analysisId).filter((u) => u.status === 'queued' && /retrying/.test(u.message ?? ''));
    assert.deepEqual(
      retries.map((u) => u.attempts),
      [1, 2],
      JSON.stringify(updatesOf(t.analysisId)),
    );
    // Backoff 2 s then 4 s between the three attempts.
    assert.ok(elapsed >= 6_000, `failed after ${elapsed} ms`);
    await worker.stop();
  });

  test('Redis restarted while the first of three analyses runs: all three finish, nothing lost', async () => {
    const worker = startWorker();
    const tasks = [task('squat.mp4'), task('squat.mp4'), task('squat.mp4')];
    for (const t of tasks) await dispatcher.submit(t);
    const firstId = (tasks[0] as AnalysisTask).analysisId;
    await firstProgress(firstId, worker);
    const oldPid = redis.pid;
    await redis.restart({ downMs: 1_000 });
    assert.notEqual(redis.pid, oldPid);
    for (const t of tasks) {
      const done = await finalUpdate(t.analysisId, 240_000, worker);
      assert.equal(done.status, 'succeeded', `${JSON.stringify(done)}\n${worker.logTail()}`);
      assert.equal(done.summary?.reps, SQUAT.reps);
      const keys = await keysUnder(`analyses/${t.analysisId}/`);
      assert.ok(keys.includes(`analyses/${t.analysisId}/report.json`), keys.join('\n'));
    }
    await dispatcher.ready();
    await worker.stop();
    assert.equal(worker.exitCode(), 0, worker.logTail());
  });

  test('cancel: a waiting analysis is removed, a running one stopped within seconds; neither leaves a report', async () => {
    const worker = startWorker();
    const running = task('squat.mp4');
    const waiting = task('squat.mp4');
    await dispatcher.submit(running);
    await dispatcher.submit(waiting);
    await firstProgress(running.analysisId, worker);
    await dispatcher.cancel(waiting.analysisId);
    const cancelledAt = Date.now();
    await dispatcher.cancel(running.analysisId);
    const a = await finalUpdate(running.analysisId, 30_000, worker);
    const b = await finalUpdate(waiting.analysisId, 30_000, worker);
    assert.equal(a.status, 'cancelled', JSON.stringify(a));
    assert.equal(b.status, 'cancelled', JSON.stringify(b));
    assert.ok(Date.now() - cancelledAt < 10_000, 'stopped within seconds');
    assert.equal(updatesOf(waiting.analysisId).filter((u) => u.status === 'running').length, 0, 'never started');
    assert.ok(!(await keysUnder(`analyses/${running.analysisId}/`)).some((k) => k.endsWith('report.json')));
    await dispatcher.cancel(running.analysisId); // idempotent
    await worker.stop();
  });

  test('an API replica started later reports what finished while no replica was listening', async () => {
    const worker = startWorker();
    const t = task('corrupt.mp4');
    await dispatcher.submit(t);
    await finalUpdate(t.analysisId, 60_000, worker);
    await worker.stop();
    const finished = updates.filter((u) => u.status === 'succeeded' || u.status === 'failed');

    const late: AnalysisUpdate[] = [];
    const replica = new QueueDispatcher({
      redis: redisConfigFromEnv(redis.env),
      log: createLogger({ LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    });
    try {
      await replica.start((u) => late.push(u));
      for (const f of finished) {
        const got = late.find((u) => u.analysisId === f.analysisId);
        assert.equal(got?.status, f.status, `${f.analysisId}: ${JSON.stringify(got)}`);
        assert.equal(got?.summary?.reps, f.summary?.reps);
        assert.equal(got?.errorCode, f.errorCode);
        assert.equal(got?.finishedAt, f.finishedAt);
      }
    } finally {
      await replica.stop();
    }
  });
});

/** Adds the worker's log to a failure. */
async function explained<T>(worker: QueueWorkerProcess, arrivals: string[], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const seen = arrivals.slice(-15).join('\n');
    throw new Error(`${(err as Error).message}\n--- updates ---\n${seen}\n--- worker log ---\n${worker.logTail()}`, {
      cause: err,
    });
  }
}

describe('nfc worker queue settings', () => {
  test('wrong settings: exit 2 with every problem listed, before connecting to anything', () => {
    const res = spawnSync(join(REPO_ROOT, 'bin/nfc'), ['worker', 'queue'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { ...process.env, NFC_WORKER_CONCURRENCY: 'many', NFC_REDIS_TLS: 'maybe', NFC_QUEUE_LOCK_MS: '10' },
      timeout: 60_000,
    });
    assert.equal(res.status, 2, res.stderr);
    for (const name of ['NFC_WORKER_CONCURRENCY', 'NFC_REDIS_TLS', 'NFC_QUEUE_LOCK_MS'])
      assert.match(res.stderr, new RegExp(name));
  });
});
