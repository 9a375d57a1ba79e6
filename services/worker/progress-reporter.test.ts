import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Progress, ProgressReporter } from './progress-reporter.js';

/** A reporter whose sends are recorded with the (fake) time they started. */
function harness(intervalMs: number, sendMs = 0) {
  let clock = 0;
  const sent: Array<Progress & { at: number }> = [];
  const errors: unknown[] = [];
  let fail = false;
  const reporter = new ProgressReporter({
    intervalMs,
    now: () => clock,
    send: async (p) => {
      sent.push({ ...p, at: clock });
      const failing = fail;
      if (sendMs) await sleep(sendMs);
      if (failing) throw new Error('API server unavailable');
    },
    onError: (e) => errors.push(e),
  });
  return {
    reporter,
    sent,
    errors,
    advance: (ms: number) => {
      clock += ms;
    },
    failSends: (v: boolean) => {
      fail = v;
    },
  };
}

const p = (framesDone: number, framesTotal = 100) => ({ framesDone, framesTotal });

describe('ProgressReporter', () => {
  it('sends the first update at once, then nothing until the interval has passed', async () => {
    const h = harness(2000);
    h.reporter.update(p(1));
    await sleep(5);
    h.advance(500);
    h.reporter.update(p(2));
    h.reporter.update(p(3));
    await sleep(5);
    assert.deepEqual(
      h.sent.map((s) => s.framesDone),
      [1],
    );
    await h.reporter.close();
  });

  it('sends the newest value when the interval ends (real timers, short interval)', async () => {
    const h = harness(0);
    const reporter = new ProgressReporter({
      intervalMs: 40,
      send: async (v) => {
        h.sent.push({ ...v, at: Date.now() });
      },
      onError: () => {},
    });
    reporter.update(p(1));
    reporter.update(p(2));
    reporter.update(p(3));
    await sleep(300); // generous: a loaded CI machine fires timers late
    assert.deepEqual(
      h.sent.map((s) => s.framesDone),
      [1, 3],
    );
    const second = h.sent[1];
    const first = h.sent[0];
    assert.ok(first && second && second.at - first.at >= 35, 'at most one send per interval');
    assert.deepEqual(await reporter.close(), p(3));
  });

  it('never sends an unchanged value', async () => {
    const h = harness(0);
    h.reporter.update(p(5));
    await sleep(5);
    h.reporter.update(p(5));
    h.reporter.update(p(5));
    await sleep(5);
    assert.equal(h.sent.length, 1);
    await h.reporter.close();
  });

  it('keeps one patch in flight; a failed one is reported and retried with the newest value', async () => {
    const h = harness(0, 20);
    h.failSends(true);
    h.reporter.update(p(1));
    h.reporter.update(p(2)); // while the first is in flight
    await sleep(10);
    assert.equal(h.sent.length, 1);
    h.failSends(false);
    await sleep(200);
    assert.equal(h.errors.length, 1);
    assert.deepEqual(
      h.sent.map((s) => s.framesDone),
      [1, 2],
    );
    await h.reporter.close();
  });

  it('close() waits for the patch in flight, stops sending, and returns the latest value', async () => {
    const h = harness(2000, 20);
    h.reporter.update(p(1));
    h.reporter.update(p(7));
    assert.deepEqual(await h.reporter.close(), p(7));
    h.reporter.update(p(9));
    await sleep(30);
    assert.deepEqual(
      h.sent.map((s) => s.framesDone),
      [1],
    );
  });
});
