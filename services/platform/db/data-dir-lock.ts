/**
 * PGlite has no lock of its own: two processes opening one directory both "work" until the
 * cluster is corrupt. A lock file holding the owner's pid keeps a second `nfc serve` or
 * `nfc migrate --data` out; a lock left by a process that died is taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';

const LOCK_FILE = 'nfc.lock';
/** Directories this process holds: its own pid in a lock file is stale unless listed here (pid 1 in containers). */
const held = new Set<string>();

/** Takes the lock on `dataDir` (which must exist); returns the function that releases it. */
export function lockDataDir(dataDir: string): () => void {
  const dir = resolve(dataDir);
  const file = join(dir, LOCK_FILE);
  if (held.has(dir)) throw lockedError(dir, process.pid);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
      const owner = Number.parseInt(readFileSafe(file), 10);
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner))
        throw lockedError(dir, owner);
      rmSync(file, { force: true });
    }
  }
  held.add(dir);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    held.delete(dir);
    rmSync(file, { force: true });
  };
}

function lockedError(dir: string, pid: number): Error {
  return Object.assign(new Error(`the database in ${dir} is in use by process ${pid}; stop it first`), {
    code: 'DATABASE_LOCKED',
  });
}

function readFileSafe(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, someone else's.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
