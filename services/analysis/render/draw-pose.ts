/**
 * Draws a MoveNet pose onto a canvas: bones, joint dots and, optionally, one joint's angle.
 * Low-confidence keypoints are left out rather than drawn in the wrong place, because a
 * bone through the background misleads more than a missing one.
 */
import type { SKRSContext2D } from '@napi-rs/canvas';
import { KEYPOINT_NAMES, KP, type PoseFrame, SKELETON } from '../pose/keypoints.js';
import { COLORS } from './colors.js';
import { font } from './fonts.js';

/** Keypoints below this MoveNet score are treated as not found. */
export const MIN_KEYPOINT_SCORE = 0.3;

/** An angle to call out: the arc is drawn at `joint` between the bones to `from` and `to`. */
export interface PoseHighlight {
  /** KP index of the angle's vertex (e.g. `KP.left_knee`). */
  joint: number;
  /** KP indexes of the two other points (e.g. `KP.left_hip`, `KP.left_ankle`). */
  from: number;
  to: number;
  /**
   * Text drawn beside the arc, verbatim, e.g. "knee 92°". The caller supplies the number
   * because the report's angle comes from the smoothed series, not from this frame's raw
   * keypoints, and the two must agree.
   */
  label: string;
}

export interface DrawPoseOptions {
  highlight?: PoseHighlight;
  /** Defaults to {@link MIN_KEYPOINT_SCORE}. */
  minScore?: number;
  /** Bone width in canvas pixels; defaults to one that suits the canvas size. */
  lineWidth?: number;
}

type Side = 'left' | 'right' | 'centre';

function sideOf(index: number): Side {
  const name = KEYPOINT_NAMES[index] ?? '';
  if (name.startsWith('left_')) return 'left';
  if (name.startsWith('right_')) return 'right';
  return 'centre';
}

/**
 * Draws `pose` onto `ctx`. Pose coordinates are pixels of the displayed video; `scale`
 * maps them to canvas pixels (canvas = video × scale). Left-side limbs are orange, right
 * blue, the rest white (the person's left and right, as MoveNet reports them).
 */
export function drawPose(ctx: SKRSContext2D, pose: PoseFrame, scale: number, options: DrawPoseOptions = {}): void {
  const minScore = options.minScore ?? MIN_KEYPOINT_SCORE;
  const longSide = Math.max(ctx.canvas.width, ctx.canvas.height);
  const lineWidth = options.lineWidth ?? Math.max(2, Math.round(longSide / 200));
  const visible = (i: number): boolean => {
    const score = pose.score[i];
    const x = pose.x[i];
    const y = pose.y[i];
    return score !== undefined && score >= minScore && Number.isFinite(x) && Number.isFinite(y);
  };
  const px = (i: number): number => (pose.x[i] ?? Number.NaN) * scale;
  const py = (i: number): number => (pose.y[i] ?? Number.NaN) * scale;

  ctx.save();
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  for (const [nameA, nameB] of SKELETON) {
    const a = KP[nameA];
    const b = KP[nameB];
    if (!visible(a) || !visible(b)) continue;
    const sideA = sideOf(a);
    const side = sideA === sideOf(b) ? sideA : 'centre';
    // A dark outline under each bone keeps it visible on bright and busy backgrounds.
    for (const [style, width] of [
      [COLORS.outline, lineWidth + 2],
      [COLORS[side], lineWidth],
    ] as const) {
      ctx.strokeStyle = style;
      ctx.lineWidth = width;
      ctx.beginPath();
      ctx.moveTo(px(a), py(a));
      ctx.lineTo(px(b), py(b));
      ctx.stroke();
    }
  }
  const radius = lineWidth * 1.4;
  for (let i = 0; i < KEYPOINT_NAMES.length; i += 1) {
    if (!visible(i)) continue;
    ctx.beginPath();
    ctx.arc(px(i), py(i), radius, 0, Math.PI * 2);
    ctx.fillStyle = COLORS[sideOf(i)];
    ctx.fill();
    ctx.lineWidth = 1;
    ctx.strokeStyle = COLORS.outline;
    ctx.stroke();
  }
  if (options.highlight && visible(options.highlight.joint)) {
    const { joint, from, to, label } = options.highlight;
    const vertex = { x: px(joint), y: py(joint) };
    const ends = visible(from) && visible(to) ? { a: { x: px(from), y: py(from) }, c: { x: px(to), y: py(to) } } : null;
    drawAngle(ctx, vertex, ends, label, lineWidth, longSide);
  }
  ctx.restore();
}

interface XY {
  x: number;
  y: number;
}

/** Arc between the two bones (when both are known) plus the label on a dark box. */
function drawAngle(
  ctx: SKRSContext2D,
  vertex: XY,
  ends: { a: XY; c: XY } | null,
  label: string,
  lineWidth: number,
  longSide: number,
): void {
  // Label goes inside the angle (the gap between the two bones) when there is one,
  // otherwise to the upper right of the joint.
  let labelDir = { x: Math.SQRT1_2, y: -Math.SQRT1_2 };
  let radius = longSide / 25;
  if (ends) {
    const start = Math.atan2(ends.a.y - vertex.y, ends.a.x - vertex.x);
    const end = Math.atan2(ends.c.y - vertex.y, ends.c.x - vertex.x);
    // Sweep the interior (< 180°) side, whichever direction that is.
    let sweep = end - start;
    while (sweep > Math.PI) sweep -= 2 * Math.PI;
    while (sweep <= -Math.PI) sweep += 2 * Math.PI;
    const shortest = Math.min(
      Math.hypot(ends.a.x - vertex.x, ends.a.y - vertex.y),
      Math.hypot(ends.c.x - vertex.x, ends.c.y - vertex.y),
    );
    radius = Math.max(lineWidth * 3, Math.min(radius, shortest * 0.45));
    ctx.beginPath();
    ctx.moveTo(vertex.x, vertex.y);
    ctx.arc(vertex.x, vertex.y, radius, start, start + sweep, sweep < 0);
    ctx.closePath();
    ctx.fillStyle = COLORS.highlightFill;
    ctx.fill();
    for (const [style, width] of [
      [COLORS.outline, lineWidth + 2],
      [COLORS.highlight, lineWidth],
    ] as const) {
      ctx.beginPath();
      ctx.arc(vertex.x, vertex.y, radius, start, start + sweep, sweep < 0);
      ctx.strokeStyle = style;
      ctx.lineWidth = width;
      ctx.stroke();
    }
    const mid = start + sweep / 2;
    labelDir = { x: Math.cos(mid), y: Math.sin(mid) };
  }
  if (!label) return;
  const size = Math.max(12, longSide / 32);
  ctx.font = font(size, 'bold');
  const width = ctx.measureText(label).width;
  const pad = size * 0.3;
  const boxW = width + 2 * pad;
  const boxH = size + 2 * pad;
  // Far enough along the bisector that the box clears the arc, then kept on the canvas.
  const distance = radius + lineWidth + pad + Math.abs(labelDir.x) * (boxW / 2) + Math.abs(labelDir.y) * (boxH / 2);
  let x = vertex.x + labelDir.x * distance - boxW / 2;
  let y = vertex.y + labelDir.y * distance - boxH / 2;
  x = Math.min(Math.max(0, x), ctx.canvas.width - boxW);
  y = Math.min(Math.max(0, y), ctx.canvas.height - boxH);
  ctx.fillStyle = COLORS.labelBackground;
  ctx.fillRect(x, y, boxW, boxH);
  ctx.fillStyle = COLORS.highlight;
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'left';
  ctx.fillText(label, x + pad, y + boxH / 2);
}
