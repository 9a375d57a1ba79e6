/** `nfc migrate`: applies, reverts or lists the database migrations. */
import { parseArgs } from 'node:util';
import { EXIT } from './exit-codes.js';
import { UsageError } from './usage-error.js';

export const MIGRATE_HELP = `Usage: nfc migrate [up | down [--steps N] | status] [--data DIR]

Brings the API's database schema up to date (up, the default), reverts the last N migrations
(down, N = 1 by default), or lists every migration and when it was applied (status). Safe to
run from several places at once: PostgreSQL applies each migration once, under a lock.

Options:
  --data DIR     the embedded database of "nfc serve --data DIR" (in DIR/db) instead of PostgreSQL
  --steps N      how many migrations "down" reverts (default 1)
  -h, --help     show this help

Environment (PostgreSQL): NFC_DATABASE_HOST, NFC_DATABASE_PORT (5432), NFC_DATABASE_NAME (nfc),
NFC_DATABASE_USER (nfc), NFC_DATABASE_PASSWORD, NFC_DATABASE_SSLMODE (disable | require |
verify-full), NFC_DATABASE_SSLROOTCERT, LOG_LEVEL.

Exit codes: 0 done · 1 the database could not be reached or a migration failed · 2 usage.`;

export async function migrateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      data: { type: 'string' },
      steps: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || positionals[0] === 'help') {
    process.stdout.write(`${MIGRATE_HELP}\n`);
    return EXIT.OK;
  }
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
  const action = positionals[0] ?? 'up';
  if (action !== 'up' && action !== 'down' && action !== 'status') {
    throw new UsageError(`unknown migrate action "${action}" (expected: up, down, status)`);
  }
  let steps = 1;
  if (values.steps !== undefined) {
    if (action !== 'down') throw new UsageError('--steps goes with "down"');
    steps = Number(values.steps);
    if (!(/^\d+$/.test(values.steps) && steps >= 1))
      throw new UsageError(`--steps must be a positive integer (got "${values.steps}")`);
  }

  // Loaded here: `nfc analyze` needs neither pg nor PGlite.
  const [{ createLogger }, dbConfig, { openDatabase }, migrate] = await Promise.all([
    import('../platform/logging.js'),
    import('../platform/db/config.js'),
    import('../platform/db/database.js'),
    import('../platform/db/migrate.js'),
  ]);
  let config: import('../platform/db/config.js').DatabaseConfig;
  if (values.data !== undefined) {
    config = dbConfig.embeddedDatabaseConfig(values.data);
  } else {
    try {
      const fromEnv = dbConfig.databaseConfigFromEnv(process.env);
      // A migration may legitimately run for long (and waits for another's lock): no statement
      // timeout unless one is asked for.
      config = process.env.NFC_DATABASE_STATEMENT_TIMEOUT_MS ? fromEnv : { ...fromEnv, statementTimeoutMs: 0 };
    } catch (err) {
      if ((err as { code?: unknown }).code === 'DATABASE_CONFIG') throw new UsageError((err as Error).message);
      throw err;
    }
  }
  const log = createLogger(process.env, { component: 'migrate' });
  const where = config.kind === 'pglite' ? config.dataDir : `${config.host}:${config.port}/${config.database}`;

  let db: Awaited<ReturnType<typeof openDatabase>> | undefined;
  try {
    db = await openDatabase(config, log);
    if (action === 'status') {
      const states = await migrate.migrationStatus(db);
      const width = Math.max(...states.map((s) => s.name.length));
      for (const s of states) {
        process.stdout.write(
          `${s.name.padEnd(width)}  ${s.appliedAt ? `applied ${s.appliedAt.toISOString()}` : 'pending'}\n`,
        );
      }
      const pending = states.filter((s) => !s.appliedAt).length;
      process.stdout.write(`${where}: ${states.length - pending} applied, ${pending} pending\n`);
    } else if (action === 'up') {
      const applied = await migrate.migrateToLatest(db);
      for (const name of applied) process.stdout.write(`applied ${name}\n`);
      process.stdout.write(`${where}: ${applied.length === 0 ? 'already up to date' : 'up to date'}\n`);
    } else {
      const reverted = await migrate.migrateDown(db, steps);
      for (const name of reverted) process.stdout.write(`reverted ${name}\n`);
      process.stdout.write(
        `${where}: ${reverted.length === 0 ? 'nothing to revert' : `${reverted.length} reverted`}\n`,
      );
    }
    return EXIT.OK;
  } catch (err) {
    // Expected failures (server down, wrong password, a failed migration, the directory in use)
    // are one line, not a stack trace.
    process.stderr.write(`nfc migrate: ${where}: ${err instanceof Error ? err.message : String(err)}\n`);
    if (err instanceof AggregateError) {
      for (const e of err.errors) process.stderr.write(`  ${e instanceof Error ? e.message : String(e)}\n`);
    }
    return EXIT.INTERNAL;
  } finally {
    await db?.destroy();
  }
}
