import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';
import type { Database } from '../../platform/db/schema.js';
import { isApiError } from '../errors.js';
import { canSee, ownerFilter, visibleOr404 } from './ownership.js';

const alice = { id: '00000000-0000-4000-8000-00000000000a', role: 'user' as const };
const bob = { id: '00000000-0000-4000-8000-00000000000b', role: 'user' as const };
const admin = { id: '00000000-0000-4000-8000-0000000000ad', role: 'admin' as const };

// Compiles queries without a server, to check the SQL the filter adds.
const db = new Kysely<Database>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (k) => new PostgresIntrospector(k),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

describe('ownership', () => {
  it('lets the owner and an admin see a row, nobody else; rows without an owner are admin-only', () => {
    const row = { user_id: alice.id };
    assert.equal(canSee(alice, row), true);
    assert.equal(canSee(bob, row), false);
    assert.equal(canSee(admin, row), true);
    assert.equal(canSee(alice, { user_id: null }), false);
    assert.equal(canSee(admin, { user_id: null }), true);
  });

  it('answers 404 NOT_FOUND for another user’s row, the same as for a missing one', () => {
    assert.equal(visibleOr404(alice, { user_id: alice.id, n: 1 }, 'analysis').n, 1);
    for (const row of [{ user_id: alice.id }, undefined]) {
      assert.throws(
        () => visibleOr404(bob, row, 'analysis'),
        (error) => isApiError(error) && error.statusCode === 404 && error.code === 'NOT_FOUND',
      );
    }
  });

  it('filters a query on the owner column for a user, not at all for an admin', () => {
    const query = (user: typeof alice | typeof admin, column?: string) =>
      db.selectFrom('analyses').select('id').where(ownerFilter(user, column)).compile();
    const mine = query(alice);
    assert.match(mine.sql, /where "user_id" = \$1$/);
    assert.deepEqual(mine.parameters, [alice.id]);
    assert.match(query(admin).sql, /where true$/);
    assert.match(query(alice, 'a.user_id').sql, /where "a"\."user_id" = \$1$/);
  });
});
