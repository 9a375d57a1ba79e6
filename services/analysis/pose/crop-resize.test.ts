import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cropResizeRgb } from './crop-resize.js';
import { FULL_FRAME } from './crop-tracker.js';

/** A size×size RGB frame whose pixel (x, y) has channels f(x, y, channel). */
function frame(size: number, f: (x: number, y: number, ch: number) => number): Uint8Array {
  const rgb = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) for (let ch = 0; ch < 3; ch++) rgb[(y * size + x) * 3 + ch] = f(x, y, ch);
  return rgb;
}

const pixel = (img: ArrayLike<number>, size: number, x: number, y: number) =>
  [0, 1, 2].map((ch) => img[(y * size + x) * 3 + ch]);

describe('cropResizeRgb', () => {
  it('returns the frame unchanged for a full-frame crop at the same size', () => {
    const rgb = frame(6, (x, y, ch) => (x * 37 + y * 11 + ch * 71) % 256);
    assert.deepEqual(Array.from(cropResizeRgb(rgb, 6, FULL_FRAME, 6)), Array.from(rgb));
  });

  it('fills the part of a crop that lies outside the frame with black', () => {
    const white = frame(5, () => 255);
    const left = cropResizeRgb(white, 5, { yMin: 0, xMin: -0.5, yMax: 1, xMax: 0.5 }, 5);
    for (let y = 0; y < 5; y++) {
      for (let x = 0; x < 5; x++)
        assert.deepEqual(pixel(left, 5, x, y), x < 2 ? [0, 0, 0] : [255, 255, 255], `(${x}, ${y})`);
    }
    const below = cropResizeRgb(white, 5, { yMin: 0.5, xMin: 0, yMax: 1.5, xMax: 1 }, 5);
    for (let y = 0; y < 5; y++) {
      for (let x = 0; x < 5; x++)
        assert.deepEqual(pixel(below, 5, x, y), y > 2 ? [0, 0, 0] : [255, 255, 255], `(${x}, ${y})`);
    }
  });

  it('keeps a horizontal gradient when shrinking the frame by half', () => {
    const rgb = frame(8, (x) => x * 32);
    const out = cropResizeRgb(rgb, 8, FULL_FRAME, 4);
    // Output column i samples source x = i · 7/3; bilinear sampling of a linear ramp is exact.
    const expected = [0, 1, 2, 3].map((i) => Math.round((32 * i * 7) / 3));
    assert.deepEqual(expected, [0, 75, 149, 224]);
    for (let y = 0; y < 4; y++) {
      for (let x = 0; x < 4; x++) assert.deepEqual(pixel(out, 4, x, y), Array(3).fill(expected[x]), `(${x}, ${y})`);
    }
  });

  it('writes into the buffer it is given', () => {
    const out = new Int32Array(4 * 4 * 3).fill(-1);
    const result = cropResizeRgb(
      frame(8, () => 9),
      8,
      FULL_FRAME,
      4,
      out,
    );
    assert.equal(result, out);
    assert.ok(out.every((v) => v === 9));
  });
});
