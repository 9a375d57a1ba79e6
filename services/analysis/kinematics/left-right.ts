/**
 * Undoes MoveNet's left/right flips. In a side view the model often swaps the two sides
 * for a frame or two (the most reported defect in Sports2D's tracker), which would make a
 * knee angle jump between the near and the far leg. Each frame is compared with the
 * previous (already corrected) one: when swapping every left/right pair moves the joints
 * much less than keeping them, the labels are swapped.
 */

import type { PoseFrame } from '../pose/keypoints.js';
import { KP } from '../pose/keypoints.js';

const PAIRS: ReadonlyArray<readonly [number, number]> = [
  [KP.left_eye, KP.right_eye],
  [KP.left_ear, KP.right_ear],
  [KP.left_shoulder, KP.right_shoulder],
  [KP.left_elbow, KP.right_elbow],
  [KP.left_wrist, KP.right_wrist],
  [KP.left_hip, KP.right_hip],
  [KP.left_knee, KP.right_knee],
  [KP.left_ankle, KP.right_ankle],
];
const MIN_SCORE = 0.25;
/** Swap only when the swapped assignment is clearly better, not on a near tie. */
const SWAP_RATIO = 0.6;

/** Returns new frames with consistent left/right labels; the input is not modified. */
export function fixLeftRightFlips(frames: readonly PoseFrame[]): PoseFrame[] {
  const out: PoseFrame[] = [];
  let previous: PoseFrame | undefined;
  for (const frame of frames) {
    let current = frame;
    if (previous && swapIsBetter(previous, frame)) current = swapped(frame);
    out.push(current);
    previous = current;
  }
  return out;
}

function swapIsBetter(prev: PoseFrame, cur: PoseFrame): boolean {
  let keep = 0;
  let swap = 0;
  let used = 0;
  for (const [l, r] of PAIRS) {
    const ok = (f: PoseFrame, i: number) => (f.score[i] ?? 0) >= MIN_SCORE;
    if (!(ok(prev, l) && ok(prev, r) && ok(cur, l) && ok(cur, r))) continue;
    keep += dist(cur, l, prev, l) + dist(cur, r, prev, r);
    swap += dist(cur, l, prev, r) + dist(cur, r, prev, l);
    used++;
  }
  return used >= 2 && swap < keep * SWAP_RATIO;
}

function dist(a: PoseFrame, i: number, b: PoseFrame, j: number): number {
  return Math.hypot((a.x[i] ?? 0) - (b.x[j] ?? 0), (a.y[i] ?? 0) - (b.y[j] ?? 0));
}

function swapped(frame: PoseFrame): PoseFrame {
  const x = Float32Array.from(frame.x);
  const y = Float32Array.from(frame.y);
  const score = Float32Array.from(frame.score);
  for (const [l, r] of PAIRS) {
    for (const arr of [x, y, score]) {
      const t = arr[l] as number;
      arr[l] = arr[r] as number;
      arr[r] = t;
    }
  }
  return { time: frame.time, x, y, score };
}
