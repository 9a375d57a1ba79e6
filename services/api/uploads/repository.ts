/** Queries on the uploads table; visibility as for analyses (owner, or an admin). */
import type { Kysely } from 'kysely';
import type { Database, NewUpload, Upload } from '../../platform/db/schema.js';
import type { Viewer } from '../analyses/repository.js';

export async function insertUpload(db: Kysely<Database>, row: NewUpload): Promise<Upload> {
  return db.insertInto('uploads').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findUpload(db: Kysely<Database>, id: string, viewer: Viewer): Promise<Upload | undefined> {
  let query = db.selectFrom('uploads').selectAll().where('id', '=', id);
  if (viewer.role !== 'admin') query = query.where('user_id', '=', viewer.id);
  return query.executeTakeFirst();
}

export async function markUploadReady(
  db: Kysely<Database>,
  id: string,
  facts: { bytes: number; media: object },
): Promise<Upload> {
  return db
    .updateTable('uploads')
    .set({ status: 'ready', bytes: facts.bytes, media: JSON.stringify(facts.media), updated_at: new Date() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function deleteUpload(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom('uploads').where('id', '=', id).execute();
}
