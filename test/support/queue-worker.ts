/**
 * `nfc worker queue` as a real child process for tests (its own process group, so SIGKILL takes
 * its FFmpeg children too), with its log kept for failure messages.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './clips.js';
import { trackProcessGroup } from './process-cleanup.js';

export interface QueueWorkerProcess {
  child: ChildProcess;
  logTail(lines?: number): string;
  exitCode(): number | null;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

export function startQueueWorker(env: Record<string, string>): QueueWorkerProcess {
  const child = spawn(join(REPO_ROOT, 'bin/nfc'), ['worker', 'queue'], {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
  });
  trackProcessGroup(child);
  let log = '';
  const append = (chunk: string) => {
    log = (log + chunk).slice(-200_000);
  };
  child.stdout?.setEncoding('utf8').on('data', append);
  child.stderr?.setEncoding('utf8').on('data', append);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // SIGTERM to the worker only (as Kubernetes does to PID 1); SIGKILL to its whole group (ffmpeg too).
  const signal = async (s: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(s === 'SIGKILL' ? -(child.pid as number) : (child.pid as number), s);
    } catch {
      // already gone
    }
    await exited;
  };
  return {
    child,
    logTail: (lines = 40) => log.trimEnd().split('\n').slice(-lines).join('\n'),
    exitCode: () => child.exitCode,
    stop: () => signal('SIGTERM'),
    kill: signal,
  };
}
