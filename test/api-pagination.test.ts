/**
 * GET /v1/analyses pages: newest first, every analysis exactly once (also when several share
 * a creation time, and when new ones arrive between pages), the filters, and a cursor that is
 * not ours. Rows are written straight into the database for speed, plus one created through the
 * API. Over the embedded PGlite and over real PostgreSQL.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { AnalysisStatus } from '../services/platform/db/schema.js';
import { startTestApi, type TestApi, type UserClient, userId } from './support/api.js';
import { clip } from './support/clips.js';
import { type Postgres, startPostgres } from './support/postgres.js';

interface Seeded {
  id: string;
  createdAt: Date;
  status: AnalysisStatus;
  exercise: string;
}

const STATUSES: AnalysisStatus[] = ['succeeded', 'failed', 'cancelled'];
const EXERCISES = ['squat', 'pushup', 'curl'];

for (const mode of ['embedded', 'postgres'] as const) {
  describe(`listing analyses (${mode === 'embedded' ? 'PGlite' : 'PostgreSQL'})`, () => {
    let pg: Postgres | undefined;
    let t: TestApi;
    let user: UserClient;
    let seeded: Seeded[];

    before(async () => {
      if (mode === 'postgres') pg = await startPostgres();
      // Load shedding off: start-up on two shared cores trips it at once.
      t = await startTestApi({ ...(pg ? { postgres: pg } : {}), env: { NFC_MAX_EVENT_LOOP_DELAY_MS: '60000' } });
      user = await t.signUp();
      const other = await t.signUp();
      const up = await user.upload(await readFile(clip('formfit_squat.mp4').path), 'squat.mp4');
      assert.equal(up.status, 201, JSON.stringify(up.body));
      const viaApi = await user.json('POST', '/v1/analyses', { uploadId: up.body.id, exercise: 'squat' });
      assert.equal(viaApi.status, 201, JSON.stringify(viaApi.body));
      const cancelled = await user.json('POST', `/v1/analyses/${viaApi.body.id}/cancel`);
      assert.equal(cancelled.body.status, 'cancelled');

      // 24 older ones, a minute apart, in groups of three sharing the same millisecond (as
      // replicas creating at once would): the page boundaries fall inside such groups.
      const owner = await userId(t, user.email);
      const stranger = await userId(t, other.email);
      const base = Date.now() - 3_600_000;
      seeded = Array.from({ length: 24 }, (_, i) => ({
        id: randomUUID(),
        createdAt: new Date(base + Math.floor(i / 3) * 60_000),
        status: STATUSES[i % 3] as AnalysisStatus,
        exercise: EXERCISES[Math.floor(i / 2) % 3] as string,
      }));
      const row = (s: Seeded, owner: string) => ({
        id: s.id,
        user_id: owner,
        upload_id: null,
        exercise: s.exercise,
        fps: 15,
        options: JSON.stringify({}),
        status: s.status,
        dispatch: 'inline',
        resource: null,
        attempts: 1,
        created_at: s.createdAt,
        updated_at: s.createdAt,
      });
      await t.api.db
        .insertInto('analyses')
        .values(seeded.map((s) => row(s, owner)))
        .execute();
      // Someone else's, interleaved in time: never on this user's pages.
      await t.api.db
        .insertInto('analyses')
        .values(seeded.slice(0, 6).map((s) => row({ ...s, id: randomUUID() }, stranger)))
        .execute();
      seeded.push({
        id: viaApi.body.id,
        createdAt: new Date(viaApi.body.createdAt),
        status: 'cancelled',
        exercise: 'squat',
      });
    });

    after(async () => {
      await t?.close();
      await pg?.stop();
    });

    /** Newest first; equal times by id, descending (the API's order). */
    const newestFirst = (rows: Seeded[]) =>
      [...rows]
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
        .map((r) => r.id);

    /** Every page of a query; returns the ids per page. */
    async function pages(query: string, from: string | null = null): Promise<string[][]> {
      const out: string[][] = [];
      let cursor: string | null = from;
      do {
        const sep = query ? '&' : '';
        const res = await user.json(
          'GET',
          `/v1/analyses?${query}${cursor ? `${sep}cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        assert.equal(res.status, 200, JSON.stringify(res.body));
        out.push(res.body.items.map((a: { id: string }) => a.id));
        cursor = res.body.nextCursor;
        assert.ok(out.length < 50, 'the cursor never ends');
      } while (cursor);
      return out;
    }

    it('25 analyses, limit 10: three pages, each once, newest first', async () => {
      const got = await pages('limit=10');
      assert.deepEqual(
        got.map((p) => p.length),
        [10, 10, 5],
      );
      assert.deepEqual(got.flat(), newestFirst(seeded));
      assert.equal(got[0]?.[0], seeded[seeded.length - 1]?.id, 'the one created through the API is the newest');
    });

    it('an analysis created between two pages does not shift the next ones', async () => {
      const first = await user.json('GET', '/v1/analyses?limit=10');
      const late = await user.json('POST', '/v1/analyses', { uploadId: randomUUID() });
      assert.equal(late.status, 404); // (a failed create adds nothing)
      const owner = await userId(t, user.email);
      const newId = randomUUID();
      await t.api.db
        .insertInto('analyses')
        .values({
          id: newId,
          user_id: owner,
          upload_id: null,
          exercise: 'squat',
          fps: 15,
          options: JSON.stringify({}),
          status: 'queued',
          dispatch: 'inline',
          resource: null,
          attempts: 0,
          created_at: new Date(),
          updated_at: new Date(),
        })
        .execute();
      try {
        const rest = await pages('limit=10', first.body.nextCursor);
        const ids = [...first.body.items.map((a: { id: string }) => a.id), ...rest.flat()];
        assert.deepEqual(ids, newestFirst(seeded));
      } finally {
        await t.api.db.deleteFrom('analyses').where('id', '=', newId).execute();
      }
    });

    it('filters by status, exercise and creation time, also across pages', async () => {
      const failed = (await pages('status=failed&limit=3')).flat();
      assert.deepEqual(failed, newestFirst(seeded.filter((s) => s.status === 'failed')));
      assert.equal(failed.length, 8);

      const pushups = (await pages('exercise=pushup&limit=4')).flat();
      assert.deepEqual(pushups, newestFirst(seeded.filter((s) => s.exercise === 'pushup')));

      const squatCancelled = (await pages('exercise=squat&status=cancelled')).flat();
      assert.deepEqual(
        squatCancelled,
        newestFirst(seeded.filter((s) => s.exercise === 'squat' && s.status === 'cancelled')),
      );

      const since = seeded[12]?.createdAt as Date;
      const recent = (await pages(`createdAfter=${encodeURIComponent(since.toISOString())}&limit=5`)).flat();
      assert.deepEqual(recent, newestFirst(seeded.filter((s) => s.createdAt >= since)));
      const older = (await pages(`createdBefore=${encodeURIComponent(since.toISOString())}&limit=5`)).flat();
      assert.deepEqual(older, newestFirst(seeded.filter((s) => s.createdAt < since)));
    });

    it('refuses a cursor it did not issue (400 INVALID_CURSOR) and bad filters (400)', async () => {
      for (const cursor of [
        'garbage',
        Buffer.from('["not a date","x"]').toString('base64url'),
        Buffer.from('{"a":1}').toString('base64url'),
        Buffer.from(JSON.stringify([new Date().toISOString(), "1' or '1'='1"])).toString('base64url'),
      ]) {
        const res = await user.json('GET', `/v1/analyses?cursor=${encodeURIComponent(cursor)}`);
        assert.equal(res.status, 400, `${cursor}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.code, 'INVALID_CURSOR', cursor);
      }
      for (const query of ['limit=0', 'limit=101', 'status=done', 'exercise=yoga', 'createdAfter=yesterday']) {
        const res = await user.json('GET', `/v1/analyses?${query}`);
        assert.equal(res.status, 400, `${query}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.code, 'VALIDATION_FAILED', query);
      }
    });
  });
}
