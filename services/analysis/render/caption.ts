/**
 * The translucent text bar drawn across the top or bottom edge of a frame. It overlays the
 * picture instead of growing the image, so a thumbnail keeps the size the caller asked for.
 */
import type { SKRSContext2D } from '@napi-rs/canvas';
import type { PoseFrame } from '../pose/keypoints.js';
import { COLORS } from './colors.js';
import { MIN_KEYPOINT_SCORE } from './draw-pose.js';
import { font } from './fonts.js';

/** Bar height in pixels for a canvas of this size. */
export function captionBarHeight(canvasWidth: number, canvasHeight: number): number {
  return Math.round(Math.max(20, Math.max(canvasWidth, canvasHeight) / 18));
}

/** Which edge a caption bar sits on. */
export type CaptionEdge = 'top' | 'bottom';

/**
 * Picks the edge for a caption bar: the top, unless confident keypoints reach into the top
 * strip more often than into the bottom one (the bar would hide the head or raised hands).
 */
export function chooseCaptionEdge(
  poses: readonly PoseFrame[],
  scale: number,
  canvasHeight: number,
  barHeight: number,
): CaptionEdge {
  let top = 0;
  let bottom = 0;
  for (const pose of poses) {
    let inTop = false;
    let inBottom = false;
    for (let i = 0; i < pose.y.length; i += 1) {
      if ((pose.score[i] ?? 0) < MIN_KEYPOINT_SCORE) continue;
      const y = (pose.y[i] ?? Number.NaN) * scale;
      if (y < barHeight) inTop = true;
      if (y > canvasHeight - barHeight) inBottom = true;
    }
    if (inTop) top += 1;
    if (inBottom) bottom += 1;
  }
  return top > bottom ? 'bottom' : 'top';
}

/** Draws `text` in a translucent bar along one edge of the canvas. */
export function drawCaptionBar(ctx: SKRSContext2D, text: string, edge: CaptionEdge = 'top'): void {
  const { width, height } = ctx.canvas;
  const barH = captionBarHeight(width, height);
  const y = edge === 'bottom' ? height - barH : 0;
  ctx.save();
  ctx.fillStyle = COLORS.labelBackground;
  ctx.fillRect(0, y, width, barH);
  ctx.font = font(barH * 0.55);
  ctx.fillStyle = COLORS.labelText;
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'left';
  ctx.fillText(text, barH * 0.35, y + barH / 2, width - barH * 0.7);
  ctx.restore();
}
