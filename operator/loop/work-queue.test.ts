import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay } from './backoff.js';
import { WorkQueue } from './work-queue.js';

const queue = () => new WorkQueue({ baseMs: 10, maxMs: 1000 });

describe('WorkQueue', () => {
  it('queues a key once however often it is added', async () => {
    const q = queue();
    q.add('a');
    q.add('b');
    q.add('a');
    assert.equal(q.length, 2);
    assert.equal(await q.get(), 'a');
    assert.equal(await q.get(), 'b');
  });

  it('never hands out a key being processed; one added meanwhile comes back after done', async () => {
    const q = queue();
    q.add('a');
    const key = await q.get();
    q.add('a');
    assert.equal(q.length, 0, 'not handed to a second worker');
    q.done(key as string);
    assert.equal(q.length, 1, 'the change made meanwhile is not lost');
    assert.equal(await q.get(), 'a');
  });

  it('hands out urgent keys (Jobs to create) before the others, each lane in order', async () => {
    const q = queue();
    q.add('status-1');
    q.add('status-2');
    q.add('job-1', true);
    q.add('status-2', true); // waiting already: moves to the urgent lane, handed out once
    q.add('job-2', true);
    assert.equal(q.length, 4);
    const order: string[] = [];
    while (q.length > 0) {
      const key = (await q.get()) as string;
      order.push(key);
      q.done(key);
    }
    assert.deepEqual(order, ['job-1', 'status-2', 'job-2', 'status-1']);
  });

  it('holds status-only keys back while urgent keys are being processed; the last one done releases them', async () => {
    const q = new WorkQueue({ baseMs: 10, maxMs: 1000 }, 10_000);
    q.add('job-1', true);
    q.add('job-2', true);
    const first = (await q.get()) as string;
    const second = (await q.get()) as string;
    q.add('status-1');
    assert.ok(q.busy, 'urgent work in progress');
    let handed: string | undefined;
    const waiting = q.get().then((key) => {
      handed = key;
    });
    await sleep(20);
    assert.equal(handed, undefined, 'status-only work waits while Jobs are created');
    q.done(first);
    await sleep(20);
    assert.equal(handed, undefined, 'one urgent key still in progress');
    q.done(second);
    await waiting;
    assert.equal(handed, 'status-1');
    assert.ok(!q.busy);
  });

  it('holds a status-only key back no longer than maxDeferMs, however long urgent work goes on', async () => {
    const q = new WorkQueue({ baseMs: 10, maxMs: 1000 }, 100);
    q.add('job-1', true);
    await q.get(); // never done during this test
    q.add('status-1');
    const started = Date.now();
    const key = await q.get();
    const waited = Date.now() - started;
    assert.equal(key, 'status-1');
    assert.ok(waited >= 90 && waited < 1000, `waited ${waited} ms`);
    q.shutDown();
  });

  it('keeps a key urgent when it was added urgent while being processed', async () => {
    const q = queue();
    q.add('a');
    const key = (await q.get()) as string;
    q.add('b');
    q.add('a', true);
    q.done(key);
    assert.equal(await q.get(), 'a');
    q.done('a'); // (status-only 'b' waits while urgent 'a' is in progress)
    assert.equal(await q.get(), 'b');
  });

  it('wakes a waiting worker when a key arrives, in the order workers asked', async () => {
    const q = queue();
    const first = q.get();
    const second = q.get();
    q.add('x');
    q.add('y');
    assert.deepEqual(await Promise.all([first, second]), ['x', 'y']);
  });

  it('adds after a delay, the earliest pending delay winning', async () => {
    const q = queue();
    q.addAfter('a', 200);
    q.addAfter('a', 20);
    assert.equal(q.length, 0);
    await sleep(60);
    assert.equal(q.length, 1);
  });

  it('backs off exponentially per key and forgets on success', () => {
    const q = queue();
    q.addRateLimited('a');
    q.addRateLimited('a');
    assert.equal(q.retries('a'), 2);
    q.forget('a');
    assert.equal(q.retries('a'), 0);
    q.shutDown();
  });

  it('hands out undefined to waiting workers on shutdown', async () => {
    const q = queue();
    const waiting = q.get();
    q.shutDown();
    assert.equal(await waiting, undefined);
  });
});

describe('backoffDelay', () => {
  it('doubles from the base, is capped, and is jittered into [½, 1) of that', () => {
    assert.equal(
      backoffDelay(1, 100, 10_000, () => 0),
      50,
    );
    assert.equal(
      backoffDelay(3, 100, 10_000, () => 0.999_999),
      400,
    );
    assert.equal(
      backoffDelay(30, 100, 10_000, () => 0.999_999),
      10_000,
    );
  });
});
