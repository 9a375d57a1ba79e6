/** Small helpers reading body landmarks from the filtered series. */
import { KP } from '../pose/keypoints.js';
import type { Kinematics } from './series.js';

export interface XY {
  x: number;
  y: number;
}

export function point(kin: Kinematics, keypoint: number, i: number): XY {
  return { x: kin.x[keypoint]?.[i] ?? Number.NaN, y: kin.y[keypoint]?.[i] ?? Number.NaN };
}

/** Midpoint of a left/right pair, falling back to whichever side is seen. */
export function midpoint(kin: Kinematics, left: number, right: number, i: number): XY {
  const a = point(kin, left, i);
  const b = point(kin, right, i);
  if (Number.isNaN(a.x)) return b;
  if (Number.isNaN(b.x)) return a;
  return { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
}

/** Shoulder-to-hip distance in pixels: the body's own ruler. */
export function trunkLength(kin: Kinematics, i: number): number {
  const s = midpoint(kin, KP.left_shoulder, KP.right_shoulder, i);
  const h = midpoint(kin, KP.left_hip, KP.right_hip, i);
  return Math.hypot(s.x - h.x, s.y - h.y);
}

/** Mean of the two sides of an angle series at frame i, ignoring a missing side. */
export function meanSides(left: ArrayLike<number>, right: ArrayLike<number>, i: number): number {
  const l = left[i] ?? Number.NaN;
  const r = right[i] ?? Number.NaN;
  if (Number.isNaN(l)) return r;
  if (Number.isNaN(r)) return l;
  return (l + r) / 2;
}
