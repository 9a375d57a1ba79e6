/**
 * Who sees what: another user's upload or analysis id is "not found" on every route (it
 * reveals nothing and changes nothing), while an admin (NFC_ADMIN_EMAILS) sees and manages
 * them. Over the embedded PGlite and over real PostgreSQL.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { readEvents, startTestApi, type TestApi, type UserClient } from './support/api.js';
import { clip } from './support/clips.js';
import { type Postgres, startPostgres } from './support/postgres.js';

const VIDEO = clip('formfit_squat.mp4');

for (const mode of ['embedded', 'postgres'] as const) {
  describe(`access to other users' uploads and analyses (${mode === 'embedded' ? 'PGlite' : 'PostgreSQL'})`, () => {
    const adminEmail = `coach-${randomUUID().slice(0, 8)}@example.com`;
    let pg: Postgres | undefined;
    let t: TestApi;
    let owner: UserClient;
    let stranger: UserClient;
    let admin: UserClient;
    let uploadId: string;
    let pendingUploadId: string;
    let analysisId: string;

    before(async () => {
      if (mode === 'postgres') pg = await startPostgres();
      t = await startTestApi({
        ...(pg ? { postgres: pg } : {}),
        // Load shedding off: start-up on two shared cores trips it at once.
        env: { NFC_ADMIN_EMAILS: adminEmail, NFC_MAX_EVENT_LOOP_DELAY_MS: '60000' },
      });
      [owner, stranger, admin] = await Promise.all([t.signUp(), t.signUp(), t.signUp({ email: adminEmail })]);
      const up = await owner.upload(await readFile(VIDEO.path), 'squat.mp4');
      assert.equal(up.status, 201, JSON.stringify(up.body));
      uploadId = up.body.id;
      const pending = await owner.json('POST', '/v1/uploads/presign', {
        filename: 'later.mp4',
        contentType: 'video/mp4',
        bytes: 1000,
      });
      pendingUploadId = pending.body.upload.id;
      const created = await owner.json('POST', '/v1/analyses', { uploadId, exercise: 'squat' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      analysisId = created.body.id;
    });

    after(async () => {
      await t?.close();
      await pg?.stop();
    });

    it('a stranger gets 404 NOT_FOUND on every route, and changes nothing', async () => {
      const attempts: Array<[string, string, unknown?]> = [
        ['GET', `/v1/uploads/${uploadId}`],
        ['POST', `/v1/uploads/${pendingUploadId}/complete`],
        ['DELETE', `/v1/uploads/${uploadId}`],
        ['POST', '/v1/analyses', { uploadId }],
        ['GET', `/v1/analyses/${analysisId}`],
        ['GET', `/v1/analyses/${analysisId}/report`],
        ['GET', `/v1/analyses/${analysisId}/artifacts`],
        ['POST', `/v1/analyses/${analysisId}/cancel`],
        ['DELETE', `/v1/analyses/${analysisId}`],
      ];
      for (const [method, path, body] of attempts) {
        const res = await stranger.json(method, path, body);
        assert.equal(res.status, 404, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.code, 'NOT_FOUND', `${method} ${path}`);
      }
      const events = await fetch(`${t.url}/v1/analyses/${analysisId}/events`, {
        headers: { authorization: `Bearer ${stranger.token}` },
      });
      assert.equal(events.status, 404);
      assert.equal(((await events.json()) as { error: { code: string } }).error.code, 'NOT_FOUND');
      // A made-up id answers exactly the same: nothing tells the two apart.
      const madeUp = await stranger.json('GET', `/v1/analyses/${randomUUID()}`);
      assert.deepEqual(madeUp.body, (await stranger.json('GET', `/v1/analyses/${analysisId}`)).body);

      const list = await stranger.json('GET', '/v1/analyses');
      assert.deepEqual(list.body.items, []);

      // The owner's things are untouched: the upload is there, the analysis still going.
      assert.equal((await owner.json('GET', `/v1/uploads/${uploadId}`)).status, 200);
      assert.equal((await owner.json('GET', `/v1/uploads/${pendingUploadId}`)).body.status, 'pending');
      const mine = await owner.json('GET', `/v1/analyses/${analysisId}`);
      assert.equal(mine.status, 200);
      assert.ok(['queued', 'running'].includes(mine.body.status), mine.body.status);
      const ownList = await owner.json('GET', '/v1/analyses');
      assert.deepEqual(
        ownList.body.items.map((a: { id: string }) => a.id),
        [analysisId],
      );
      const row = await t.api.db.selectFrom('uploads').selectAll().where('id', '=', uploadId).executeTakeFirstOrThrow();
      assert.ok(await t.api.storage.head(row.bucket, row.key), 'the video is still in the store');
    });

    it('an admin sees, follows and manages them', async () => {
      assert.equal((await admin.json('GET', `/v1/uploads/${uploadId}`)).status, 200);
      const got = await admin.json('GET', `/v1/analyses/${analysisId}`);
      assert.equal(got.status, 200);
      assert.equal(got.body.id, analysisId);
      const list = await admin.json('GET', '/v1/analyses');
      assert.ok(
        list.body.items.some((a: { id: string }) => a.id === analysisId),
        'the admin list has the analysis (its exercise is squat: no filter is applied by default)',
      );
      // The report exists only once it succeeded: 409, not 404.
      const report = await admin.json('GET', `/v1/analyses/${analysisId}/report`);
      assert.equal(report.status, 409);
      assert.equal(report.body.error.code, 'REPORT_NOT_READY');
      const artifacts = await admin.json('GET', `/v1/analyses/${analysisId}/artifacts`);
      assert.equal(artifacts.status, 409);
      const [first] = await readEvents<{ id: string; status: string }>(
        `${t.url}/v1/analyses/${analysisId}/events`,
        admin.token,
        () => true,
      );
      assert.equal(first?.id, analysisId);

      const cancelled = await admin.json('POST', `/v1/analyses/${analysisId}/cancel`);
      assert.equal(cancelled.status, 200);
      assert.equal(cancelled.body.status, 'cancelled');
      assert.equal((await owner.json('GET', `/v1/analyses/${analysisId}`)).body.status, 'cancelled');
      assert.equal((await admin.json('DELETE', `/v1/analyses/${analysisId}`)).status, 204);
      assert.equal((await owner.json('GET', `/v1/analyses/${analysisId}`)).status, 404);
      assert.equal((await admin.json('DELETE', `/v1/uploads/${uploadId}`)).status, 204);
      assert.equal((await owner.json('GET', `/v1/uploads/${uploadId}`)).status, 404);
    });
  });
}
