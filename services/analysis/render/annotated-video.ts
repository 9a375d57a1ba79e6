/**
 * The annotated video: the clip re-encoded with the skeleton drawn on every frame.
 *
 * Two FFmpeg processes joined through this process: a decoder emitting raw RGBA frames and
 * an H.264 encoder reading them. Frames stream one at a time (a single frame buffer, plus
 * the pipes' own buffers), so memory stays flat however long the clip is: the decoder's
 * stdout is read only as fast as the encoder accepts frames.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { createCanvas, ImageData } from '@napi-rs/canvas';
import { EngineError } from '../errors.js';
import { assertFfmpegInstalled, SAFE_INPUT_OPTIONS } from '../media/ffmpeg.js';
import type { PoseFrame } from '../pose/keypoints.js';
import { captionBarHeight, chooseCaptionEdge, drawCaptionBar } from './caption.js';
import { drawPose } from './draw-pose.js';
import { ensureFonts } from './fonts.js';

/** Longest side of the annotated video; enough to judge form, small enough to stream. */
export const ANNOTATED_MAX_SIDE = 720;

export interface AnnotatedVideoOptions {
  /** Local input video. */
  file: string;
  /** Output MP4 path (overwritten). */
  out: string;
  /** Frames per second to sample and encode; must match how `poses` were sampled. */
  fps: number;
  /** `poses[i]` is drawn on decoded frame i (frame i is at i / fps seconds). */
  poses: PoseFrame[];
  /** Displayed video size (after rotation), the space `poses` are in. */
  width: number;
  height: number;
  /** Optional caption for frame i (e.g. "Rep 2 · knee 92°"); empty or undefined draws none. */
  labelAt?: (i: number) => string;
}

/**
 * Output size: the display aspect ratio, longer side at most `maxSide` (never upscaled),
 * both sides even because H.264 with 4:2:0 chroma needs that.
 */
export function annotatedVideoSize(
  width: number,
  height: number,
  maxSide = ANNOTATED_MAX_SIDE,
): { width: number; height: number } {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  const even = (n: number) => Math.max(2, 2 * Math.floor((n * scale) / 2));
  return { width: even(width), height: even(height) };
}

/**
 * Decodes `opts.file` at `opts.fps`, draws each frame's pose (and label) and encodes the
 * result as H.264 MP4 to `opts.out`. On failure both FFmpeg processes are killed, the
 * partial output is deleted, and an EngineError is thrown: `DECODE_FAILED` when the input
 * can't be read, `INTERNAL` when encoding fails.
 */
export async function renderAnnotatedVideo(opts: AnnotatedVideoOptions): Promise<void> {
  const { fps } = opts;
  if (!Number.isFinite(fps) || fps <= 0 || fps > 120) {
    throw new EngineError('INVALID_OPTIONS', 'Annotated video fps must be between 0 and 120.', { fps });
  }
  if (!(opts.width > 0 && opts.height > 0)) {
    throw new EngineError('INVALID_OPTIONS', 'Annotated video width and height must be positive.', {
      width: opts.width,
      height: opts.height,
    });
  }
  assertFfmpegInstalled();
  ensureFonts();
  const size = annotatedVideoSize(opts.width, opts.height);
  const scale = size.width / opts.width;
  const frameBytes = size.width * size.height * 4;
  const canvas = createCanvas(size.width, size.height);
  const ctx = canvas.getContext('2d');
  const barH = captionBarHeight(size.width, size.height);
  // One edge for the whole video: a bar jumping between edges would flicker.
  const edge = chooseCaptionEdge(opts.poses, scale, size.height, barH);

  const decoder = spawn('ffmpeg', decoderArgs(opts.file, fps, size), { stdio: ['ignore', 'pipe', 'pipe'] });
  const encoder = spawn('ffmpeg', encoderArgs(opts.out, fps, size), { stdio: ['pipe', 'ignore', 'pipe'] });
  const decoderDone = exitOf(decoder);
  const encoderDone = exitOf(encoder);
  // A dead encoder surfaces as EPIPE here; its exit status tells the real story.
  encoder.stdin?.on('error', () => {});

  const frame = Buffer.alloc(frameBytes);
  let filled = 0;
  let index = 0;
  try {
    for await (const chunk of decoder.stdout as AsyncIterable<Buffer>) {
      let offset = 0;
      while (offset < chunk.length) {
        const n = Math.min(frameBytes - filled, chunk.length - offset);
        chunk.copy(frame, filled, offset, offset + n);
        filled += n;
        offset += n;
        if (filled < frameBytes) continue;
        filled = 0;
        ctx.putImageData(
          new ImageData(new Uint8ClampedArray(frame.buffer, frame.byteOffset, frameBytes), size.width, size.height),
          0,
          0,
        );
        const pose = opts.poses[index];
        if (pose) drawPose(ctx, pose, scale);
        const label = opts.labelAt?.(index);
        if (label) drawCaptionBar(ctx, label, edge);
        const { data } = ctx.getImageData(0, 0, size.width, size.height);
        await writeWithBackpressure(
          encoder.stdin as Writable,
          Buffer.from(data.buffer, data.byteOffset, data.byteLength),
          encoderDone,
        );
        index += 1;
      }
    }
    const decoded = await decoderDone;
    if (decoded.code !== 0 || index === 0) {
      throw new EngineError('DECODE_FAILED', 'FFmpeg could not decode this video for the annotated copy.', {
        file: opts.file,
        frames: index,
        detail: decoded.detail,
      });
    }
    encoder.stdin?.end();
    const encoded = await encoderDone;
    if (encoded.code !== 0) {
      throw new EngineError('INTERNAL', 'FFmpeg could not encode the annotated video.', {
        out: opts.out,
        detail: encoded.detail,
      });
    }
  } catch (error) {
    decoder.kill('SIGKILL');
    encoder.kill('SIGKILL');
    await Promise.all([decoderDone, encoderDone]);
    // A truncated MP4 (no moov atom) would look like a result but not play.
    await rm(opts.out, { force: true });
    throw error;
  }
}

function decoderArgs(file: string, fps: number, size: { width: number; height: number }): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-v',
    'error',
    ...SAFE_INPUT_OPTIONS,
    '-i',
    `file:${file}`,
    '-an',
    '-sn',
    '-dn',
    '-vf',
    // An explicit W:H also makes non-square pixels square, matching the pose coordinates.
    `fps=${fps},scale=${size.width}:${size.height}:flags=area,setsar=1,format=rgba`,
    '-f',
    'rawvideo',
    'pipe:1',
  ];
}

function encoderArgs(out: string, fps: number, size: { width: number; height: number }): string[] {
  return [
    '-hide_banner',
    '-v',
    'error',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgba',
    '-s',
    `${size.width}x${size.height}`,
    '-framerate',
    String(fps),
    '-i',
    'pipe:0',
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-crf',
    '23',
    // yuv420p and faststart: plays in every browser, and starts before it has fully downloaded.
    '-pix_fmt',
    'yuv420p',
    '-movflags',
    '+faststart',
    '-f',
    'mp4',
    '-y',
    `file:${out}`,
  ];
}

interface Exit {
  code: number | null;
  detail: string;
}

/** Resolves (never rejects) when the process has exited, with the tail of its stderr. */
function exitOf(child: ChildProcess): Promise<Exit> {
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    if (stderr.length < 20_000) stderr += chunk;
  });
  const tail = () => stderr.trim().split('\n').slice(-3).join(' | ');
  return new Promise((resolve) => {
    child.on('error', (error) => resolve({ code: null, detail: error.message }));
    child.on('close', (code, signal) => resolve({ code, detail: tail() || (signal ? `killed by ${signal}` : '') }));
  });
}

/** Writes one frame; when the pipe is full, waits for 'drain' unless the encoder dies first. */
async function writeWithBackpressure(stdin: Writable, data: Buffer, encoderDone: Promise<Exit>): Promise<void> {
  if (stdin.write(data)) return;
  // A pipe error (EPIPE) counts as the encoder's death too; it must not reject unhandled later.
  const drained = once(stdin, 'drain').then(
    () => null,
    (error: Error): Exit => ({ code: null, detail: error.message }),
  );
  const exited = await Promise.race([drained, encoderDone]);
  if (exited) {
    throw new EngineError('INTERNAL', 'FFmpeg stopped while encoding the annotated video.', { detail: exited.detail });
  }
}
