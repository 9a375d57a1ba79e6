/**
 * Who may see a row: its owner, and an admin. Everything else answers 404 (not 403), so another
 * user's ids cannot even be confirmed to exist.
 */
import { type Expression, type SqlBool, sql } from 'kysely';
import { errors } from '../errors.js';
import type { AuthUser } from './plugin.js';

/**
 * A WHERE condition limiting a query to what `user` may see: `user_id = <id>`, or nothing for an
 * admin. `column` names the owner column when a join makes `user_id` ambiguous.
 * @example db.selectFrom('analyses').selectAll().where(ownerFilter(user)).where('id', '=', id)
 * @example db.selectFrom('analyses as a').innerJoin(...).where(ownerFilter(user, 'a.user_id'))
 */
export function ownerFilter(user: AuthUser, column = 'user_id'): Expression<SqlBool> {
  return user.role === 'admin' ? sql<SqlBool>`true` : sql<SqlBool>`${sql.ref(column)} = ${user.id}`;
}

/** Whether `user` may see `row` (admins see all, including rows without an owner). */
export function canSee(user: AuthUser, row: { user_id: string | null }): boolean {
  return user.role === 'admin' || (row.user_id !== null && row.user_id === user.id);
}

/**
 * Returns the row if `user` may see it, else throws 404 NOT_FOUND, the same answer as for an id
 * that does not exist.
 * @example const analysis = visibleOr404(user, await findAnalysis(id), 'analysis')
 */
export function visibleOr404<T extends { user_id: string | null }>(
  user: AuthUser,
  row: T | undefined,
  what: string,
): T {
  if (row === undefined || !canSee(user, row)) throw errors.notFound(what);
  return row;
}
