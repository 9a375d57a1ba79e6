/**
 * Every migration, in order, compiled in (no directory read at run time, so the bundled CLI
 * and the container image carry them). Add a file `NNNN-name.ts` and list it here.
 */
import type { Migration, MigrationProvider } from 'kysely/migration';
import * as initial from './0001-initial.js';

export const MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '0001-initial': initial,
});

/** kysely's provider over {@link MIGRATIONS}. */
export const migrationProvider: MigrationProvider = {
  getMigrations: async () => ({ ...MIGRATIONS }),
};
