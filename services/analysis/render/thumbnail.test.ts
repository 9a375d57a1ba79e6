import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isEngineError } from '../errors.js';
import { extractFrameRgb } from '../media/ffmpeg.js';
import { KP } from '../pose/keypoints.js';
import {
  boneMidpoint,
  colourDistance,
  decodePng,
  makeTempDir,
  makeTestVideo,
  pixel,
  type Rgba,
  standingPose,
} from './test-helpers.js';
import { renderThumbnail } from './thumbnail.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('renderThumbnail', () => {
  let video = '';
  let cleanup = async () => {};
  before(async () => {
    const temp = await makeTempDir();
    cleanup = temp.cleanup;
    video = makeTestVideo(temp.dir);
  });
  after(() => cleanup());

  it('returns a PNG of the video frame, longer side 640, with the skeleton drawn on it', async () => {
    const png = await renderThumbnail({
      file: video,
      time: 1,
      pose: standingPose(1),
      width: 320,
      height: 240,
      highlight: { joint: KP.left_knee, from: KP.left_hip, to: KP.left_ankle, label: 'knee 172°' },
      caption: 'Rep 2 · bottom · 1.0 s',
    });
    assert.deepEqual(png.subarray(0, 8), PNG_SIGNATURE);
    const thumb = await decodePng(png);
    assert.equal(thumb.width, 640);
    assert.equal(thumb.height, 480);

    const source: Rgba = { width: 640, height: 480, data: await extractFrameRgb(video, 1, 640, 480) };
    const onBone = boneMidpoint('right_hip', 'right_knee', 2);
    assert.ok(colourDistance(pixel(thumb, ...onBone), pixel(source, ...onBone)) > 100, 'bone visible over the frame');
    // Away from skeleton, label and caption the picture is the untouched video frame.
    assert.ok(colourDistance(pixel(thumb, 40, 300), pixel(source, 40, 300)) <= 6, 'frame itself unchanged');
    // The caption bar darkens the top strip (the test source is light grey up there).
    const brightness = (image: Rgba) => pixel(image, 600, 10).reduce((sum, v) => sum + v, 0);
    assert.ok(brightness(source) > 300, 'test frame is bright under the caption');
    assert.ok(brightness(thumb) < brightness(source) / 2, 'caption bar is drawn');
  });

  it('honours maxSide', async () => {
    const png = await renderThumbnail({
      file: video,
      time: 0.5,
      pose: standingPose(0.5),
      width: 320,
      height: 240,
      maxSide: 200,
    });
    const thumb = await decodePng(png);
    assert.deepEqual([thumb.width, thumb.height], [200, 150]);
  });

  it('fails with DECODE_FAILED for a time past the end of the video', async () => {
    await assert.rejects(
      renderThumbnail({ file: video, time: 30, pose: standingPose(30), width: 320, height: 240 }),
      (error) => isEngineError(error) && error.code === 'DECODE_FAILED',
    );
  });
});
