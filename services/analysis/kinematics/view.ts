/**
 * Camera view per frame, from how wide the shoulders look against the trunk's length:
 * seen from the front both shoulders are far apart; from the side they overlap. The
 * facing direction (side view) is where the nose is relative to the shoulders.
 */
import { KP } from '../pose/keypoints.js';
import type { Kinematics } from './series.js';

export type View = 'side' | 'front';
export type ClipView = View | 'mixed' | 'unknown';

/** Shoulder width / trunk length above which the camera sees the person from the front. */
export const FRONT_RATIO = 0.35;

export function viewPerFrame(kin: Kinematics): Array<View | undefined> {
  return Array.from(kin.time, (_, i) => {
    const ratio = shoulderWidthRatio(kin, i);
    return Number.isNaN(ratio) ? undefined : ratio >= FRONT_RATIO ? 'front' : 'side';
  });
}

function shoulderWidthRatio(kin: Kinematics, i: number): number {
  const v = (k: number, a: Float64Array[]) => a[k]?.[i] ?? Number.NaN;
  const shoulderWidth = Math.hypot(
    v(KP.left_shoulder, kin.x) - v(KP.right_shoulder, kin.x),
    v(KP.left_shoulder, kin.y) - v(KP.right_shoulder, kin.y),
  );
  const midShoulderX = (v(KP.left_shoulder, kin.x) + v(KP.right_shoulder, kin.x)) / 2;
  const midShoulderY = (v(KP.left_shoulder, kin.y) + v(KP.right_shoulder, kin.y)) / 2;
  const midHipX = (v(KP.left_hip, kin.x) + v(KP.right_hip, kin.x)) / 2;
  const midHipY = (v(KP.left_hip, kin.y) + v(KP.right_hip, kin.y)) / 2;
  const trunk = Math.hypot(midShoulderX - midHipX, midShoulderY - midHipY);
  return trunk > 0 ? shoulderWidth / trunk : Number.NaN;
}

/** The view over a range of frames: one view if it holds for ≥ 80 % of the seen frames. */
export function summarizeView(views: ReadonlyArray<View | undefined>, from = 0, to = views.length): ClipView {
  let side = 0;
  let front = 0;
  for (let i = from; i < to; i++) {
    if (views[i] === 'side') side++;
    else if (views[i] === 'front') front++;
  }
  const seen = side + front;
  if (seen === 0) return 'unknown';
  if (side >= 0.8 * seen) return 'side';
  if (front >= 0.8 * seen) return 'front';
  return 'mixed';
}

/** Which way a side-on subject faces in the image, from the nose against the shoulders. */
export function facingDirection(kin: Kinematics, from = 0, to = kin.time.length): 'left' | 'right' | 'unknown' {
  let votes = 0;
  for (let i = from; i < to; i++) {
    const nose = kin.x[KP.nose]?.[i] ?? Number.NaN;
    const shoulders =
      ((kin.x[KP.left_shoulder]?.[i] ?? Number.NaN) + (kin.x[KP.right_shoulder]?.[i] ?? Number.NaN)) / 2;
    if (Number.isNaN(nose - shoulders)) continue;
    votes += nose < shoulders ? -1 : 1;
  }
  return votes === 0 ? 'unknown' : votes < 0 ? 'left' : 'right';
}
