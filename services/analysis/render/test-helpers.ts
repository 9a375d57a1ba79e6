/**
 * Shared fixtures for the render tests: a synthetic video made with FFmpeg's lavfi test
 * source (nothing binary is committed), a standing pose, and PNG decoding.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCanvas, loadImage } from '@napi-rs/canvas';
import { KEYPOINT_NAMES, type KeypointName, type PoseFrame } from '../pose/keypoints.js';

/** A temp dir for one test file, removed by `cleanup`. */
export async function makeTempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'nfc-render-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes a `testsrc` H.264 MP4 (moving colour bars and a counter) and returns its path. */
export function makeTestVideo(
  dir: string,
  opts: { width?: number; height?: number; fps?: number; seconds?: number } = {},
) {
  const { width = 320, height = 240, fps = 15, seconds = 2 } = opts;
  const file = join(dir, `testsrc-${width}x${height}-${fps}.mp4`);
  const result = spawnSync(
    'ffmpeg',
    [
      ...['-hide_banner', '-v', 'error', '-y', '-f', 'lavfi'],
      ...['-i', `testsrc=size=${width}x${height}:rate=${fps}`, '-t', String(seconds)],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', file],
    ],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`ffmpeg could not make the test video: ${result.stderr}`);
  return file;
}

/** Positions of a person standing facing the camera in a 320 × 240 frame. */
export const STANDING: Record<KeypointName, readonly [number, number]> = {
  nose: [160, 40],
  left_eye: [165, 35],
  right_eye: [155, 35],
  left_ear: [170, 38],
  right_ear: [150, 38],
  left_shoulder: [185, 70],
  right_shoulder: [135, 70],
  left_elbow: [195, 105],
  right_elbow: [125, 105],
  left_wrist: [200, 140],
  right_wrist: [120, 140],
  left_hip: [175, 130],
  right_hip: [145, 130],
  left_knee: [180, 175],
  right_knee: [140, 175],
  left_ankle: [180, 220],
  right_ankle: [140, 220],
};

/** The standing pose, every keypoint confident unless `scores` says otherwise. */
export function standingPose(time = 0, scores: Partial<Record<KeypointName, number>> = {}): PoseFrame {
  const pose = { time, x: new Float32Array(17), y: new Float32Array(17), score: new Float32Array(17) };
  KEYPOINT_NAMES.forEach((name, i) => {
    pose.x[i] = STANDING[name][0];
    pose.y[i] = STANDING[name][1];
    pose.score[i] = scores[name] ?? 0.9;
  });
  return pose;
}

/** The pixel whose centre is nearest a bone's midpoint, in video pixels times `scale`. */
export function boneMidpoint(a: KeypointName, b: KeypointName, scale = 1): [number, number] {
  // Pixel (i, j) covers [i, i + 1): flooring keeps the sample inside a thin line.
  return [
    Math.floor(((STANDING[a][0] + STANDING[b][0]) / 2) * scale),
    Math.floor(((STANDING[a][1] + STANDING[b][1]) / 2) * scale),
  ];
}

export interface Rgba {
  width: number;
  height: number;
  data: Uint8ClampedArray | Uint8Array;
}

/** Decodes PNG bytes the way a viewer would. */
export async function decodePng(png: Buffer): Promise<Rgba> {
  const image = await loadImage(png);
  const canvas = createCanvas(image.width, image.height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(image, 0, 0);
  return { width: image.width, height: image.height, data: ctx.getImageData(0, 0, image.width, image.height).data };
}

/** [r, g, b] at (x, y). */
export function pixel(image: Rgba, x: number, y: number): [number, number, number] {
  const i = (y * image.width + x) * 4;
  return [image.data[i] ?? 0, image.data[i + 1] ?? 0, image.data[i + 2] ?? 0];
}

/** Sum of absolute channel differences. */
export function colourDistance(a: readonly number[], b: readonly number[]): number {
  return (
    Math.abs((a[0] ?? 0) - (b[0] ?? 0)) + Math.abs((a[1] ?? 0) - (b[1] ?? 0)) + Math.abs((a[2] ?? 0) - (b[2] ?? 0))
  );
}

/** What ffprobe says about the first video stream, decoding it to count frames. */
export function probeVideo(file: string): {
  codec: string;
  width: number;
  height: number;
  pixFmt: string;
  frames: number;
} {
  const result = spawnSync(
    'ffprobe',
    [
      ...['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-of', 'json'],
      ...['-show_entries', 'stream=codec_name,width,height,pix_fmt,nb_read_frames', file],
    ],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`ffprobe failed: ${result.stderr}`);
  const stream = (JSON.parse(result.stdout) as { streams: Array<Record<string, string | number>> }).streams[0] ?? {};
  return {
    codec: String(stream.codec_name),
    width: Number(stream.width),
    height: Number(stream.height),
    pixFmt: String(stream.pix_fmt),
    frames: Number(stream.nb_read_frames),
  };
}
