/**
 * `queue` dispatch through the API, on the production parts: PostgreSQL, Redis (BullMQ), MinIO,
 * and a real `nfc worker queue` process. Two API replicas share the database and the queue: an
 * analysis created on one is followed live on the other, which sees every update.
 */
import assert from 'node:assert/strict';
import { openAsBlob } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readEvents, startTestApi, type TestApi } from './support/api.js';
import { clip } from './support/clips.js';
import { type Minio, startMinio } from './support/minio.js';
import { type Postgres, startPostgres } from './support/postgres.js';
import { type QueueWorkerProcess, startQueueWorker } from './support/queue-worker.js';
import { type RedisServer, startRedis } from './support/redis.js';

interface View {
  id: string;
  status: string;
  progress: { framesDone: number; framesTotal: number } | null;
  summary: { reps: number } | null;
  attempts: number;
}

describe('the API with queue dispatch (two replicas, one worker pool)', () => {
  const pushup = clip('tayyab_pushup2.mp4');
  let postgres: Postgres;
  let redis: RedisServer;
  let minio: Minio;
  let replicaA: TestApi;
  let replicaB: TestApi;
  let worker: QueueWorkerProcess;
  let scratch: string;

  before(async () => {
    [postgres, redis, minio] = await Promise.all([startPostgres(), startRedis(), startMinio()]);
    scratch = await mkdtemp(join(tmpdir(), 'nfc-api-queue-'));
    replicaA = await startTestApi({ dispatch: 'queue', postgres, redis, minio });
    replicaB = await startTestApi({ dispatch: 'queue', postgres, redis, minio, shareDatabaseWith: replicaA });
    worker = startQueueWorker({ ...redis.env, ...minio.env, NFC_WORKER_CONCURRENCY: '1', NFC_SCRATCH_DIR: scratch });
  });

  after(async () => {
    await worker?.kill('SIGKILL');
    await replicaB?.close();
    await replicaA?.close();
    await Promise.all([postgres?.stop(), redis?.stop(), minio?.stop()]);
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('reports readiness of PostgreSQL, MinIO and Redis', async () => {
    const res = await fetch(`${replicaA.url}/readyz`);
    const body = (await res.json()) as { status: string; checks: Record<string, { ok: boolean }> };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.deepEqual(Object.keys(body.checks).sort(), ['database', 'objectStore', 'redis']);
  });

  it('analyses a real clip created on one replica, followed live on the other', async () => {
    const onA = await replicaA.signUp();
    const onB = await replicaB.signUp({ email: onA.email });
    const upload = await onA.upload(await openAsBlob(pushup.path), 'pushup.mp4');
    assert.equal(upload.status, 201, JSON.stringify(upload.body));

    const created = await onA.json<View>('POST', '/v1/analyses', { uploadId: upload.body.id, exercise: 'auto' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.status, 'queued');

    const events = await readEvents<View>(`${replicaB.url}/v1/analyses/${created.body.id}/events`, onB.token);
    const final = events.at(-1);
    assert.equal(final?.status, 'succeeded', `${JSON.stringify(final)}\nworker log:\n${worker.logTail()}`);
    assert.equal(final?.summary?.reps, pushup.reps);
    assert.ok(
      events.some((e) => e.status === 'running' && e.progress !== null),
      `replica B saw progress: ${events.map((e) => e.status).join(',')}`,
    );

    // Both replicas read the same row and the same report from the bucket.
    const onReplicaA = await onA.json<View>('GET', `/v1/analyses/${created.body.id}`);
    assert.equal(onReplicaA.body.status, 'succeeded');
    assert.equal(onReplicaA.body.attempts, 1);
    const report = await onB.json<{ summary: { reps: number } }>('GET', `/v1/analyses/${created.body.id}/report`);
    assert.equal(report.body.summary.reps, pushup.reps);
    const files = await onA.json<{ thumbnails: string[] }>('GET', `/v1/analyses/${created.body.id}/artifacts`);
    const thumbnail = await fetch(files.body.thumbnails[0] as string);
    assert.equal(thumbnail.status, 200, 'the presigned MinIO URL serves the thumbnail');
    assert.equal(thumbnail.headers.get('content-type'), 'image/png');
  });
});
