/**
 * A real Redis server for tests (the Debian `redis-server` package): listens on 127.0.0.1 on a
 * free port, keeps an append-only file in a temporary directory (as a real deployment persists
 * its queue), so restart() brings it back with every queued job; it is killed (with the
 * directory removed) by stop() or when the test process exits.
 *
 *   const redis = await startRedis();
 *   // the API's and the worker's environment: redis.env (NFC_REDIS_HOST, NFC_REDIS_PORT)
 *   await redis.restart(); // SIGTERM (Redis saves and exits), then the same port and data
 *   await redis.stop();
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { logFileTail, stopProcessGroup, trackDir, trackProcessGroup, untrackDir } from './process-cleanup.js';
import { freePort } from './wait.js';

export interface RedisServer {
  host: string;
  port: number;
  /** What the API and `nfc worker queue` need to reach it. */
  env: Record<'NFC_REDIS_HOST' | 'NFC_REDIS_PORT', string>;
  /** The server process's id (a new one after restart()). */
  readonly pid: number;
  logFile: string;
  /** Stops the server (it writes its data out) and starts it again on the same port and data. */
  restart(options?: { downMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedis(opts: { timeoutMs?: number } = {}): Promise<RedisServer> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const bin = redisServerPath();
  const dir = await mkdtemp(join(tmpdir(), 'nfc-redis-'));
  trackDir(dir);
  const host = '127.0.0.1';
  const port = await freePort();
  const logFile = join(dir, 'redis.log');
  let child: ChildProcess | undefined;

  const launch = async () => {
    const fd = openSync(logFile, 'a');
    const proc = spawn(
      bin,
      [
        '--bind',
        host,
        '--port',
        String(port),
        '--dir',
        dir,
        '--appendonly',
        'yes',
        // Every write on disk before the reply: a restart loses nothing the clients were told.
        '--appendfsync',
        'always',
        '--save',
        '',
        '--daemonize',
        'no',
        '--protected-mode',
        'no',
      ],
      { cwd: dir, detached: true, stdio: ['ignore', fd, fd], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } },
    );
    closeSync(fd);
    proc.on('error', () => {}); // reported through the exit and the log
    trackProcessGroup(proc);
    child = proc;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(
          `redis-server exited (${proc.exitCode ?? proc.signalCode}) while starting:\n${logFileTail(logFile)}`,
        );
      }
      if ((await ping(host, port)) === 'PONG') return;
      if (Date.now() > deadline)
        throw new Error(`redis-server not ready after ${timeoutMs / 1000} s:\n${logFileTail(logFile)}`);
      await sleep(50);
    }
  };

  const stop = async () => {
    if (child) await stopProcessGroup(child, 10_000);
    untrackDir(dir);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await launch();
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    host,
    port,
    env: { NFC_REDIS_HOST: host, NFC_REDIS_PORT: String(port) },
    get pid() {
      return child?.pid ?? -1;
    },
    logFile,
    restart: async ({ downMs = 0 } = {}) => {
      if (child) await stopProcessGroup(child, 10_000);
      if (downMs > 0) await sleep(downMs);
      await launch();
    },
    stop,
  };
}

function redisServerPath(): string {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status !== 0 || !path) {
    throw new Error('redis-server not found on PATH: install it with `apt-get install redis-server` (Debian/Ubuntu)');
  }
  return path;
}

/** PONG, LOADING (still reading its data) or undefined (not listening). */
function ping(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let reply = '';
    const done = (value: string | undefined) => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(1_000, () => done(undefined));
    socket.on('error', () => done(undefined));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) done(reply.replace(/^[+-]/, '').split(/[\s\r]/)[0]);
    });
  });
}
