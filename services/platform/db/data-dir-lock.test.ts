import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { lockDataDir } from './data-dir-lock.js';

describe('lockDataDir', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nfc-lock-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps a second opener out until released', () => {
    const unlock = lockDataDir(dir);
    assert.equal(readFileSync(join(dir, 'nfc.lock'), 'utf8').trim(), String(process.pid));
    assert.throws(
      () => lockDataDir(dir),
      (err: Error & { code?: string }) => err.code === 'DATABASE_LOCKED',
    );
    unlock();
    assert.equal(existsSync(join(dir, 'nfc.lock')), false);
    lockDataDir(dir)();
  });

  it('refuses a directory another live process holds', async () => {
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      writeFileSync(join(dir, 'nfc.lock'), `${other.pid}\n`);
      assert.throws(() => lockDataDir(dir), new RegExp(`in use by process ${other.pid}`));
    } finally {
      other.kill('SIGKILL');
      await new Promise((resolve) => other.once('exit', resolve));
    }
    // The holder died without unlocking: its lock is stale and taken over.
    const unlock = lockDataDir(dir);
    unlock();
  });

  it('takes over a lock left with its own pid by an earlier life (pid 1 in a container)', () => {
    writeFileSync(join(dir, 'nfc.lock'), `${process.pid}\n`);
    lockDataDir(dir)();
  });
});
