/**
 * The embedded database: PGlite persisted in a directory, behind the same `Kysely<Database>`
 * as PostgreSQL. Its own file so that only the processes using it load PGlite (see database.ts).
 */
import { mkdirSync } from 'node:fs';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import { Kysely } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import type { Logger } from '../logging.js';
import type { PgliteConfig } from './config.js';
import { lockDataDir } from './data-dir-lock.js';
import type { Database } from './schema.js';

/** int8 as number, as database.ts does for PostgreSQL. */
const parseInt8 = (value: string): number => Number(value);

/** Opens (creating it if need be) the database in `config.dataDir`, locked to this process. */
export async function openPglite(config: PgliteConfig, log: Logger): Promise<Kysely<Database>> {
  mkdirSync(config.dataDir, { recursive: true });
  // PGlite is one process's database: a second process opening the same directory would
  // corrupt it, so the directory is locked for as long as it is open.
  const unlock = lockDataDir(config.dataDir);
  let client: PGlite;
  try {
    client = new PGlite(config.dataDir, { parsers: { [pgliteTypes.INT8]: parseInt8 } });
    await client.waitReady;
  } catch (err) {
    unlock();
    throw err;
  }
  log.debug({ dataDir: config.dataDir }, 'embedded database open');
  return new Kysely<Database>({ dialect: new UnlockingPgliteDialect(client, unlock) });
}

/** PGliteDialect whose driver also releases the directory lock when the database is destroyed. */
class UnlockingPgliteDialect extends PGliteDialect {
  constructor(
    client: PGlite,
    private readonly unlock: () => void,
  ) {
    super(client);
  }
  override createDriver(): ReturnType<PGliteDialect['createDriver']> {
    const driver = super.createDriver();
    const destroy = driver.destroy.bind(driver);
    driver.destroy = async () => {
      try {
        await destroy();
      } finally {
        this.unlock();
      }
    };
    return driver;
  }
}
