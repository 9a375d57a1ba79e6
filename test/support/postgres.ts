/**
 * A real PostgreSQL server for tests, from the Debian package (`apt-get install postgresql`):
 * a fresh cluster in a temporary directory, listening on 127.0.0.1 on a free port with
 * password authentication, tuned for speed (no fsync), and killed (its directory removed) by
 * stop() or when the test process exits. As root it runs as the `postgres` OS user, since
 * PostgreSQL refuses to run as root.
 *
 *   const pg = await startPostgres();
 *   const db = await openDatabase(pg.config, log);  // or pass pg.env to a child process
 *   await pg.restart();                              // same data, same port, new server process
 *   await pg.stop();
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, closeSync, existsSync, openSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { PostgresConfig } from '../../services/platform/db/config.js';
import { logFileTail, trackDir, trackProcessGroup, untrackDir } from './process-cleanup.js';
import { freePort } from './wait.js';

export type PostgresEnv = Record<
  | 'NFC_DATABASE_HOST'
  | 'NFC_DATABASE_PORT'
  | 'NFC_DATABASE_NAME'
  | 'NFC_DATABASE_USER'
  | 'NFC_DATABASE_PASSWORD'
  | 'NFC_DATABASE_SSLMODE',
  string
>;

export interface Postgres {
  /** The application database (`nfc`, owned by the `nfc` role), for openDatabase(). */
  config: PostgresConfig;
  /** The same as NFC_DATABASE_* variables, for a child process (`nfc migrate`, `nfc serve`). */
  env: PostgresEnv;
  /** postgres://nfc:…@127.0.0.1:<port>/nfc */
  url: string;
  port: number;
  /** The postmaster's pid (a new one after restart()). */
  readonly pid: number;
  /** A new empty database owned by the `nfc` role, isolated from other tests; returns its config. */
  createDatabase(name?: string): Promise<PostgresConfig>;
  /** Fast shutdown (clients disconnected), then the same cluster started again on the same port. */
  restart(): Promise<void>;
  /** Shuts the server down without starting it again (restart() or start() brings it back). */
  shutdown(): Promise<void>;
  start(): Promise<void>;
  logFile: string;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

const SUPERUSER = 'postgres';
const APP_USER = 'nfc';
const APP_DB = 'nfc';

/** The newest /usr/lib/postgresql/<version>/bin, else the directory of `postgres` on PATH. */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'postgres')))
        .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a))
    : [];
  if (versions[0] !== undefined) return join(root, versions[0], 'bin');
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, 'postgres')) && existsSync(join(dir, 'initdb'))) return dir;
  }
  throw new Error(
    'PostgreSQL not found (no /usr/lib/postgresql/*/bin/postgres, no postgres on PATH): ' +
      'run ./scripts/setup.sh or `apt-get install postgresql`',
  );
}

export async function startPostgres(opts: { timeoutMs?: number } = {}): Promise<Postgres> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const bin = postgresBinDir();
  const owner = serverUser();
  const dir = await mkdtemp(join(tmpdir(), 'nfc-postgres-'));
  trackDir(dir);
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  const superPassword = randomBytes(12).toString('hex');
  const appPassword = randomBytes(12).toString('hex');
  const port = await freePort();
  let child: ChildProcess | undefined;

  const start = async () => {
    const fd = openSync(logFile, 'a');
    const server = spawn(
      join(bin, 'postgres'),
      [
        '-D',
        dataDir,
        '-p',
        String(port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        `unix_socket_directories=${dir}`,
        // A test cluster: durability traded for speed.
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=200',
        '-c',
        'shared_buffers=32MB',
        '-c',
        'max_wal_size=256MB',
      ],
      { cwd: dir, detached: true, stdio: ['ignore', fd, fd], env: serverEnv(dir), ...owner.ids },
    );
    closeSync(fd);
    server.on('error', () => {}); // reported through the exit and the log
    trackProcessGroup(server);
    child = server;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (server.exitCode !== null || server.signalCode !== null) {
        throw new Error(
          `postgres exited (${server.exitCode ?? server.signalCode}) while starting:\n${logFileTail(logFile)}`,
        );
      }
      const client = new pg.Client({ ...adminConnection(), connectionTimeoutMillis: 1000 });
      client.on('error', () => {});
      try {
        await client.connect();
        await client.query('select 1');
        return;
      } catch {
        // starting up
      } finally {
        await client.end().catch(() => {});
      }
      if (Date.now() > deadline)
        throw new Error(`postgres not ready after ${timeoutMs / 1000} s:\n${logFileTail(logFile)}`);
      await sleep(50);
    }
  };

  const shutdown = async () => {
    if (child) await kill(child);
    child = undefined;
  };

  const adminConnection = () => ({
    host: '127.0.0.1',
    port,
    user: SUPERUSER,
    password: superPassword,
    database: 'postgres',
  });

  const admin = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client(adminConnection());
    client.on('error', () => {});
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end().catch(() => {});
    }
  };

  const stop = async () => {
    await shutdown();
    untrackDir(dir);
    await rm(dir, { recursive: true, force: true });
  };

  const config = (database: string): PostgresConfig =>
    Object.freeze({
      kind: 'postgres',
      host: '127.0.0.1',
      port,
      database,
      user: APP_USER,
      password: appPassword,
      sslmode: 'disable',
    });

  try {
    const pwFile = join(dir, 'pwfile');
    writeFileSync(pwFile, `${superPassword}\n`, { mode: 0o600 });
    if (owner.ids.uid !== undefined) chownSync(dir, owner.ids.uid, owner.ids.gid ?? owner.ids.uid);
    if (owner.ids.uid !== undefined) chownSync(pwFile, owner.ids.uid, owner.ids.gid ?? owner.ids.uid);
    try {
      execFileSync(
        join(bin, 'initdb'),
        [
          '-D',
          dataDir,
          '-U',
          SUPERUSER,
          `--pwfile=${pwFile}`,
          '--auth-host=scram-sha-256',
          '--auth-local=trust',
          '--encoding=UTF8',
          '--locale=C',
          '--no-sync',
          '--no-instructions',
        ],
        { cwd: dir, env: serverEnv(dir), stdio: ['ignore', 'pipe', 'pipe'], ...owner.ids },
      );
    } catch (err) {
      const e = err as { stderr?: Buffer; message: string };
      throw new Error(`initdb failed: ${e.stderr?.toString().trim() || e.message}`);
    }
    await start();
    await admin(async (client) => {
      await client.query(`create role ${APP_USER} login password '${appPassword}'`);
      await client.query(`create database ${APP_DB} owner ${APP_USER}`);
    });
  } catch (err) {
    await stop();
    throw err;
  }

  const appConfig = config(APP_DB);
  return {
    config: appConfig,
    env: {
      NFC_DATABASE_HOST: '127.0.0.1',
      NFC_DATABASE_PORT: String(port),
      NFC_DATABASE_NAME: APP_DB,
      NFC_DATABASE_USER: APP_USER,
      NFC_DATABASE_PASSWORD: appPassword,
      NFC_DATABASE_SSLMODE: 'disable',
    },
    url: `postgres://${APP_USER}:${appPassword}@127.0.0.1:${port}/${APP_DB}`,
    port,
    get pid() {
      return child?.pid ?? 0;
    },
    async createDatabase(name = `nfc_${randomBytes(6).toString('hex')}`) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
      await admin((client) => client.query(`create database ${name} owner ${APP_USER}`));
      return config(name);
    },
    async restart() {
      await shutdown();
      await start();
    },
    shutdown,
    async start() {
      if (!child) await start();
    },
    logFile,
    stop,
  };
}

/** As root, the server runs as the `postgres` OS user (PostgreSQL refuses root). */
function serverUser(): { ids: { uid?: number; gid?: number } } {
  if (process.getuid?.() !== 0) return { ids: {} };
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { ids: { uid, gid } };
  } catch {
    throw new Error(
      'running as root, but there is no `postgres` OS user to run PostgreSQL as: `apt-get install postgresql` creates it',
    );
  }
}

function serverEnv(dir: string): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, LC_ALL: 'C', TZ: 'UTC' };
}

/** SIGINT: PostgreSQL's fast shutdown (disconnects clients, no waiting for them). */
async function kill(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pid = child.pid;
  const signal = (s: NodeJS.Signals, group: boolean) => {
    try {
      process.kill(group ? -pid : pid, s);
    } catch {
      // already gone
    }
  };
  signal('SIGINT', false);
  const timer = setTimeout(() => signal('SIGKILL', true), 10_000);
  await exited;
  clearTimeout(timer);
}
