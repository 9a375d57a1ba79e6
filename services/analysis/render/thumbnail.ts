/**
 * Key-frame thumbnails for the report: one video frame with the skeleton, an optional
 * angle call-out and a caption such as "Rep 2 · bottom · 10.3 s".
 */
import { createCanvas, ImageData } from '@napi-rs/canvas';
import { EngineError } from '../errors.js';
import { extractFrameRgb } from '../media/ffmpeg.js';
import type { PoseFrame } from '../pose/keypoints.js';
import { captionBarHeight, chooseCaptionEdge, drawCaptionBar } from './caption.js';
import { drawPose, type PoseHighlight } from './draw-pose.js';
import { ensureFonts } from './fonts.js';

export interface ThumbnailOptions {
  /** Local video file. */
  file: string;
  /** Seconds from the start of the video. */
  time: number;
  /** The pose at `time`, in pixels of the displayed video. */
  pose: PoseFrame;
  /** Displayed video size (after rotation), the space `pose` is in. */
  width: number;
  height: number;
  highlight?: PoseHighlight;
  caption?: string;
  /** Longer side of the PNG, in pixels; default 640. */
  maxSide?: number;
}

/** Size of the output image: the video's aspect ratio, longer side `maxSide`. */
export function thumbnailSize(
  width: number,
  height: number,
  maxSide: number,
): { width: number; height: number; scale: number } {
  const scale = maxSide / Math.max(width, height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)), scale };
}

/**
 * Renders the frame at `opts.time` with the pose drawn on it and returns PNG bytes. The
 * PNG is exactly {@link thumbnailSize}; the caption overlays the top edge (the bottom
 * one when only the top strip holds keypoints, e.g. raised hands).
 */
export async function renderThumbnail(opts: ThumbnailOptions): Promise<Buffer> {
  const maxSide = opts.maxSide ?? 640;
  for (const [name, value] of [
    ['width', opts.width],
    ['height', opts.height],
    ['maxSide', maxSide],
  ] as const) {
    if (!Number.isFinite(value) || value <= 0) {
      throw new EngineError('INVALID_OPTIONS', `Thumbnail ${name} must be a positive number.`, { [name]: value });
    }
  }
  if (!Number.isFinite(opts.time) || opts.time < 0) {
    throw new EngineError('INVALID_OPTIONS', 'Thumbnail time must be a non-negative number of seconds.', {
      time: opts.time,
    });
  }
  // Fail on a missing font before spending an FFmpeg run.
  ensureFonts();
  const size = thumbnailSize(opts.width, opts.height, maxSide);
  const rgba = await extractFrameRgb(opts.file, opts.time, size.width, size.height);
  const canvas = createCanvas(size.width, size.height);
  const ctx = canvas.getContext('2d');
  const pixels = new Uint8ClampedArray(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  ctx.putImageData(new ImageData(pixels, size.width, size.height), 0, 0);
  drawPose(ctx, opts.pose, size.scale, opts.highlight ? { highlight: opts.highlight } : {});
  if (opts.caption) {
    const barH = captionBarHeight(size.width, size.height);
    drawCaptionBar(ctx, opts.caption, chooseCaptionEdge([opts.pose], size.scale, size.height, barH));
  }
  return canvas.toBuffer('image/png');
}
