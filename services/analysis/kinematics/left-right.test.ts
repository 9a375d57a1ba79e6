import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KEYPOINT_NAMES, type KeypointName, type PoseFrame } from '../pose/keypoints.js';
import { type Pose, poseFrame } from '../testing/builders.js';
import { fixLeftRightFlips } from './left-right.js';

/** Base positions of the left side; `far` is where the right side sits relative to it. */
const LEFT: Record<string, [number, number]> = {
  eye: [310, 105],
  ear: [290, 110],
  shoulder: [300, 160],
  elbow: [320, 230],
  wrist: [350, 280],
  hip: [290, 300],
  knee: [340, 380],
  ankle: [300, 470],
};

function person(i: number, far: [number, number]): Pose {
  const shift = i; // 1 px a frame: slow movement
  const pose: Pose = { nose: { x: 330 + shift, y: 110 } };
  for (const [joint, [x, y]] of Object.entries(LEFT)) {
    pose[`left_${joint}` as KeypointName] = { x: x + shift, y };
    pose[`right_${joint}` as KeypointName] = { x: x + far[0] + shift, y: y + far[1] };
  }
  return pose;
}

function withSidesSwapped(frame: PoseFrame): PoseFrame {
  const out = {
    time: frame.time,
    x: Float32Array.from(frame.x),
    y: Float32Array.from(frame.y),
    score: Float32Array.from(frame.score),
  };
  KEYPOINT_NAMES.forEach((name, k) => {
    if (!name.startsWith('left_')) return;
    const r = KEYPOINT_NAMES.indexOf(name.replace('left_', 'right_') as KeypointName);
    for (const a of [out.x, out.y, out.score]) [a[k], a[r]] = [a[r] as number, a[k] as number];
  });
  return out;
}

describe('fixLeftRightFlips', () => {
  it('puts back the near and far leg when the model swaps them for a frame in a side view', () => {
    const truth = Array.from({ length: 20 }, (_, i) => poseFrame(person(i, [25, -8]), i / 15));
    const seen = truth.map((f, i) => (i === 6 || i === 13 ? withSidesSwapped(f) : f));
    assert.notDeepEqual(seen[6], truth[6]);
    const fixed = fixLeftRightFlips(seen);
    assert.deepEqual(fixed, truth);
    // The input is not modified.
    assert.deepEqual(seen[6], withSidesSwapped(truth[6] as PoseFrame));
  });

  it('also undoes a flip that lasts two frames in a row', () => {
    const truth = Array.from({ length: 12 }, (_, i) => poseFrame(person(i, [25, -8]), i / 15));
    const seen = truth.map((f, i) => (i === 4 || i === 5 ? withSidesSwapped(f) : f));
    assert.deepEqual(fixLeftRightFlips(seen), truth);
  });

  it('leaves a frontal pose without flips untouched', () => {
    // Seen from the front the right side is ~100 px from the left one.
    const frontal = (i: number): Pose => {
      const pose = person(i, [0, 0]);
      for (const name of KEYPOINT_NAMES) {
        const p = pose[name];
        if (p && name.startsWith('right_')) pose[name] = { x: p.x - 100, y: p.y };
      }
      return pose;
    };
    const frames = Array.from({ length: 15 }, (_, i) => poseFrame(frontal(i), i / 15));
    assert.deepEqual(fixLeftRightFlips(frames), frames);
  });
});
