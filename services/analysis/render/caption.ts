/**
 * The translucent text bar drawn across the top or bottom edge of a frame. It overlays the
 * picture instead of growing the image, so a thumbnail keeps the size the caller asked for.
 */
import type { SKRSContext2D } from '@napi-rs/canvas';
import { COLORS } from './colors.js';
import { font } from './fonts.js';

/** Bar height in pixels for a canvas of this size. */
export function captionBarHeight(canvasWidth: number, canvasHeight: number): number {
  return Math.round(Math.max(20, Math.max(canvasWidth, canvasHeight) / 18));
}

/**
 * Draws `text` in a bar along the top edge, or along the bottom when `busyTop` says the top
 * strip holds something the viewer needs (e.g. the athlete's head or raised hands).
 */
export function drawCaptionBar(ctx: SKRSContext2D, text: string, busyTop = false): void {
  const { width, height } = ctx.canvas;
  const barH = captionBarHeight(width, height);
  const y = busyTop ? height - barH : 0;
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
