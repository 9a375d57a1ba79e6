/** `nfc` as a user meets it: help, usage errors, bad input, and the human summary. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hlsPlaylistAsMp4, truncatedMp4 } from './fixtures/hostile-videos.js';
import { clip } from './support/clips.js';
import { runCli } from './support/run-cli.js';

let work: string;
let server: Server;
let requests = 0;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'nfc-cli-'));
  server = createServer((_req, res) => {
    requests++;
    res.end('x');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
});
after(async () => {
  server.close();
  await rm(work, { recursive: true, force: true });
});

describe('nfc', () => {
  it('prints help with the analyze options and exits 0', async () => {
    const r = await runCli(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /nfc analyze <video>/);
    assert.match(r.stdout, /--exercise/);
  });

  it('exits 2 with a hint on an unknown exercise', async () => {
    const r = await runCli(['analyze', 'x.mp4', '--exercise', 'yoga']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--exercise must be one of/);
  });

  it('exits 3 with the error code on a missing file', async () => {
    const r = await runCli(['analyze', join(work, 'nope.mp4')]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /FILE_NOT_FOUND/);
  });

  it('exits 3 on a truncated upload, saying it is damaged', async () => {
    const r = await runCli(['analyze', await truncatedMp4(work)]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /damaged or incomplete.*CORRUPT_VIDEO/);
  });

  it('exits 3 on an HLS playlist renamed .mp4 and never fetches its URL', async () => {
    const port = (server.address() as AddressInfo).port;
    const r = await runCli(['analyze', await hlsPlaylistAsMp4(work, `http://127.0.0.1:${port}/seg.ts`)]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /UNSUPPORTED_CONTAINER/);
    assert.equal(requests, 0);
  });

  it('exits 3 on a text file named .mp4', async () => {
    const file = join(work, 'notes.mp4');
    await writeFile(file, 'Leg day: 5x5 squats, then lunges.\n');
    const r = await runCli(['analyze', file]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /not a video/);
  });

  it('prints a readable summary with a per-rep table, the score and where the files are', async () => {
    const out = join(work, 'summary');
    const r = await runCli(['analyze', clip('formfit_squat.mp4').path, '-e', 'squat', '-o', out, '--annotate']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /squat · 3 reps/);
    assert.match(r.stdout, /rep\s+start\s+turn/);
    assert.match(r.stdout, /Score: \d+\/100/);
    assert.match(r.stdout, new RegExp(`Report: +${out}/report.json`));
    for (const f of ['report.json', 'frames.csv', 'chart.png', 'thumbnails/rep-01.png', 'annotated.mp4']) {
      assert.ok(existsSync(join(out, f)), f);
    }
  });
});
