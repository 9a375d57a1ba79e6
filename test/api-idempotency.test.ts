/**
 * Idempotency-Key on the POSTs that create something: a client that retries (a timeout, a
 * dropped connection) with the same key gets the first answer back instead of a second upload
 * or a second analysis. Over the embedded PGlite and over real PostgreSQL (the key table is
 * what is tested; objects stay on disk).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { startTestApi, storedUploadObjects, type TestApi, type UserClient, userId } from './support/api.js';
import { clip } from './support/clips.js';
import { type Postgres, startPostgres } from './support/postgres.js';

const VIDEO = clip('formfit_squat.mp4');

for (const mode of ['embedded', 'postgres'] as const) {
  describe(`Idempotency-Key (${mode === 'embedded' ? 'PGlite' : 'PostgreSQL'})`, () => {
    let pg: Postgres | undefined;
    let t: TestApi;
    let video: Buffer;

    before(async () => {
      if (mode === 'postgres') pg = await startPostgres();
      // Load shedding off: start-up on two shared cores trips it at once.
      t = await startTestApi({ ...(pg ? { postgres: pg } : {}), env: { NFC_MAX_EVENT_LOOP_DELAY_MS: '60000' } });
      video = await readFile(VIDEO.path);
    });

    after(async () => {
      await t?.close();
      await pg?.stop();
    });

    /** A ready upload of `user` (no key). */
    async function uploaded(user: UserClient): Promise<string> {
      const res = await user.upload(video, 'squat.mp4');
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body.id;
    }

    async function analysesOf(user: UserClient): Promise<string[]> {
      const id = await userId(t, user.email);
      const rows = await t.api.db.selectFrom('analyses').select('id').where('user_id', '=', id).execute();
      return rows.map((r) => r.id);
    }

    /** Analyses run inline in this process: stop them, the test is about the rows. */
    async function cancelAll(user: UserClient): Promise<void> {
      for (const id of await analysesOf(user)) await user.json('POST', `/v1/analyses/${id}/cancel`);
    }

    it('POST /v1/analyses twice with one key: one analysis, the second answer replayed', async () => {
      const user = await t.signUp();
      const uploadId = await uploaded(user);
      const key = `create-${randomUUID()}`;
      const body = { uploadId, exercise: 'squat' };
      const first = await user.json('POST', '/v1/analyses', body, { 'idempotency-key': key });
      assert.equal(first.status, 201, JSON.stringify(first.body));
      assert.equal(first.headers.get('idempotent-replayed'), null);
      const second = await user.json('POST', '/v1/analyses', body, { 'idempotency-key': key });
      await cancelAll(user);
      assert.equal(second.status, 201);
      assert.equal(second.headers.get('idempotent-replayed'), 'true');
      assert.equal(second.body.id, first.body.id);
      assert.deepEqual(await analysesOf(user), [first.body.id]);

      // The same key for a different request is refused, and creates nothing.
      const other = await user.json(
        'POST',
        '/v1/analyses',
        { uploadId, exercise: 'pushup' },
        { 'idempotency-key': key },
      );
      assert.equal(other.status, 422);
      assert.equal(other.body.error.code, 'IDEMPOTENCY_KEY_REUSED');
      assert.deepEqual(await analysesOf(user), [first.body.id]);

      // Keys are per user: another user's identical key is theirs alone.
      const stranger = await t.signUp();
      const theirs = await stranger.json('POST', '/v1/analyses', body, { 'idempotency-key': key });
      assert.equal(theirs.status, 404, 'another user may not use (or learn about) this upload');
      assert.equal(theirs.headers.get('idempotent-replayed'), null);
    });

    it('a request that failed does not keep its key: the corrected retry runs', async () => {
      const user = await t.signUp();
      const uploadId = await uploaded(user);
      const key = `retry-${randomUUID()}`;
      const wrong = await user.json('POST', '/v1/analyses', { uploadId: randomUUID() }, { 'idempotency-key': key });
      assert.equal(wrong.status, 404);
      const right = await user.json('POST', '/v1/analyses', { uploadId }, { 'idempotency-key': key });
      await cancelAll(user);
      assert.equal(right.status, 201, JSON.stringify(right.body));
      assert.equal(right.headers.get('idempotent-replayed'), null);
      assert.deepEqual(await analysesOf(user), [right.body.id]);
    });

    it('two concurrent requests with one key create one analysis', async () => {
      const user = await t.signUp();
      const uploadId = await uploaded(user);
      const key = `race-${randomUUID()}`;
      const replies = await Promise.all(
        [0, 1, 2].map(() => user.json('POST', '/v1/analyses', { uploadId }, { 'idempotency-key': key })),
      );
      await cancelAll(user);
      const created = replies.filter((r) => r.status === 201);
      assert.ok(created.length >= 1, JSON.stringify(replies.map((r) => [r.status, r.body])));
      for (const r of replies) {
        if (r.status === 201) assert.equal(r.body.id, created[0]?.body.id);
        else {
          assert.equal(r.status, 409, JSON.stringify(r.body));
          assert.equal(r.body.error.code, 'IDEMPOTENCY_KEY_IN_FLIGHT');
        }
      }
      assert.equal((await analysesOf(user)).length, 1);
    });

    it('POST /v1/uploads twice with one key: one upload row, the second answer replayed', async () => {
      const user = await t.signUp();
      const key = `upload-${randomUUID()}`;
      const first = await user.upload(video, 'squat.mp4', { 'idempotency-key': key });
      assert.equal(first.status, 201, JSON.stringify(first.body));
      const second = await user.upload(video, 'squat.mp4', { 'idempotency-key': key });
      assert.equal(second.status, 201, JSON.stringify(second.body));
      assert.equal(second.headers.get('idempotent-replayed'), 'true');
      assert.equal(second.body.id, first.body.id);
      const owner = await userId(t, user.email);
      const rows = await t.api.db.selectFrom('uploads').select('id').where('user_id', '=', owner).execute();
      assert.deepEqual(
        rows.map((r) => r.id),
        [first.body.id],
      );
      // The same key on another route is a different request.
      const presign = await user.json(
        'POST',
        '/v1/uploads/presign',
        { filename: 'a.mp4', contentType: 'video/mp4', bytes: 10 },
        { 'idempotency-key': key },
      );
      assert.equal(presign.status, 201);
    });

    it('the same key with another file is refused (422), and stores nothing', async () => {
      const user = await t.signUp();
      const key = `upload-${randomUUID()}`;
      const first = await user.upload(video, 'squat.mp4', { 'idempotency-key': key });
      assert.equal(first.status, 201, JSON.stringify(first.body));
      const objects = await storedUploadObjects(t);
      const other = await readFile(clip('tayyab_pushup2.mp4').path);
      const second = await user.upload(other, 'pushup.mp4', { 'idempotency-key': key });
      assert.equal(second.status, 422, JSON.stringify(second.body));
      assert.equal(second.body.error.code, 'IDEMPOTENCY_KEY_REUSED');
      assert.deepEqual(await storedUploadObjects(t), objects);
      const owner = await userId(t, user.email);
      const rows = await t.api.db.selectFrom('uploads').select('id').where('user_id', '=', owner).execute();
      assert.equal(rows.length, 1);
    });

    it('a key left unanswered by a request that died is in flight (409) for a while, then usable again', async () => {
      const user = await t.signUp();
      const uploadId = await uploaded(user);
      const key = `crash-${randomUUID()}`;
      const body = { uploadId, exercise: 'squat' };
      const first = await user.json('POST', '/v1/analyses', body, { 'idempotency-key': key });
      assert.equal(first.status, 201);
      await cancelAll(user);
      // What a process that stopped between claiming the key and answering leaves behind.
      const owner = await userId(t, user.email);
      const unanswered = (createdAt: Date) =>
        sql`update idempotency_keys set status_code = null, response = null, created_at = ${createdAt}
            where user_id = ${owner} and key = ${key}`.execute(t.api.db);

      await unanswered(new Date());
      const soon = await user.json('POST', '/v1/analyses', body, { 'idempotency-key': key });
      assert.equal(soon.status, 409, JSON.stringify(soon.body));
      assert.equal(soon.body.error.code, 'IDEMPOTENCY_KEY_IN_FLIGHT');

      await unanswered(new Date(Date.now() - 2 * 3600 * 1000));
      const later = await user.json('POST', '/v1/analyses', body, { 'idempotency-key': key });
      await cancelAll(user);
      assert.equal(later.status, 201, JSON.stringify(later.body));
      assert.equal(later.headers.get('idempotent-replayed'), null);
      // Its answer is kept for the next retry.
      const again = await user.json('POST', '/v1/analyses', body, { 'idempotency-key': key });
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.equal(again.body.id, later.body.id);
    });

    it('refuses an empty or over-long key (400)', async () => {
      const user = await t.signUp();
      const uploadId = randomUUID();
      for (const key of ['', 'x'.repeat(256)]) {
        const res = await user.json('POST', '/v1/analyses', { uploadId }, { 'idempotency-key': key });
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.error.code, 'VALIDATION_FAILED');
      }
    });
  });
}
