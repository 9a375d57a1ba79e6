import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCanvas } from '@napi-rs/canvas';
import { KP } from '../pose/keypoints.js';
import { drawPose } from './draw-pose.js';
import { boneMidpoint, pixel, standingPose } from './test-helpers.js';

function blankCanvas() {
  const canvas = createCanvas(320, 240);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#000000';
  ctx.fillRect(0, 0, 320, 240);
  return { canvas, ctx, read: () => ({ width: 320, height: 240, data: ctx.getImageData(0, 0, 320, 240).data }) };
}

function countPixels(image: { data: Uint8ClampedArray }, test: (r: number, g: number, b: number) => boolean): number {
  let n = 0;
  for (let i = 0; i < image.data.length; i += 4) {
    if (test(image.data[i] ?? 0, image.data[i + 1] ?? 0, image.data[i + 2] ?? 0)) n += 1;
  }
  return n;
}

const isOrange = (r: number, g: number, b: number) => r > 200 && g > 100 && g < 180 && b < 80;
const isBlue = (r: number, g: number, b: number) => r < 80 && g > 140 && b > 200;
const isYellow = (r: number, g: number, b: number) => r > 200 && g > 190 && b < 120;

describe('drawPose', () => {
  it("colours the person's left limbs orange and right limbs blue", () => {
    const { ctx, read } = blankCanvas();
    drawPose(ctx, standingPose(), 1);
    const image = read();
    assert.ok(isOrange(...pixel(image, ...boneMidpoint('left_hip', 'left_knee'))), 'left thigh is orange');
    assert.ok(isBlue(...pixel(image, ...boneMidpoint('right_hip', 'right_knee'))), 'right thigh is blue');
  });

  it('leaves out bones whose keypoint is not confidently found', () => {
    const { ctx, read } = blankCanvas();
    drawPose(ctx, standingPose(0, { left_knee: 0.1 }), 1);
    const image = read();
    assert.deepEqual(pixel(image, ...boneMidpoint('left_hip', 'left_knee')), [0, 0, 0], 'no left thigh');
    assert.deepEqual(pixel(image, ...boneMidpoint('left_knee', 'left_ankle')), [0, 0, 0], 'no left shin');
    assert.ok(isBlue(...pixel(image, ...boneMidpoint('right_hip', 'right_knee'))), 'right thigh still drawn');
  });

  it('scales pose coordinates to the canvas', () => {
    const canvas = createCanvas(640, 480);
    const ctx = canvas.getContext('2d');
    drawPose(ctx, standingPose(), 2);
    const image = { width: 640, height: 480, data: ctx.getImageData(0, 0, 640, 480).data };
    assert.ok(isOrange(...pixel(image, ...boneMidpoint('left_hip', 'left_knee', 2))));
  });

  it('calls out a highlighted angle with an arc and its label', () => {
    const plain = blankCanvas();
    drawPose(plain.ctx, standingPose(), 1);
    const highlighted = blankCanvas();
    drawPose(highlighted.ctx, standingPose(), 1, {
      highlight: { joint: KP.left_knee, from: KP.left_hip, to: KP.left_ankle, label: 'knee 172°' },
    });
    assert.equal(countPixels(plain.read(), isYellow), 0);
    assert.ok(countPixels(highlighted.read(), isYellow) > 50, 'arc and label text are drawn in yellow');
  });
});
