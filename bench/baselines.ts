/**
 * Baselines on the same frames as the pipeline, in this process and on one core:
 * decode-only (FFmpeg to raw frames, nothing else) and pose-only (MoveNet on frames
 * already in memory, tracking included).
 */
import { decodeFrames } from '../services/analysis/media/frames.js';
import type { VideoInfo } from '../services/analysis/media/probe.js';
import { initBackend } from '../services/analysis/pose/backend.js';
import { ANALYSIS_FRAME_SIZE } from '../services/analysis/pose/extract-poses.js';
import { loadMoveNet } from '../services/analysis/pose/model.js';
import { MoveNetTracker } from '../services/analysis/pose/movenet.js';

export interface Baseline {
  frames: number;
  medianMs: number;
  framesPerSecond: number;
}

export async function decodeOnly(info: VideoInfo, fps: number): Promise<Baseline> {
  const gaps: number[] = [];
  const start = performance.now();
  let mark = start;
  for await (const _frame of decodeFrames({ file: info.file, fps, size: ANALYSIS_FRAME_SIZE })) {
    const now = performance.now();
    gaps.push(now - mark);
    mark = now;
  }
  return summarise(gaps, performance.now() - start);
}

/** Pose on at most `maxFrames` frames, pre-decoded so only the model and tracking are timed. */
export async function poseOnly(info: VideoInfo, fps: number, maxFrames: number): Promise<Baseline> {
  await initBackend({});
  const tracker = new MoveNetTracker(await loadMoveNet());
  const frames: Uint8Array[] = [];
  for await (const frame of decodeFrames({ file: info.file, fps, size: ANALYSIS_FRAME_SIZE })) {
    frames.push(frame.rgb.slice());
    if (frames.length >= maxFrames) break;
  }
  tracker.estimate(frames[0] ?? new Uint8Array(ANALYSIS_FRAME_SIZE ** 2 * 3), ANALYSIS_FRAME_SIZE); // warm-up
  tracker.reset();
  const times: number[] = [];
  const start = performance.now();
  for (const rgb of frames) {
    const t = performance.now();
    tracker.estimate(rgb, ANALYSIS_FRAME_SIZE);
    times.push(performance.now() - t);
  }
  return summarise(times, performance.now() - start);
}

function summarise(perFrame: number[], totalMs: number): Baseline {
  return { frames: perFrame.length, medianMs: median(perFrame), framesPerSecond: (perFrame.length * 1000) / totalMs };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
}
