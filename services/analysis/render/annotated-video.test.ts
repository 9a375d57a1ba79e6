import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isEngineError } from '../errors.js';
import { extractFrameRgb } from '../media/ffmpeg.js';
import { annotatedVideoSize, renderAnnotatedVideo } from './annotated-video.js';
import {
  boneMidpoint,
  colourDistance,
  makeTempDir,
  makeTestVideo,
  pixel,
  probeVideo,
  type Rgba,
  standingPose,
} from './test-helpers.js';

describe('renderAnnotatedVideo', () => {
  let dir = '';
  let cleanup = async () => {};
  before(async () => {
    const temp = await makeTempDir();
    dir = temp.dir;
    cleanup = temp.cleanup;
  });
  after(() => cleanup());

  it('writes an H.264 MP4 with one frame per pose and the skeleton on it', async () => {
    const file = makeTestVideo(dir, { width: 320, height: 240, fps: 15, seconds: 2 });
    const out = join(dir, 'annotated.mp4');
    const poses = Array.from({ length: 30 }, (_, i) => standingPose(i / 15));
    await renderAnnotatedVideo({ file, out, fps: 15, poses, width: 320, height: 240, labelAt: (i) => `frame ${i}` });

    const probe = probeVideo(out);
    assert.equal(probe.codec, 'h264');
    assert.equal(probe.pixFmt, 'yuv420p');
    assert.deepEqual([probe.width, probe.height], [320, 240]);
    assert.ok(Math.abs(probe.frames - 30) <= 1, `expected 30 ± 1 frames, got ${probe.frames}`);

    // The same moment in the input and the output: the bone shows, the rest is the video.
    const source: Rgba = { width: 320, height: 240, data: await extractFrameRgb(file, 1, 320, 240) };
    const annotated: Rgba = { width: 320, height: 240, data: await extractFrameRgb(out, 1, 320, 240) };
    const onBone = boneMidpoint('left_hip', 'left_knee');
    assert.ok(colourDistance(pixel(annotated, ...onBone), pixel(source, ...onBone)) > 100, 'bone visible');
    assert.ok(colourDistance(pixel(annotated, 20, 200), pixel(source, 20, 200)) < 40, 'background is the video');
  });

  it('shrinks large videos to 720 px on the longer side, with even dimensions', async () => {
    assert.deepEqual(annotatedVideoSize(1280, 720), { width: 720, height: 404 });
    assert.deepEqual(annotatedVideoSize(1080, 1920), { width: 404, height: 720 });
    assert.deepEqual(annotatedVideoSize(321, 241), { width: 320, height: 240 });

    const file = makeTestVideo(dir, { width: 1280, height: 720, fps: 10, seconds: 1 });
    const out = join(dir, 'annotated-hd.mp4');
    await renderAnnotatedVideo({ file, out, fps: 10, poses: [], width: 1280, height: 720 });
    const probe = probeVideo(out);
    assert.deepEqual([probe.codec, probe.width, probe.height], ['h264', 720, 404]);
    assert.ok(Math.abs(probe.frames - 10) <= 1, `expected 10 ± 1 frames, got ${probe.frames}`);
  });

  it('fails with DECODE_FAILED on a file that is not a video, leaving no output behind', async () => {
    const file = join(dir, 'not-a-video.mp4');
    await writeFile(file, 'this is not a video');
    const out = join(dir, 'never.mp4');
    await assert.rejects(
      renderAnnotatedVideo({ file, out, fps: 10, poses: [], width: 320, height: 240 }),
      (error) => isEngineError(error) && error.code === 'DECODE_FAILED',
    );
    assert.equal(existsSync(out), false);
  });

  it('fails with INTERNAL, without hanging, when the encoder cannot write the output', async () => {
    const file = makeTestVideo(dir, { width: 320, height: 240, fps: 15, seconds: 2 });
    const out = join(dir, 'no-such-dir', 'annotated.mp4');
    await assert.rejects(
      renderAnnotatedVideo({ file, out, fps: 15, poses: [], width: 320, height: 240 }),
      (error) => isEngineError(error) && error.code === 'INTERNAL',
    );
  });
});
