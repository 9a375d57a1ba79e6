/**
 * Runs the versioned migrations of ./migrations with kysely's Migrator. On PostgreSQL the
 * Migrator holds an advisory lock for the whole run, and each migration runs in a transaction:
 * API replicas starting together apply each migration once, and a failed one leaves nothing
 * half-done. PGlite is one process's database and its kysely driver runs one connection at a
 * time, so runs within the process are serialised too.
 */
import type { Kysely } from 'kysely';
import { type MigrationResult, Migrator, NO_MIGRATIONS } from 'kysely/migration';
import { migrationProvider } from './migrations/index.js';

/** One migration and when it was applied (undefined: pending). */
export interface MigrationState {
  name: string;
  appliedAt?: Date;
}

/** A migration failed; `applied` lists those that succeeded before it in the same run. */
export class MigrationError extends Error {
  readonly code = 'MIGRATION_FAILED';
  constructor(
    readonly migration: string,
    readonly applied: readonly string[],
    override readonly cause: unknown,
  ) {
    super(`migration ${migration} failed: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.name = 'MigrationError';
  }
}

// biome-ignore lint/suspicious/noExplicitAny: the Migrator works on any database type
type AnyKysely = Kysely<any>;

function migrator(db: AnyKysely): Migrator {
  return new Migrator({ db, provider: migrationProvider });
}

/** Applies every pending migration; returns the names applied now (empty: already up to date). */
export async function migrateToLatest(db: AnyKysely): Promise<string[]> {
  return outcome(await migrator(db).migrateToLatest());
}

/**
 * Reverts the last `steps` applied migrations (default 1; more than were applied reverts all);
 * returns the names reverted, newest first.
 */
export async function migrateDown(db: AnyKysely, steps = 1): Promise<string[]> {
  if (!(Number.isInteger(steps) && steps >= 1)) throw new RangeError(`steps must be a positive integer (got ${steps})`);
  const m = migrator(db);
  const applied = (await m.getMigrations()).filter((info) => info.executedAt !== undefined);
  if (applied.length === 0) return [];
  const target = applied[applied.length - steps - 1]?.name ?? NO_MIGRATIONS;
  return outcome(await m.migrateTo(target));
}

/** Every known migration in order, with when it was applied. */
export async function migrationStatus(db: AnyKysely): Promise<MigrationState[]> {
  const infos = await migrator(db).getMigrations();
  return infos.map((info) => (info.executedAt ? { name: info.name, appliedAt: info.executedAt } : { name: info.name }));
}

function outcome(set: { error?: unknown; results?: MigrationResult[] }): string[] {
  const results = set.results ?? [];
  const done = results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
  if (set.error !== undefined) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName;
    // No migration ran: the database could not be reached or locked; that error as it is.
    if (failed === undefined) throw set.error;
    throw new MigrationError(failed, done, set.error);
  }
  return done;
}
