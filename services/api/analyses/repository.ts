/**
 * Queries on the analyses table. Visibility is decided here, once: a user sees their own
 * analyses, an admin sees all (including those applied with kubectl, which have no owner).
 * Anything else is "not found", so ids of other users' analyses reveal nothing.
 */
import type { Kysely } from 'kysely';
import {
  type Analysis,
  type AnalysisStatus,
  type Database,
  type NewAnalysis,
  TERMINAL_STATUSES,
} from '../../platform/db/schema.js';
import type { AnalysisUpdate } from '../dispatch/dispatcher.js';
import { ApiError } from '../errors.js';
import type { AnalysisListQuery } from '../schemas/analysis.js';

export interface Viewer {
  id: string;
  role: 'user' | 'admin';
}

export async function insertAnalysis(db: Kysely<Database>, row: NewAnalysis): Promise<Analysis> {
  // Millisecond timestamps, set here: the pagination cursor carries a JS date, which must equal
  // the stored value exactly (Postgres' own now() has microseconds).
  const now = new Date();
  return db
    .insertInto('analyses')
    .values({ ...row, created_at: now, updated_at: now })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findAnalysis(db: Kysely<Database>, id: string, viewer: Viewer): Promise<Analysis | undefined> {
  let query = db.selectFrom('analyses').selectAll().where('id', '=', id);
  if (viewer.role !== 'admin') query = query.where('user_id', '=', viewer.id);
  return query.executeTakeFirst();
}

export async function findAnalysisById(db: Kysely<Database>, id: string): Promise<Analysis | undefined> {
  return db.selectFrom('analyses').selectAll().where('id', '=', id).executeTakeFirst();
}

/** A page, newest first; the cursor is the last item's (created_at, id). */
export async function listAnalyses(
  db: Kysely<Database>,
  viewer: Viewer,
  q: AnalysisListQuery,
): Promise<{ items: Analysis[]; nextCursor: string | null }> {
  const limit = q.limit ?? 20;
  let query = db.selectFrom('analyses').selectAll();
  if (viewer.role !== 'admin') query = query.where('user_id', '=', viewer.id);
  if (q.status) query = query.where('status', '=', q.status);
  if (q.exercise) query = query.where('exercise', '=', q.exercise);
  if (q.createdAfter) query = query.where('created_at', '>=', new Date(q.createdAfter));
  if (q.createdBefore) query = query.where('created_at', '<', new Date(q.createdBefore));
  if (q.cursor) {
    const { createdAt, id } = decodeCursor(q.cursor);
    query = query.where(({ eb, refTuple, tuple }) => eb(refTuple('created_at', 'id'), '<', tuple(createdAt, id)));
  }
  const rows = await query
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
}

export async function deleteAnalysis(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom('analyses').where('id', '=', id).execute();
}

/**
 * Writes one dispatcher update into its row and returns the row after, or undefined when the
 * analysis is unknown (deleted meanwhile). Updates may arrive more than once and from several
 * replicas: a finished analysis is never moved back, and progress never goes backwards within
 * a status, so applying the same update twice changes nothing.
 */
export async function applyUpdate(db: Kysely<Database>, u: AnalysisUpdate): Promise<Analysis | undefined> {
  // Every update of a kubectl-applied resource carries `discovered`: insert only when the row is
  // missing (one read per update, not an insert attempt too).
  let current = await findAnalysisById(db, u.analysisId);
  if (!current && u.discovered) {
    await db
      .insertInto('analyses')
      .values({
        id: u.analysisId,
        user_id: null,
        upload_id: null,
        exercise: u.discovered.exercise,
        fps: u.discovered.fps,
        options: JSON.stringify({}),
        status: 'queued',
        dispatch: 'kubernetes',
        resource: u.discovered.resource,
        attempts: 0,
        created_at: new Date(),
        updated_at: new Date(),
      })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
  current ??= await findAnalysisById(db, u.analysisId);
  if (!current) return undefined;
  const terminal = TERMINAL_STATUSES.includes(current.status);
  const next: AnalysisStatus | undefined = terminal ? undefined : u.status;
  if (terminal && !(u.status === current.status && (u.summary || u.results))) return current;

  const now = new Date();
  const patch: Record<string, unknown> = { updated_at: now };
  if (next && next !== current.status) patch.status = next;
  if (u.progress && (next === undefined || next === current.status || next === 'running')) {
    const stale =
      current.frames_done !== null &&
      u.progress.framesDone < current.frames_done &&
      current.frames_total === u.progress.framesTotal;
    if (!stale) {
      patch.frames_done = u.progress.framesDone;
      patch.frames_total = u.progress.framesTotal;
    }
  }
  if (u.summary) patch.summary = JSON.stringify(u.summary);
  if (u.results) patch.results = JSON.stringify(u.results);
  if (u.message !== undefined) patch.message = u.message;
  if (u.errorCode !== undefined) patch.error_code = u.errorCode;
  if (u.attempts !== undefined) patch.attempts = Math.max(u.attempts, current.attempts);
  if ((next === 'running' || u.startedAt) && !current.started_at)
    patch.started_at = u.startedAt ? new Date(u.startedAt) : now;
  if (next && TERMINAL_STATUSES.includes(next)) patch.finished_at = u.finishedAt ? new Date(u.finishedAt) : now;
  if (Object.keys(patch).length === 1) return current;

  let update = db.updateTable('analyses').set(patch).where('id', '=', u.analysisId);
  // The row may have finished in another replica since we read it.
  if (!terminal) update = update.where('status', 'not in', [...TERMINAL_STATUSES]);
  const after = await update.returningAll().executeTakeFirst();
  return after ?? findAnalysisById(db, u.analysisId);
}

/**
 * Cancels the unfinished kubernetes rows of one namespace whose VideoAnalysis a full list no
 * longer holds (deleted while no replica watched, so no delete event reached any). Rows created
 * after `createdBefore` are left alone: their resource may be created after the list began.
 * Returns the rows changed.
 */
export async function cancelMissingResources(
  db: Kysely<Database>,
  listing: { resourcePrefix: string; ids: ReadonlySet<string>; createdBefore: Date },
): Promise<Analysis[]> {
  const candidates = await db
    .selectFrom('analyses')
    .select(['id', 'resource'])
    .where('dispatch', '=', 'kubernetes')
    .where('status', 'not in', [...TERMINAL_STATUSES])
    .where('created_at', '<', listing.createdBefore)
    .execute();
  const changed: Analysis[] = [];
  for (const row of candidates) {
    if (listing.ids.has(row.id) || !row.resource?.startsWith(listing.resourcePrefix)) continue;
    const now = new Date();
    const after = await db
      .updateTable('analyses')
      .set({
        status: 'cancelled',
        finished_at: now,
        updated_at: now,
        message: `the VideoAnalysis ${row.resource} was deleted before it finished`,
      })
      .where('id', '=', row.id)
      .where('status', 'not in', [...TERMINAL_STATUSES])
      .returningAll()
      .executeTakeFirst();
    if (after) changed.push(after);
  }
  return changed;
}

/** Moves a not-yet-finished analysis to cancelled; returns the row after (unchanged when finished). */
export async function markCancelled(db: Kysely<Database>, id: string): Promise<Analysis | undefined> {
  const now = new Date();
  const row = await db
    .updateTable('analyses')
    .set({ status: 'cancelled', finished_at: now, updated_at: now, message: 'cancelled by the user' })
    .where('id', '=', id)
    .where('status', 'not in', [...TERMINAL_STATUSES])
    .returningAll()
    .executeTakeFirst();
  return row ?? findAnalysisById(db, id);
}

function encodeCursor(row: Analysis): string {
  const created = row.created_at instanceof Date ? row.created_at : new Date(row.created_at);
  return Buffer.from(JSON.stringify([created.toISOString(), row.id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    const date = new Date(createdAt);
    if (Number.isNaN(date.getTime()) || typeof id !== 'string' || !/^[0-9a-f-]{36}$/i.test(id)) throw new Error();
    return { createdAt: date, id };
  } catch {
    throw new ApiError(400, 'INVALID_CURSOR', 'cursor is not one this API returned');
  }
}
