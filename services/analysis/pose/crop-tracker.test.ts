import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FULL_FRAME, nextCropRegion } from './crop-tracker.js';
import { type KeypointName, KP } from './keypoints.js';

type Seen = Partial<Record<KeypointName, [x: number, y: number]>>;

/** Keypoints normalised to the frame; those listed are seen (score 0.9), the rest unseen at (0, 0). */
function keypoints(seen: Seen, extraUnseen: Seen = {}) {
  const ys = new Float32Array(17);
  const xs = new Float32Array(17);
  const scores = new Float32Array(17);
  for (const [name, [x, y]] of Object.entries(extraUnseen)) {
    xs[KP[name as KeypointName]] = x;
    ys[KP[name as KeypointName]] = y;
  }
  for (const [name, [x, y]] of Object.entries(seen)) {
    const k = KP[name as KeypointName];
    xs[k] = x;
    ys[k] = y;
    scores[k] = 0.9;
  }
  return [ys, xs, scores] as const;
}

/** A small standing person, hips centred at (0.5, 0.5). */
const TORSO: Seen = {
  left_shoulder: [0.52, 0.42],
  right_shoulder: [0.48, 0.42],
  left_hip: [0.52, 0.5],
  right_hip: [0.48, 0.5],
};
const LIMBS: Seen = { nose: [0.5, 0.37], left_ankle: [0.53, 0.66], right_ankle: [0.47, 0.66] };

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-6, `${a} vs ${b}`);

describe('nextCropRegion', () => {
  it('looks at the whole frame when the torso is not visible', () => {
    assert.deepEqual(nextCropRegion(...keypoints({ nose: [0.5, 0.3], left_hip: [0.5, 0.5] })), FULL_FRAME);
    assert.deepEqual(nextCropRegion(...keypoints({})), FULL_FRAME);
  });

  it('zooms in on a small person with a square centred on the hips, sized by the whole body', () => {
    const crop = nextCropRegion(...keypoints({ ...TORSO, ...LIMBS }));
    // torso range 0.08 → 0.152; body range 0.16 (hips to ankles) → 0.192
    const half = Math.max(1.9 * 0.08, 1.2 * 0.16);
    close((crop.xMin + crop.xMax) / 2, 0.5);
    close((crop.yMin + crop.yMax) / 2, 0.5);
    close(crop.xMax - crop.xMin, 2 * half);
    close(crop.yMax - crop.yMin, crop.xMax - crop.xMin);
  });

  it('sizes the square by the torso when only the torso is seen', () => {
    const crop = nextCropRegion(...keypoints(TORSO, { left_ankle: [0.9, 0.95] }));
    close(crop.xMax - crop.xMin, 2 * 1.9 * 0.08);
    close(crop.yMax - crop.yMin, crop.xMax - crop.xMin);
    close((crop.yMin + crop.yMax) / 2, 0.5);
  });

  it('looks at the whole frame when the person already fills it', () => {
    const big: Seen = {
      left_shoulder: [0.6, 0.2],
      right_shoulder: [0.4, 0.2],
      left_hip: [0.6, 0.5],
      right_hip: [0.4, 0.5],
    };
    assert.deepEqual(nextCropRegion(...keypoints(big)), FULL_FRAME);
  });
});
