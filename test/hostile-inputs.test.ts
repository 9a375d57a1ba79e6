/**
 * probeVideo against hostile and broken uploads (made at test time by
 * fixtures/hostile-videos.ts). Every refusal must carry its exact code, be a `bad-input`
 * error with a readable message, come back fast, and never make a network request.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type EngineErrorCode, isEngineError } from '../services/analysis/errors.js';
import { DEFAULT_LIMITS, type InputLimits } from '../services/analysis/limits.js';
import { runFfprobe } from '../services/analysis/media/ffmpeg.js';
import { probeVideo } from '../services/analysis/media/probe.js';
import * as fixtures from './fixtures/hostile-videos.js';

/** A hostile file must be turned away long before any real work would start. */
const MAX_REFUSAL_MS = 5_000;

let dir = '';
let server: Server;
let requests: string[] = [];
let baseUrl = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nfc-hostile-'));
  // Stands in for an attacker's server: any request reaching it means FFmpeg followed a URL.
  server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

/** Probes `file`, expecting a refusal with `code`; checks kind, message and speed. */
async function expectRefusal(file: string, code: EngineErrorCode, limits?: InputLimits) {
  const started = performance.now();
  const error = await probeVideo(file, limits).then(
    (info) => assert.fail(`expected ${code}, but the file was accepted: ${JSON.stringify(info)}`),
    (error: unknown) => error,
  );
  const elapsed = performance.now() - started;
  assert.ok(isEngineError(error), `expected an EngineError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  assert.equal(error.kind, 'bad-input');
  // A sentence for a person: starts with a capital, no FFmpeg log syntax leaking in.
  assert.match(error.message, /^[A-Z][^[\]@]{10,}\.$/, error.message);
  assert.ok(elapsed < MAX_REFUSAL_MS, `refusal took ${elapsed.toFixed(0)} ms`);
  return error;
}

describe('probeVideo on hostile input', () => {
  it('accepts the valid base clip with its real size and frame rate', async () => {
    const info = await probeVideo(await fixtures.baseClip(dir));
    assert.equal(info.width, fixtures.BASE_CLIP.width);
    assert.equal(info.height, fixtures.BASE_CLIP.height);
    assert.equal(info.fps, fixtures.BASE_CLIP.fps);
    assert.ok(Math.abs(info.durationSeconds - fixtures.BASE_CLIP.seconds) < 0.1, String(info.durationSeconds));
  });

  describe('playlists never reach the network', () => {
    it('refuses an HLS playlist named .mp4', async () => {
      requests = [];
      const file = await fixtures.hlsPlaylistAsMp4(dir, `${baseUrl}/segment0.ts`);
      await expectRefusal(file, 'UNSUPPORTED_CONTAINER');
      // The text sniff answered first; FFmpeg's own allow-list would have refused it too.
      const run = await runFfprobe(file, DEFAULT_LIMITS.probeTimeoutMs);
      assert.notEqual(run.exitCode, 0);
      assert.match(run.stderr, /hls.*not on whitelist/i);
      assert.deepEqual(requests, []);
    });

    it('refuses an HLS playlist behind a BOM (FFmpeg no longer reads it as HLS)', async () => {
      requests = [];
      const file = await fixtures.hlsPlaylistWithBom(dir, `${baseUrl}/segment0.ts`);
      await expectRefusal(file, 'UNSUPPORTED_CONTAINER');
      assert.deepEqual(requests, []);
    });

    it('refuses a DASH manifest that gets past the text sniff, by the demuxer allow-list', async () => {
      requests = [];
      const file = await fixtures.dashManifestWithBom(dir, `${baseUrl}/video.mp4`);
      const error = await expectRefusal(file, 'UNSUPPORTED_CONTAINER');
      // The sniff's refusal has no FFmpeg detail: this one came from -format_whitelist.
      assert.match(String(error.context.detail), /dash.*not on whitelist/i);
      assert.deepEqual(requests, []);
    });

    it('the DASH fixture is a live threat: FFmpeg without our options fetches its URL', async () => {
      requests = [];
      const file = await fixtures.dashManifestWithBom(dir, `${baseUrl}/video.mp4`);
      // No demuxer allow-list, HTTP allowed: what a naive `ffprobe` call with network
      // protocols enabled would do. Proves the zero-request assertions above mean something.
      await promisify(execFile)('ffprobe', ['-v', 'error', '-protocol_whitelist', 'file,http,tcp', `file:${file}`], {
        timeout: 10_000,
      }).catch(() => undefined);
      assert.deepEqual(requests, ['GET /video.mp4']);
    });

    it('refuses an http:// path without fetching it', async () => {
      requests = [];
      await expectRefusal(`${baseUrl}/video.mp4`, 'NOT_A_LOCAL_FILE');
      assert.deepEqual(requests, []);
    });
  });

  describe('broken files', () => {
    it('refuses a missing file', async () => {
      await expectRefusal(join(dir, 'does-not-exist.mp4'), 'FILE_NOT_FOUND');
    });

    it('refuses an empty file', async () => {
      await expectRefusal(await fixtures.emptyFile(dir), 'FILE_EMPTY');
    });

    it('refuses a file over the size limit', async () => {
      const error = await expectRefusal(await fixtures.baseClip(dir), 'FILE_TOO_LARGE', {
        ...DEFAULT_LIMITS,
        maxBytes: 1024,
      });
      assert.match(error.message, /limit is 1\.0 KiB/);
    });

    it('refuses a truncated MP4 as damaged', async () => {
      const error = await expectRefusal(await fixtures.truncatedMp4(dir), 'CORRUPT_VIDEO');
      assert.match(error.message, /damaged or incomplete/);
    });

    it('refuses a text file named .mp4 as not a video', async () => {
      const error = await expectRefusal(await fixtures.textFile(dir), 'UNSUPPORTED_CONTAINER');
      assert.match(error.message, /not a video/);
    });
  });

  describe('headers outside the limits', () => {
    it('refuses a real 1×1 video', async () => {
      await expectRefusal(await fixtures.onePixelVideo(dir), 'RESOLUTION_TOO_SMALL');
    });

    it('refuses an H.264 MP4 whose header claims 16384×16384', async () => {
      const error = await expectRefusal(await fixtures.hugeDimensionHeader(dir), 'RESOLUTION_TOO_LARGE');
      assert.equal(error.context.width, 16_384);
      assert.equal(error.context.height, 16_384);
    });

    it('refuses an MP4 reported as 16384×16384 (codec FFmpeg cannot decode)', async () => {
      const error = await expectRefusal(await fixtures.hugeDimensionUnknownCodec(dir), 'RESOLUTION_TOO_LARGE');
      assert.equal(error.context.width, 16_384);
      assert.equal(error.context.height, 16_384);
    });

    it('refuses an MP4 whose header claims 3 hours', async () => {
      const error = await expectRefusal(await fixtures.threeHourHeader(dir), 'DURATION_TOO_LONG');
      assert.ok(Math.abs(Number(error.context.durationSeconds) - 3 * 3600) < 1, String(error.context.durationSeconds));
    });
  });
});
