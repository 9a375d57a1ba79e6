/**
 * A real MinIO server for tests, built from its Go module by scripts/build-tools.sh into
 * ~/.cache/nfc-tools: listens on 127.0.0.1 on a free port, keeps its data in a temporary
 * directory, and is killed (with the directory removed) by stop() or when the test process exits.
 *
 *   const minio = await startMinio();
 *   await minio.client().send(new CreateBucketCommand({ Bucket: 'videos' }));
 *   // the worker's environment: minio.env (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, S3_ENDPOINT, S3_REGION)
 *   await minio.stop();
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { S3Client } from '@aws-sdk/client-s3';
import { toolPath } from './control-plane.js';
import { logFileTail, stopProcessGroup, trackDir, trackProcessGroup, untrackDir } from './process-cleanup.js';
import { freePort } from './wait.js';

export interface Minio {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region: string;
  /** What a worker needs to reach it (the keys of the S3 Secret the Job's envFrom reads). */
  env: Record<'AWS_ACCESS_KEY_ID' | 'AWS_SECRET_ACCESS_KEY' | 'S3_ENDPOINT' | 'S3_REGION', string>;
  /** A new S3 client signed in as the root user (path-style, as MinIO needs). */
  client(): S3Client;
  logFile: string;
  stop(): Promise<void>;
}

export async function startMinio(opts: { timeoutMs?: number } = {}): Promise<Minio> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  // Throws "minio not found: run ./scripts/build-tools.sh …" when the binary is missing.
  const bin = toolPath('minio');
  const dir = await mkdtemp(join(tmpdir(), 'nfc-minio-'));
  trackDir(dir);
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const accessKey = `nfc-${randomBytes(4).toString('hex')}`;
  const secretKey = randomBytes(18).toString('base64url');
  const region = 'us-east-1';
  const logFile = join(dir, 'minio.log');
  const fd = openSync(logFile, 'a');
  const child = spawn(bin, ['server', '--quiet', '--address', `127.0.0.1:${port}`, join(dir, 'data')], {
    cwd: dir,
    detached: true,
    stdio: ['ignore', fd, fd],
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      MINIO_ROOT_USER: accessKey,
      MINIO_ROOT_PASSWORD: secretKey,
      MINIO_REGION: region,
      MINIO_BROWSER: 'off', // no console, so no second port
      MINIO_UPDATE: 'off',
      MINIO_CI_CD: 'on', // no checks that the data directory is a dedicated drive
    },
  });
  closeSync(fd);
  child.on('error', () => {}); // reported through the exit and the log
  trackProcessGroup(child);

  const stop = async () => {
    await stopProcessGroup(child, 5_000);
    untrackDir(dir);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(
          `minio exited (${child.exitCode ?? child.signalCode}) while starting:\n${logFileTail(logFile)}`,
        );
      }
      try {
        const res = await fetch(`${endpoint}/minio/health/ready`, { signal: AbortSignal.timeout(2000) });
        if (res.status === 200) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline)
        throw new Error(`minio not ready after ${timeoutMs / 1000} s:\n${logFileTail(logFile)}`);
      await sleep(100);
    }
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    endpoint,
    accessKey,
    secretKey,
    region,
    env: { AWS_ACCESS_KEY_ID: accessKey, AWS_SECRET_ACCESS_KEY: secretKey, S3_ENDPOINT: endpoint, S3_REGION: region },
    client: () =>
      new S3Client({
        endpoint,
        region,
        forcePathStyle: true,
        credentials: { accessKeyId: accessKey, secretAccessKey: secretKey },
      }),
    logFile,
    stop,
  };
}
