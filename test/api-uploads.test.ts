/**
 * Uploads under attack and under failure, over a real socket: hostile files, a file over the
 * cap, malformed requests, a client that disconnects half-way, and the presigned flow. Every
 * refusal must be a 4xx with a stable code AND leave nothing behind: no object (nor, on S3, an
 * unfinished multipart upload) and no row. Run against the embedded setup (PGlite + disk) and
 * against real PostgreSQL + MinIO.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestApi, storedUploadObjects, type TestApi, type UserClient, userId } from './support/api.js';
import { clip } from './support/clips.js';
import { type Minio, startMinio } from './support/minio.js';
import { type Postgres, startPostgres } from './support/postgres.js';
import { eventually } from './support/wait.js';

const SMALL_CAP = 300 * 1024;
/** 916 KB, index (`moov`) before the data: its first half probes like a whole video. */
const FAST_START = clip('formfit_squat.mp4');
/** 1.9 MB, index after the data: its first half has no index at all. */
const INDEX_LAST = clip('formfit_curl.mp4');

const HLS_PLAYLIST =
  '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\nhttp://127.0.0.1:9/seg0.ts\n#EXT-X-ENDLIST\n';
const NOTES = 'Hi coach,\nthis is not a video, just my notes about squat depth, saved with the wrong name.\n';

for (const mode of ['embedded', 'postgres+minio'] as const) {
  describe(`uploads (${mode === 'embedded' ? 'PGlite + disk' : 'PostgreSQL + MinIO'})`, () => {
    let pg: Postgres | undefined;
    let minio: Minio | undefined;
    let t: TestApi;
    let small: TestApi;
    let video: Buffer;

    const start = (env: Record<string, string> = {}) =>
      startTestApi({
        ...(pg ? { postgres: pg } : {}),
        ...(minio ? { minio } : {}),
        // One bucket per API: listing it shows exactly what this API left.
        // Load shedding off: start-up (PGlite, migrations) on two shared cores trips it at once.
        env: {
          NFC_S3_BUCKET_VIDEOS: `videos-${randomUUID().slice(0, 8)}`,
          NFC_MAX_EVENT_LOOP_DELAY_MS: '60000',
          ...env,
        },
      });

    before(async () => {
      if (mode === 'postgres+minio') [pg, minio] = await Promise.all([startPostgres(), startMinio()]);
      [t, small] = await Promise.all([start(), start({ NFC_MAX_UPLOAD_BYTES: String(SMALL_CAP) })]);
      video = await readFile(FAST_START.path);
    });

    after(async () => {
      await Promise.all([t?.close(), small?.close()]);
      await Promise.all([pg?.stop(), minio?.stop()]);
    });

    /**
     * Runs `act` and proves it left no object and no upload row of `user`. A refused upload is
     * cleaned up before the reply, so there is no waiting, unless `settle` (a reset connection
     * gets no reply to wait for).
     */
    async function leavesNothing(
      api: TestApi,
      user: UserClient,
      act: () => Promise<void>,
      settle = false,
    ): Promise<void> {
      const objectsBefore = await storedUploadObjects(api, minio);
      await act();
      if (settle) {
        await eventually('the store is back as it was', 10_000, async () =>
          JSON.stringify(await storedUploadObjects(api, minio)) === JSON.stringify(objectsBefore) ? true : undefined,
        ).catch(() => undefined);
      }
      assert.deepEqual(await storedUploadObjects(api, minio), objectsBefore, 'objects left in the store');
      assert.equal(await uploadRows(api, user), 0, 'upload rows left');
    }

    it('refuses an HLS playlist renamed .mp4 (415 UNSUPPORTED_MEDIA_TYPE)', async () => {
      const user = await t.signUp();
      await leavesNothing(t, user, async () => {
        const res = await user.upload(Buffer.from(HLS_PLAYLIST), 'workout.mp4');
        assert.equal(res.status, 415);
        assert.equal(res.body.error.code, 'UNSUPPORTED_MEDIA_TYPE');
        assert.equal(res.body.error.details.detected, 'an HLS playlist');
      });
    });

    it('refuses a text file and an empty file (415 UNSUPPORTED_MEDIA_TYPE)', async () => {
      const user = await t.signUp();
      await leavesNothing(t, user, async () => {
        const res = await user.upload(Buffer.from(NOTES), 'notes.mp4');
        assert.equal(res.status, 415);
        assert.equal(res.body.error.code, 'UNSUPPORTED_MEDIA_TYPE');
        assert.equal(res.body.error.details.detected, 'a text file');
        const empty = await user.upload(new Uint8Array(0), 'empty.mp4');
        assert.equal(empty.status, 415);
        assert.equal(empty.body.error.details.detected, 'the file is empty');
      });
    });

    it('refuses the first half of a fast-start MP4 (422 CORRUPT_VIDEO)', async () => {
      const user = await t.signUp();
      await leavesNothing(t, user, async () => {
        const res = await user.upload(video.subarray(0, video.length >> 1), 'half.mp4');
        assert.equal(res.status, 422, JSON.stringify(res.body));
        assert.equal(res.body.error.code, 'CORRUPT_VIDEO');
        assert.match(res.body.error.message, /damaged or incomplete/);
      });
    });

    it('refuses the first half of an MP4 with its index at the end (422 CORRUPT_VIDEO)', async () => {
      const user = await t.signUp();
      const whole = await readFile(INDEX_LAST.path);
      await leavesNothing(t, user, async () => {
        const res = await user.upload(whole.subarray(0, whole.length >> 1), 'half.mp4');
        assert.equal(res.status, 422, JSON.stringify(res.body));
        assert.equal(res.body.error.code, 'CORRUPT_VIDEO');
      });
    });

    it('refuses a file over NFC_MAX_UPLOAD_BYTES (413 UPLOAD_TOO_LARGE), with or without Content-Length', async () => {
      const user = await small.signUp();
      await leavesNothing(small, user, async () => {
        const res = await user.upload(video, 'squat.mp4');
        assert.equal(res.status, 413);
        assert.equal(res.body.error.code, 'UPLOAD_TOO_LARGE');
        assert.equal(res.body.error.details.maxBytes, SMALL_CAP);
      });
      // Chunked: no length up front, so the cap is met mid-stream, after the store started.
      await leavesNothing(small, user, async () => {
        const res = await rawUpload(small.url, user.token, multipart(video, 'squat.mp4'), { chunked: true });
        assert.equal(res.status, 413, res.text);
        assert.equal(JSON.parse(res.text).error.code, 'UPLOAD_TOO_LARGE');
      });
    });

    it('refuses a multipart body without a "file" field (400)', async () => {
      const user = await t.signUp();
      await leavesNothing(t, user, async () => {
        const form = new FormData();
        form.append('video', new Blob([video]), 'squat.mp4');
        const res = await fetch(`${t.url}/v1/uploads`, {
          method: 'POST',
          headers: { authorization: `Bearer ${user.token}` },
          body: form,
        });
        assert.equal(res.status, 400);
        assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'VALIDATION_FAILED');

        const fieldsOnly = new FormData();
        fieldsOnly.append('note', 'no file here');
        const res2 = await fetch(`${t.url}/v1/uploads`, {
          method: 'POST',
          headers: { authorization: `Bearer ${user.token}` },
          body: fieldsOnly,
        });
        assert.equal(res2.status, 400);
        assert.equal(((await res2.json()) as { error: { code: string } }).error.code, 'VALIDATION_FAILED');
      });
    });

    it('refuses a body that is not multipart (415 UNSUPPORTED_MEDIA_TYPE)', async () => {
      const user = await t.signUp();
      await leavesNothing(t, user, async () => {
        for (const [type, body] of [
          ['video/mp4', video],
          ['application/json', Buffer.from('{"file":"squat.mp4"}')],
          ['text/plain', Buffer.from(NOTES)],
        ] as const) {
          const res = await fetch(`${t.url}/v1/uploads`, {
            method: 'POST',
            headers: { authorization: `Bearer ${user.token}`, 'content-type': type },
            body: body,
          });
          const json = (await res.json()) as { error: { code: string } };
          assert.equal(res.status, 415, `${type}: ${JSON.stringify(json)}`);
          assert.equal(json.error.code, 'UNSUPPORTED_MEDIA_TYPE', type);
        }
      });
    });

    it('leaves nothing behind when the client disconnects mid-upload, and keeps serving', async () => {
      const user = await t.signUp();
      const before = await storedUploadObjects(t, minio);
      // A 20 MB "video": a real MP4 head (it passes the sniff), then noise; half of it is sent.
      const body = multipart(Buffer.concat([video.subarray(0, 64 * 1024), randomBytes(20 * 1024 * 1024)]), 'big.mp4');
      const sent = await abandonUpload(t.url, user.token, body, body.length >> 1);
      assert.ok(sent >= body.length >> 1);
      await eventually('the interrupted upload is cleaned up', 15_000, async () => {
        const now = await storedUploadObjects(t, minio);
        return JSON.stringify(now) === JSON.stringify(before) ? true : undefined;
      });
      assert.equal(await uploadRows(t, user), 0);
      // Still serving: the same user uploads a real video.
      const res = await user.upload(video, 'squat.mp4');
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.status, 'ready');
    });

    it('presigned flow: presign → PUT → complete gives a ready upload with its media facts', async () => {
      const user = await t.signUp();
      const presign = await user.json('POST', '/v1/uploads/presign', {
        filename: 'squat.mp4',
        contentType: 'video/mp4',
        bytes: video.length,
      });
      assert.equal(presign.status, 201, JSON.stringify(presign.body));
      assert.equal(presign.body.upload.status, 'pending');
      const url = new URL(presign.body.put.url);
      if (mode === 'embedded') assert.equal(url.pathname.startsWith('/v1/objects/'), true, url.href);
      else assert.equal(url.origin, minio?.endpoint);
      const id = presign.body.upload.id as string;

      const early = await user.json('POST', `/v1/uploads/${id}/complete`);
      assert.equal(early.status, 409);
      assert.equal(early.body.error.code, 'UPLOAD_MISSING');

      const put = await fetch(presign.body.put.url, {
        method: 'PUT',
        headers: presign.body.put.headers,
        body: video,
      });
      assert.equal(put.status, 200, await put.text());
      const done = await user.json('POST', `/v1/uploads/${id}/complete`);
      assert.equal(done.status, 200, JSON.stringify(done.body));
      assert.equal(done.body.status, 'ready');
      assert.equal(done.body.bytes, video.length);
      assert.equal(done.body.media.codec, 'h264');
      assert.equal(done.body.media.width, 620);
      assert.equal(done.body.media.height, 720);
      assert.ok(done.body.media.durationSeconds > 5);
      const got = await user.json('GET', `/v1/uploads/${id}`);
      assert.equal(got.body.status, 'ready');
    });

    it('presigned flow: a text file PUT in place of the video is refused at complete, object and row gone', async () => {
      const user = await t.signUp();
      await leavesNothing(t, user, async () => {
        const presign = await user.json('POST', '/v1/uploads/presign', {
          filename: 'squat.mp4',
          contentType: 'video/mp4',
          bytes: NOTES.length,
        });
        assert.equal(presign.status, 201);
        const put = await fetch(presign.body.put.url, {
          method: 'PUT',
          headers: presign.body.put.headers,
          body: NOTES,
        });
        assert.equal(put.status, 200);
        const done = await user.json('POST', `/v1/uploads/${presign.body.upload.id}/complete`);
        assert.equal(done.status, 415, JSON.stringify(done.body));
        assert.equal(done.body.error.code, 'UNSUPPORTED_MEDIA_TYPE');
        const gone = await user.json('GET', `/v1/uploads/${presign.body.upload.id}`);
        assert.equal(gone.status, 404);
      });
    });

    it('presigned flow: a truncated video PUT is refused at complete (422), object and row gone', async () => {
      const user = await t.signUp();
      await leavesNothing(t, user, async () => {
        const half = video.subarray(0, video.length >> 1);
        const presign = await user.json('POST', '/v1/uploads/presign', {
          filename: 'squat.mp4',
          contentType: 'video/mp4',
          bytes: half.length,
        });
        const put = await fetch(presign.body.put.url, { method: 'PUT', headers: presign.body.put.headers, body: half });
        assert.equal(put.status, 200);
        const done = await user.json('POST', `/v1/uploads/${presign.body.upload.id}/complete`);
        assert.equal(done.status, 422, JSON.stringify(done.body));
        assert.equal(done.body.error.code, 'CORRUPT_VIDEO');
      });
    });

    it('presigned flow: a PUT larger than declared and over the cap is refused, nothing kept', async () => {
      const user = await small.signUp();
      await leavesNothing(
        small,
        user,
        async () => {
          const presign = await user.json('POST', '/v1/uploads/presign', {
            filename: 'squat.mp4',
            contentType: 'video/mp4',
            bytes: 1000,
          });
          assert.equal(presign.status, 201);
          // The disk store's PUT refuses a declared size over the signed cap before reading the body;
          // S3's presigned PUT cannot cap the size, so the store takes it and complete must refuse it.
          const put = await fetch(presign.body.put.url, {
            method: 'PUT',
            headers: presign.body.put.headers,
            body: video,
          })
            .then(async (res) => ({ status: res.status, text: await res.text() }))
            .catch((err: Error & { cause?: { code?: string } }) => ({ status: 0, text: String(err.cause?.code) }));
          if (mode === 'postgres+minio') {
            assert.equal(put.status, 200, JSON.stringify(put));
            const done = await user.json('POST', `/v1/uploads/${presign.body.upload.id}/complete`);
            assert.equal(done.status, 413, JSON.stringify(done.body));
            assert.equal(done.body.error.code, 'UPLOAD_TOO_LARGE');
          } else {
            assert.equal(put.status, 413, JSON.stringify(put));
            assert.equal(JSON.parse(put.text).error.code, 'UPLOAD_TOO_LARGE');
            // Nothing arrived: complete says so, and the user's delete drops the pending upload.
            const done = await user.json('POST', `/v1/uploads/${presign.body.upload.id}/complete`);
            assert.equal(done.status, 409);
            assert.equal(done.body.error.code, 'UPLOAD_MISSING');
            assert.equal((await user.json('DELETE', `/v1/uploads/${presign.body.upload.id}`)).status, 204);
          }
        },
        true,
      );
    });

    it('presign refuses a declared size over the cap (413) without creating anything', async () => {
      const user = await small.signUp();
      await leavesNothing(small, user, async () => {
        const res = await user.json('POST', '/v1/uploads/presign', {
          filename: 'squat.mp4',
          contentType: 'video/mp4',
          bytes: video.length,
        });
        assert.equal(res.status, 413);
        assert.equal(res.body.error.code, 'UPLOAD_TOO_LARGE');
      });
    });
  });
}

async function uploadRows(t: TestApi, user: UserClient): Promise<number> {
  const id = await userId(t, user.email);
  const rows = await t.api.db.selectFrom('uploads').select('id').where('user_id', '=', id).execute();
  return rows.length;
}

const BOUNDARY = '----nfc-test-boundary-7MA4YWxkTrZu0gW';

/** A multipart/form-data body with one file field "file". */
function multipart(content: Buffer, filename: string): Buffer {
  return Buffer.concat([
    Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: video/mp4\r\n\r\n`,
    ),
    content,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
}

/** POST /v1/uploads over a raw socket; `chunked` leaves out Content-Length. */
function rawUpload(
  url: string,
  token: string,
  body: Buffer,
  options: { chunked?: boolean } = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/v1/uploads`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
        ...(options.chunked ? {} : { 'content-length': String(body.length) }),
      },
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    // The server may answer (413) and close before the whole body is written.
    req.on('error', (err) => (err.message.includes('EPIPE') || /reset/i.test(err.message) ? undefined : reject(err)));
    (async () => {
      for (let at = 0; at < body.length && !req.destroyed; at += 64 * 1024) {
        if (!req.write(body.subarray(at, at + 64 * 1024))) await new Promise((r) => req.once('drain', r));
      }
      req.end();
    })().catch(reject);
  });
}

/** Sends the first `bytes` of a declared-length upload, then destroys the socket; returns bytes written. */
async function abandonUpload(url: string, token: string, body: Buffer, bytes: number): Promise<number> {
  const req = httpRequest(`${url}/v1/uploads`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
      'content-length': String(body.length),
    },
  });
  let answered: number | undefined;
  req.on('response', (res) => {
    answered = res.statusCode;
    res.resume();
  });
  req.on('error', () => undefined); // we are the ones breaking it
  let sent = 0;
  while (sent < bytes) {
    const chunk = body.subarray(sent, Math.min(bytes, sent + 256 * 1024));
    sent += chunk.length;
    if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
  }
  // Let the server get well into storing it before the client vanishes.
  await sleep(300);
  assert.equal(answered, undefined, 'the server answered before the upload was complete');
  req.destroy();
  return sent;
}
