import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOptions } from '@node-rs/argon2';
import { hashPassword, verifyPassword } from './passwords.js';

describe('passwords', () => {
  it('stores an argon2id PHC string with at least the OWASP parameters, never the password', async () => {
    const stored = await hashPassword('correct horse battery');
    assert.match(stored, /^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$/);
    assert.ok(!stored.includes('correct horse battery'));
    const params = parseOptions(stored);
    assert.ok(params.memoryCost >= 19_456, `m=${params.memoryCost}`);
    assert.ok(params.timeCost >= 2, `t=${params.timeCost}`);
    assert.equal(params.parallelism, 1);
  });

  it('salts: the same password hashes differently twice, and both verify', async () => {
    const [a, b] = await Promise.all([hashPassword('same password'), hashPassword('same password')]);
    assert.notEqual(a, b);
    assert.equal(await verifyPassword(a, 'same password'), true);
    assert.equal(await verifyPassword(b, 'same password'), true);
  });

  it('refuses a wrong password', async () => {
    const stored = await hashPassword('correct horse battery');
    assert.equal(await verifyPassword(stored, 'correct horse batterY'), false);
    assert.equal(await verifyPassword(stored, ''), false);
  });

  it('answers false, without throwing, for a malformed stored hash', async () => {
    for (const stored of ['', 'plaintext', '$argon2id$v=19$m=19456,t=2,p=1$zzz', '$2b$10$abcdefghijklmnopqrstuv']) {
      assert.equal(await verifyPassword(stored, 'anything at all'), false, stored);
    }
  });

  it('answers false for a missing account, after doing the same work as a real check', async () => {
    const stored = await hashPassword('correct horse battery');
    await verifyPassword(undefined, 'warm up');
    const time = async (run: () => Promise<unknown>) => {
      const samples: number[] = [];
      for (let i = 0; i < 5; i += 1) {
        const start = performance.now();
        await run();
        samples.push(performance.now() - start);
      }
      return samples.sort((x, y) => x - y)[2] ?? 0;
    };
    const real = await time(() => verifyPassword(stored, 'wrong guess'));
    const missing = await time(() => verifyPassword(undefined, 'wrong guess'));
    assert.equal(await verifyPassword(undefined, 'correct horse battery'), false);
    // Without the dummy hash a missing account answers in microseconds; with it, in about the same time.
    assert.ok(missing > real * 0.5, `missing account ${missing.toFixed(1)} ms vs wrong password ${real.toFixed(1)} ms`);
  });

  it('matches a password typed with decomposed accents (NFC normalisation)', async () => {
    const stored = await hashPassword('caf\u00e9 au lait');
    assert.equal(await verifyPassword(stored, 'cafe\u0301 au lait'), true);
  });
});
