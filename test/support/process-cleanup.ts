/**
 * Servers and temp folders started by tests must not outlive the test process, even when it
 * is interrupted (Ctrl-C) or exits without calling stop(): every tracked process group is
 * killed and every tracked folder removed on exit or on SIGINT/SIGTERM/SIGHUP.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';

const liveGroups = new Set<number>();
const liveDirs = new Map<string, { keep: boolean }>();
let hooked = false;

/** Kills `child`'s process group (it must be spawned with `detached: true`) if we exit first. */
export function trackProcessGroup(child: ChildProcess): void {
  const pid = child.pid;
  if (pid === undefined) return;
  installHooks();
  liveGroups.add(pid);
  child.once('exit', () => liveGroups.delete(pid));
}

/** Removes `dir` if we exit before {@link untrackDir}; `keep` leaves it for debugging. */
export function trackDir(dir: string, options: { keep?: boolean } = {}): void {
  installHooks();
  liveDirs.set(dir, { keep: options.keep ?? false });
}

export function untrackDir(dir: string): void {
  liveDirs.delete(dir);
}

/**
 * Stops `child`'s process group (spawned with `detached: true`): SIGTERM, then SIGKILL after
 * `graceMs`; resolves when it has exited.
 */
export async function stopProcessGroup(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-(child.pid as number), s);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** The last lines of a server's log file, for an error message. */
export function logFileTail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function cleanUp(): void {
  for (const group of liveGroups) {
    try {
      process.kill(-group, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  liveGroups.clear();
  for (const [dir, { keep }] of liveDirs) if (!keep) rmSync(dir, { recursive: true, force: true });
  liveDirs.clear();
}

function installHooks(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', cleanUp);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      cleanUp();
      process.removeListener(signal, onSignal);
      // Nobody else handles it: die of it, as without this hook.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}
