import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { angleFromVertical, interiorAngle } from './angles.js';

const close = (actual: number, expected: number, eps = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= eps, `expected ${expected}, got ${actual}`);

describe('interiorAngle', () => {
  const b = { x: 100, y: 100 };

  it('reads a right angle as 90°, a straight limb as 180° and a fully folded one as 0°', () => {
    close(interiorAngle({ x: 100, y: 50 }, b, { x: 150, y: 100 }), 90);
    close(interiorAngle({ x: 100, y: 50 }, b, { x: 100, y: 170 }), 180);
    close(interiorAngle({ x: 100, y: 50 }, b, { x: 100, y: 20 }), 0);
  });

  it('reads a half-bent joint as 45° or 135°, whichever side it bends to', () => {
    close(interiorAngle({ x: 200, y: 100 }, b, { x: 150, y: 50 }), 45);
    close(interiorAngle({ x: 200, y: 100 }, b, { x: 150, y: 150 }), 45);
    close(interiorAngle({ x: 200, y: 100 }, b, { x: 50, y: 50 }), 135);
  });

  it('gives no angle (NaN) when a keypoint is missing or sits on the joint', () => {
    assert.ok(Number.isNaN(interiorAngle({ x: Number.NaN, y: 0 }, b, { x: 0, y: 0 })));
    assert.ok(Number.isNaN(interiorAngle({ x: 0, y: 0 }, { x: 1, y: Number.NaN }, { x: 0, y: 0 })));
    assert.ok(Number.isNaN(interiorAngle(b, b, { x: 0, y: 0 })));
    assert.ok(Number.isNaN(interiorAngle({ x: 0, y: 0 }, b, b)));
  });

  it('never wraps around: a limb swept all the way round the joint changes by 1° per 1° step', () => {
    const a = { x: 200, y: 100 };
    let previous = interiorAngle(a, b, a);
    close(previous, 0);
    for (let deg = 1; deg <= 360; deg++) {
      const r = (deg * Math.PI) / 180;
      const angle = interiorAngle(a, b, { x: 100 + 80 * Math.cos(r), y: 100 + 80 * Math.sin(r) });
      assert.ok(angle >= 0 && angle <= 180, `${angle} at ${deg}°`);
      assert.ok(Math.abs(angle - previous) <= 1.01, `jump from ${previous} to ${angle} at ${deg}°`);
      close(angle, Math.min(deg, 360 - deg), 1e-9);
      previous = angle;
    }
  });
});

describe('angleFromVertical (image y grows downwards)', () => {
  const from = { x: 100, y: 100 };

  it('reads a segment pointing up the image as upright (0°) and one pointing down as 180°', () => {
    close(angleFromVertical(from, { x: 100, y: 40 }), 0);
    close(angleFromVertical(from, { x: 100, y: 160 }), 180);
  });

  it('reads a horizontal segment as 90° and a diagonal one as 45°, leaning either way', () => {
    close(angleFromVertical(from, { x: 170, y: 100 }), 90);
    close(angleFromVertical(from, { x: 30, y: 100 }), 90);
    close(angleFromVertical(from, { x: 150, y: 50 }), 45);
    close(angleFromVertical(from, { x: 50, y: 50 }), 45);
    close(angleFromVertical(from, { x: 150, y: 150 }), 135);
  });

  it('gives no angle (NaN) for a missing or zero-length segment', () => {
    assert.ok(Number.isNaN(angleFromVertical(from, { x: Number.NaN, y: 0 })));
    assert.ok(Number.isNaN(angleFromVertical(from, from)));
  });
});
