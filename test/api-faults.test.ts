/**
 * The API when what it depends on fails: PostgreSQL going away and coming back under a running
 * API process (503 UNAVAILABLE meanwhile, never a 500 or a crash; then served again by the same
 * process), and an analysis whose video vanished from the store after it was uploaded (it ends
 * `failed` with a clear message and code, seen through GET and through the live events).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { readEvents, startTestApi, storedUploadObjects, type TestApi, type UserClient, userId } from './support/api.js';
import { clip } from './support/clips.js';
import { type Minio, startMinio } from './support/minio.js';
import { type Postgres, startPostgres } from './support/postgres.js';
import { eventually } from './support/wait.js';

const VIDEO = clip('formfit_squat.mp4');
/** Load shedding off: start-up on two shared cores trips it at once. */
const CALM = { NFC_MAX_EVENT_LOOP_DELAY_MS: '60000' };

interface AnalysisEvent {
  id: string;
  status: string;
  message: string | null;
  errorCode: string | null;
}

describe('PostgreSQL going away under a running API', () => {
  let pg: Postgres;
  let t: TestApi;
  let user: UserClient;

  before(async () => {
    pg = await startPostgres();
    t = await startTestApi({ postgres: pg, env: CALM });
    user = await t.signUp();
  });

  after(async () => {
    await t?.close();
    await pg?.stop();
  });

  it('answers 503 UNAVAILABLE while it is down, then 200 from the same process once it is back', async () => {
    const password = 'correct horse battery';
    const upload = await user.upload(await readFile(VIDEO.path), 'squat.mp4');
    assert.equal(upload.status, 201);
    assert.equal((await user.json('GET', '/v1/analyses')).status, 200);

    await pg.shutdown();
    try {
      const during = [
        await user.json('GET', '/v1/analyses'),
        await user.json('GET', `/v1/uploads/${upload.body.id}`),
        await user.json('POST', '/v1/analyses', { uploadId: upload.body.id }),
        await user.json('POST', '/v1/auth/login', { email: user.email, password }),
        await user.json('POST', '/v1/auth/register', { email: `new-${randomUUID()}@example.com`, password }),
      ];
      for (const res of during) {
        assert.equal(res.status, 503, JSON.stringify(res.body));
        assert.equal(res.body.error.code, 'UNAVAILABLE');
        assert.equal(res.headers.get('retry-after'), '5');
      }
      const ready = await user.json('GET', '/readyz');
      assert.equal(ready.status, 503);
      assert.equal(ready.body.checks.database.ok, false);
      // Alive, only not ready: an orchestrator must not restart it for this.
      assert.equal((await user.json('GET', '/healthz')).status, 200);
    } finally {
      await pg.start();
    }

    // Back: the very first request is served (the pool drops connections the shutdown broke).
    const first = await user.json('GET', '/v1/analyses');
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal((await user.json('GET', `/v1/uploads/${upload.body.id}`)).status, 200);
    assert.equal((await user.json('GET', '/readyz')).status, 200);
    const login = await user.json('POST', '/v1/auth/login', { email: user.email, password });
    assert.equal(login.status, 200);
  });

  it('an upload under way when the database goes: 503, and its stored video is removed', async () => {
    const video = await readFile(VIDEO.path);
    const objectsBefore = await storedUploadObjects(t);
    const boundary = `nfc-${randomUUID()}`;
    const body = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="squat.mp4"\r\nContent-Type: video/mp4\r\n\r\n`,
      ),
      video,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const req = httpRequest(`${t.url}/v1/uploads`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${user.token}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(body.length),
      },
    });
    const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
      req.on('response', (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
    });
    // Authenticated and streaming into the store; then the database goes, then the rest arrives.
    req.write(body.subarray(0, body.length >> 1));
    await sleep(500);
    await pg.shutdown();
    try {
      req.end(body.subarray(body.length >> 1));
      const res = await answer;
      assert.equal(res.status, 503, res.text);
      assert.equal(JSON.parse(res.text).error.code, 'UNAVAILABLE');
      assert.deepEqual(await storedUploadObjects(t), objectsBefore, 'the video of an upload that was not recorded');
    } finally {
      await pg.start();
    }
    const owner = await userId(t, user.email);
    const rows = await t.api.db.selectFrom('uploads').select('id').where('user_id', '=', owner).execute();
    assert.equal(rows.length, 1, 'only the upload of the first test');
  });

  it('an analysis running while PostgreSQL restarts ends succeeded, seen over GET and SSE', async () => {
    const up = await user.upload(await readFile(VIDEO.path), 'squat.mp4');
    assert.equal(up.status, 201);
    // 5 frames a second: a real run, kept short.
    const created = await user.json('POST', '/v1/analyses', { uploadId: up.body.id, exercise: 'squat', fps: 5 });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.id as string;
    let streaming!: () => void;
    const firstEvent = new Promise<void>((resolve) => {
      streaming = resolve;
    });
    const followed = readEvents<AnalysisEvent>(
      `${t.url}/v1/analyses/${id}/events`,
      user.token,
      (e) => {
        streaming();
        return ['succeeded', 'failed', 'cancelled'].includes(e.status);
      },
      AbortSignal.timeout(240_000),
    );
    // The stream is open (its first event came) before the database goes.
    await Promise.race([firstEvent, followed]);
    await eventually('the analysis is running', 60_000, async () => {
      const res = await user.json('GET', `/v1/analyses/${id}`);
      return res.body.status === 'running' ? true : undefined;
    });
    await pg.shutdown();
    await sleep(3_000); // updates from the run meet a database that is down
    await pg.start();
    const events = await followed;
    const final = await eventually('the analysis has finished', 60_000, async () => {
      const res = await user.json('GET', `/v1/analyses/${id}`);
      return ['succeeded', 'failed', 'cancelled'].includes(res.body.status) ? res.body : undefined;
    });
    assert.equal(final.status, 'succeeded', JSON.stringify(final));
    assert.equal(events[events.length - 1]?.status, 'succeeded');
    assert.ok(final.summary && final.summary.reps >= 0, JSON.stringify(final.summary));
    assert.ok(final.finishedAt);
    const report = await user.json('GET', `/v1/analyses/${id}/report`);
    assert.equal(report.status, 200);
  });

  it('survives postgres.restart() with connections in the pool: the next requests are 200', async () => {
    // Several connections open and idle in the pool when the server goes.
    const warm = await Promise.all(Array.from({ length: 6 }, () => user.json('GET', '/v1/analyses')));
    assert.deepEqual(
      warm.map((r) => r.status),
      [200, 200, 200, 200, 200, 200],
    );
    await pg.restart();
    const after = await Promise.all(Array.from({ length: 6 }, () => user.json('GET', '/v1/analyses')));
    assert.deepEqual(
      after.map((r) => `${r.status} ${r.status === 200 ? '' : JSON.stringify(r.body)}`.trim()),
      ['200', '200', '200', '200', '200', '200'],
    );
  });
});

for (const mode of ['embedded', 'postgres+minio'] as const) {
  describe(`an analysis whose video is gone from the store (${mode === 'embedded' ? 'PGlite + disk' : 'PostgreSQL + MinIO'})`, () => {
    let pg: Postgres | undefined;
    let minio: Minio | undefined;
    let t: TestApi;

    before(async () => {
      if (mode === 'postgres+minio') [pg, minio] = await Promise.all([startPostgres(), startMinio()]);
      t = await startTestApi({ ...(pg ? { postgres: pg } : {}), ...(minio ? { minio } : {}), env: CALM });
    });

    after(async () => {
      await t?.close();
      await Promise.all([pg?.stop(), minio?.stop()]);
    });

    /** Replaces (or, with no body, deletes) the upload's object behind the API's back. */
    async function tamper(uploadId: string, body?: Buffer): Promise<void> {
      const row = await t.api.db.selectFrom('uploads').selectAll().where('id', '=', uploadId).executeTakeFirstOrThrow();
      if (minio) {
        const s3 = minio.client();
        try {
          await s3.send(
            body
              ? new PutObjectCommand({ Bucket: row.bucket, Key: row.key, Body: body })
              : new DeleteObjectCommand({ Bucket: row.bucket, Key: row.key }),
          );
        } finally {
          s3.destroy();
        }
      } else if (body) {
        const { writeFile } = await import('node:fs/promises');
        const { join } = await import('node:path');
        await writeFile(join(t.dataDir, 'objects', row.bucket, row.key), body);
      } else {
        await t.api.storage.deleteObject(row.bucket, row.key);
      }
    }

    /** Creates the analysis and follows it live to its end; returns the events and the final GET. */
    async function analyse(user: UserClient, uploadId: string) {
      const created = await user.json('POST', '/v1/analyses', { uploadId, exercise: 'squat' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id = created.body.id as string;
      const events = await readEvents<AnalysisEvent>(
        `${t.url}/v1/analyses/${id}/events`,
        user.token,
        (e) => ['succeeded', 'failed', 'cancelled'].includes(e.status),
        AbortSignal.timeout(120_000),
      );
      const final = await eventually('the analysis has finished', 30_000, async () => {
        const res = await user.json('GET', `/v1/analyses/${id}`);
        return ['succeeded', 'failed', 'cancelled'].includes(res.body.status) ? res.body : undefined;
      });
      return { events, final };
    }

    it('deleted from the store after upload: the analysis fails with a clear message and code', async () => {
      const user = await t.signUp();
      const up = await user.upload(await readFile(VIDEO.path), 'squat.mp4');
      assert.equal(up.status, 201);
      await tamper(up.body.id);
      const { events, final } = await analyse(user, up.body.id);
      const last = events[events.length - 1];
      assert.equal(last?.status, 'failed', JSON.stringify(events));
      assert.equal(final.status, 'failed');
      assert.equal(final.errorCode, last?.errorCode);
      assert.equal(final.message, last?.message);
      assert.equal(final.errorCode, 'SOURCE_MISSING');
      assert.match(final.message, /^the source video \S+ does not exist \(deleted after upload, or a wrong key\)$/);
      assert.doesNotMatch(final.message, /internal error|thread exited/i);
      assert.ok(final.finishedAt);
      const report = await user.json('GET', `/v1/analyses/${final.id}/report`);
      assert.equal(report.status, 409);
      assert.equal(report.body.error.code, 'REPORT_NOT_READY');
    });

    it('replaced by a broken file after upload: the analysis fails as a bad video, not an internal error', async () => {
      const user = await t.signUp();
      const video = await readFile(VIDEO.path);
      const up = await user.upload(video, 'squat.mp4');
      assert.equal(up.status, 201);
      await tamper(up.body.id, Buffer.from('this is not a video any more\n'));
      const { final } = await analyse(user, up.body.id);
      assert.equal(final.status, 'failed', JSON.stringify(final));
      assert.notEqual(final.errorCode, 'INTERNAL', JSON.stringify(final));
      assert.ok(final.message);
    });
  });
}
