import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { aVideoAnalysis } from '../plan/builders.js';
import { EventRecorder } from './events.js';
import type { EventInput, KubeApi } from './kube-api.js';
import type { VideoAnalysisObject } from './objects.js';

describe('EventRecorder', () => {
  it('sends every event in the background, a few at a time, and flush waits for them', async () => {
    let inFlight = 0;
    let most = 0;
    const sent: string[] = [];
    const started: string[] = [];
    const api = {
      async createEvent(_va: VideoAnalysisObject, event: EventInput) {
        inFlight++;
        started.push(event.reason);
        most = Math.max(most, inFlight);
        await sleep(2);
        inFlight--;
        if (event.reason === 'Broken') throw new Error('HTTP 500');
        sent.push(event.reason);
      },
    } as unknown as KubeApi;
    const recorder = new EventRecorder(api, pino({ level: 'silent' }));
    const va = aVideoAnalysis('a').build() as VideoAnalysisObject;
    for (let i = 0; i < 50; i++) recorder.record(va, { type: 'Normal', reason: `R${i}`, message: 'm' });
    recorder.record(va, { type: 'Warning', reason: 'Broken', message: 'm' });
    await recorder.flush();
    assert.equal(sent.length, 50, 'a failed event does not stop the others');
    assert.deepEqual(started.slice(0, 3), ['R0', 'R1', 'R2'], 'sent in the order recorded');
    assert.ok(most <= 4, `at most 4 in flight, saw ${most}`);
    await recorder.flush(); // nothing queued: resolves at once
  });

  it('holds events while Jobs are being created, at most maxHoldMs; flush sends held ones at once', async () => {
    const sent: string[] = [];
    const api = {
      async createEvent(_va: VideoAnalysisObject, event: EventInput) {
        sent.push(event.reason);
      },
    } as unknown as KubeApi;
    let creatingJobs = true;
    const recorder = new EventRecorder(api, pino({ level: 'silent' }), () => creatingJobs, 400);
    const va = aVideoAnalysis('a').build() as VideoAnalysisObject;
    recorder.record(va, { type: 'Normal', reason: 'First', message: 'm' });
    await sleep(150);
    assert.deepEqual(sent, [], 'held while Jobs are being created');
    creatingJobs = false;
    await sleep(150);
    assert.deepEqual(sent, ['First'], 'sent once the Jobs are created');

    creatingJobs = true;
    recorder.record(va, { type: 'Normal', reason: 'Second', message: 'm' });
    await sleep(600);
    assert.deepEqual(sent, ['First', 'Second'], 'a held event goes after maxHoldMs even while Jobs are being created');

    recorder.record(va, { type: 'Normal', reason: 'Third', message: 'm' });
    await recorder.flush();
    assert.deepEqual(sent, ['First', 'Second', 'Third'], 'flush (stopping) does not wait for the hold');
  });
});
