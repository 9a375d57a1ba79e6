/**
 * Where to look in the next frame. This follows MoveNet's reference pipeline (the TF Hub
 * tutorial's `determine_crop_region`): crop a square around the hips, sized from the torso
 * and body extent of the previous frame, so a small or distant subject fills the model's
 * input; fall back to the whole frame when the torso is not visible.
 * Coordinates are normalised to the square analysis frame.
 */
import { KP } from './keypoints.js';

export interface CropRegion {
  yMin: number;
  xMin: number;
  yMax: number;
  xMax: number;
}

export const FULL_FRAME: Readonly<CropRegion> = Object.freeze({ yMin: 0, xMin: 0, yMax: 1, xMax: 1 });
const MIN_CROP_KEYPOINT_SCORE = 0.2;
const TORSO = [KP.left_shoulder, KP.right_shoulder, KP.left_hip, KP.right_hip];

/** `ys`, `xs`, `scores`: 17 keypoints normalised to the analysis frame. */
export function nextCropRegion(ys: ArrayLike<number>, xs: ArrayLike<number>, scores: ArrayLike<number>): CropRegion {
  const visible = (i: number) => (scores[i] ?? 0) > MIN_CROP_KEYPOINT_SCORE;
  const torsoVisible =
    (visible(KP.left_hip) || visible(KP.right_hip)) && (visible(KP.left_shoulder) || visible(KP.right_shoulder));
  if (!torsoVisible) return FULL_FRAME;

  const centerY = ((ys[KP.left_hip] ?? 0) + (ys[KP.right_hip] ?? 0)) / 2;
  const centerX = ((xs[KP.left_hip] ?? 0) + (xs[KP.right_hip] ?? 0)) / 2;
  let torsoRange = 0;
  for (const i of TORSO) {
    torsoRange = Math.max(torsoRange, Math.abs(centerY - (ys[i] ?? 0)), Math.abs(centerX - (xs[i] ?? 0)));
  }
  let bodyRange = 0;
  for (let i = 0; i < scores.length; i++) {
    if (!visible(i)) continue;
    bodyRange = Math.max(bodyRange, Math.abs(centerY - (ys[i] ?? 0)), Math.abs(centerX - (xs[i] ?? 0)));
  }
  let half = Math.max(torsoRange * 1.9, bodyRange * 1.2);
  half = Math.min(half, Math.max(centerX, 1 - centerX, centerY, 1 - centerY));
  if (half > 0.5 || half < 0.02) return FULL_FRAME;
  return { yMin: centerY - half, xMin: centerX - half, yMax: centerY + half, xMax: centerX + half };
}
