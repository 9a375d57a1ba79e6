/**
 * The embedded default end to end (`nfc serve`: PGlite, objects on disk, analyses in worker
 * threads): a real clip uploaded over HTTP, analysed, followed live over SSE, its report and
 * files fetched through signed URLs; cancel, delete, and data kept across a restart.
 */
import assert from 'node:assert/strict';
import { existsSync, openAsBlob } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readEvents, startTestApi, type TestApi, type UserClient } from './support/api.js';
import { clip } from './support/clips.js';

interface View {
  id: string;
  status: string;
  progress: { framesDone: number; framesTotal: number; percent: number } | null;
  summary: { reps: number; exercise: string; score: number | null } | null;
  message: string | null;
  errorCode: string | null;
}

describe('the embedded API (inline dispatch)', () => {
  const squat = clip('formfit_squat.mp4');
  let server: TestApi;
  let user: UserClient;
  let uploadId: string;

  before(async () => {
    server = await startTestApi();
    user = await server.signUp();
  });
  after(async () => server?.close());

  it('takes a real clip: upload → analysis → live progress → report with the hand-counted reps', async () => {
    const upload = await user.upload(await openAsBlob(squat.path), 'squat.mp4');
    assert.equal(upload.status, 201, JSON.stringify(upload.body));
    assert.equal(upload.body.status, 'ready');
    assert.equal(upload.body.media.codec, 'h264');
    uploadId = upload.body.id;

    const created = await user.json<View>('POST', '/v1/analyses', { uploadId, exercise: 'auto' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.status, 'queued');

    const events = await readEvents<View>(`${server.url}/v1/analyses/${created.body.id}/events`, user.token);
    const final = events.at(-1);
    assert.equal(final?.status, 'succeeded', JSON.stringify(final));
    assert.equal(final?.summary?.reps, squat.reps);
    assert.equal(final?.summary?.exercise, 'squat');
    assert.ok(
      events.some((e) => e.status === 'running' && e.progress && e.progress.framesDone < e.progress.framesTotal),
      'progress was streamed while running',
    );

    const got = await user.json<View>('GET', `/v1/analyses/${created.body.id}`);
    assert.equal(got.body.status, 'succeeded');
    assert.equal(got.body.summary?.reps, squat.reps);

    const report = await user.json<{ summary: { reps: number }; reps: unknown[] }>(
      'GET',
      `/v1/analyses/${created.body.id}/report`,
    );
    assert.equal(report.status, 200);
    assert.equal(report.body.summary.reps, squat.reps);

    const files = await user.json<{ report: string; framesCsv: string; thumbnails: string[] }>(
      'GET',
      `/v1/analyses/${created.body.id}/artifacts`,
    );
    assert.equal(files.body.thumbnails.length, squat.reps);
    const png = await fetch(files.body.thumbnails[0] as string);
    assert.equal(png.status, 200);
    assert.equal(png.headers.get('content-type'), 'image/png');
    assert.deepEqual([...new Uint8Array(await png.arrayBuffer()).slice(1, 4)], [0x50, 0x4e, 0x47]);
    const csv = await (await fetch(files.body.framesCsv)).text();
    assert.match(csv.split('\n')[0] ?? '', /^frame,/);
    // The signature is the credential: a changed link is refused.
    const tampered = await fetch(files.body.framesCsv.replace('frames.csv', 'report.json'));
    assert.equal(tampered.status, 403);

    const deleted = await user.json('DELETE', `/v1/analyses/${created.body.id}`);
    assert.equal(deleted.status, 204);
    assert.equal((await user.json('GET', `/v1/analyses/${created.body.id}`)).status, 404);
    assert.equal(existsSync(join(server.dataDir, 'objects', 'results', 'analyses', created.body.id)), false);
    assert.equal((await fetch(files.body.report)).status, 404, 'the report is gone with the analysis');
  });

  it('cancels an analysis: the stream ends with "cancelled" and nothing runs on', async () => {
    const created = await user.json<View>('POST', '/v1/analyses', { uploadId, exercise: 'squat', fps: 10 });
    assert.equal(created.status, 201);
    const stream = readEvents<View>(`${server.url}/v1/analyses/${created.body.id}/events`, user.token);
    const cancelled = await user.json<View>('POST', `/v1/analyses/${created.body.id}/cancel`);
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.status, 'cancelled');
    const events = await stream;
    assert.equal(events.at(-1)?.status, 'cancelled');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await user.json<View>('GET', `/v1/analyses/${created.body.id}`)).body.status, 'cancelled');
    const dispatcher = server.api.dispatcher as unknown as { load: { running: number; waiting: number } };
    assert.deepEqual(dispatcher.load, { running: 0, waiting: 0 });
  });

  it('keeps accounts, uploads and analyses across a restart of the server', async () => {
    const before = await user.json<{ items: View[] }>('GET', '/v1/analyses');
    await server.close({ keepData: true });
    server = await startTestApi({ dataDir: server.dataDir });
    const again = await server.signUp({ email: user.email });
    const upload = await again.json('GET', `/v1/uploads/${uploadId}`);
    assert.equal(upload.status, 200);
    const list = await again.json<{ items: View[] }>('GET', '/v1/analyses');
    assert.deepEqual(
      list.body.items.map((a) => [a.id, a.status]),
      before.body.items.map((a) => [a.id, a.status]),
    );
  });
});
