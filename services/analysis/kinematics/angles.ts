/**
 * Joint angles from 2-D keypoints, in degrees. Conventions (documented in the report too):
 * - Interior angles (knee, hip, elbow, shoulder) lie in [0°, 180°]; 180° is a straight
 *   limb. They come from atan2(|cross|, dot), so they never wrap around.
 * - knee: hip–knee–ankle; hip: shoulder–hip–knee; elbow: shoulder–elbow–wrist;
 *   shoulder: hip–shoulder–elbow (0° arm along the trunk, 180° overhead).
 * - trunkLean: the hip→shoulder segment against vertical, 0° upright, 90° horizontal.
 * - shin: the ankle→knee segment against vertical, 0° vertical (forward knee travel grows it).
 * Image y grows downwards; every formula here accounts for that.
 */

export interface Point {
  x: number;
  y: number;
}

/** Interior angle at `b` formed by a–b–c, or NaN when any point is missing or coincident. */
export function interiorAngle(a: Point, b: Point, c: Point): number {
  const ux = a.x - b.x;
  const uy = a.y - b.y;
  const vx = c.x - b.x;
  const vy = c.y - b.y;
  if (!Number.isFinite(ux + uy + vx + vy)) return Number.NaN;
  if ((ux === 0 && uy === 0) || (vx === 0 && vy === 0)) return Number.NaN;
  return (Math.atan2(Math.abs(ux * vy - uy * vx), ux * vx + uy * vy) * 180) / Math.PI;
}

/** Angle of the segment from → to against the upward vertical, in [0°, 180°]. */
export function angleFromVertical(from: Point, to: Point): number {
  const dx = to.x - from.x;
  const up = from.y - to.y;
  if (!Number.isFinite(dx + up) || (dx === 0 && up === 0)) return Number.NaN;
  return (Math.atan2(Math.abs(dx), up) * 180) / Math.PI;
}
