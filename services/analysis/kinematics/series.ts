/**
 * Turns per-frame poses into clean time series: left/right flips undone, low-confidence
 * keypoints dropped, short gaps bridged, then zero-phase low-pass filtered; joint angles
 * are computed from the filtered keypoints (conventions in angles.ts).
 */

import type { PoseFrame } from '../pose/keypoints.js';
import { KP } from '../pose/keypoints.js';
import { angleFromVertical, interiorAngle, type Point } from './angles.js';
import { fillShortGaps, zeroPhaseLowPass } from './filter.js';
import { fixLeftRightFlips } from './left-right.js';

export interface KinematicsOptions {
  /** Keypoints below this MoveNet confidence are treated as unseen. */
  minConfidence: number;
  /** Longest gap bridged by interpolation, in seconds. */
  maxGapSeconds: number;
  /** Low-pass cutoff; exercise motion lives well below it, keypoint jitter above. */
  cutoffHz: number;
  /**
   * Detections seen for fewer consecutive frames than this are dropped: a keypoint that
   * flickers above the confidence bar once in a blurred stretch is a guess, and bridging
   * gaps from it would invent motion.
   */
  minRunFrames: number;
}

export const DEFAULT_KINEMATICS: Readonly<KinematicsOptions> = Object.freeze({
  minConfidence: 0.3,
  maxGapSeconds: 0.4,
  cutoffHz: 3,
  minRunFrames: 3,
});

export const ANGLE_NAMES = ['knee', 'hip', 'elbow', 'shoulder', 'trunkLean', 'shin'] as const;
export type AngleName = (typeof ANGLE_NAMES)[number];
export interface Sided {
  left: Float64Array;
  right: Float64Array;
}

export interface Kinematics {
  fps: number;
  time: Float64Array;
  /** Filtered keypoints, [keypoint][frame], NaN where unseen. */
  x: Float64Array[];
  y: Float64Array[];
  /** Confidence after left/right correction, [keypoint][frame]. */
  score: Float32Array[];
  angles: Record<AngleName, Sided>;
  /** The corrected, unfiltered poses (for the CSV and drawings). */
  poses: PoseFrame[];
}

export function computeKinematics(
  rawFrames: readonly PoseFrame[],
  fps: number,
  options: KinematicsOptions = DEFAULT_KINEMATICS,
): Kinematics {
  const poses = fixLeftRightFlips(rawFrames);
  const n = poses.length;
  const maxGap = Math.round(options.maxGapSeconds * fps);
  const x: Float64Array[] = [];
  const y: Float64Array[] = [];
  const score: Float32Array[] = [];
  for (let k = 0; k < 17; k++) {
    const xs = new Float64Array(n);
    const ys = new Float64Array(n);
    const ss = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const p = poses[i] as PoseFrame;
      const s = p.score[k] ?? 0;
      ss[i] = s;
      const seen = s >= options.minConfidence;
      xs[i] = seen ? (p.x[k] ?? Number.NaN) : Number.NaN;
      ys[i] = seen ? (p.y[k] ?? Number.NaN) : Number.NaN;
    }
    const cutoff = Math.min(options.cutoffHz, fps * 0.45);
    dropShortRuns(xs, ys, options.minRunFrames);
    x.push(zeroPhaseLowPass(fillShortGaps(xs, maxGap), cutoff, fps));
    y.push(zeroPhaseLowPass(fillShortGaps(ys, maxGap), cutoff, fps));
    score.push(ss);
  }
  const time = Float64Array.from(poses, (p) => p.time);
  return { fps, time, x, y, score, angles: computeAngles(x, y, n), poses };
}

function dropShortRuns(xs: Float64Array, ys: Float64Array, minRun: number): void {
  let i = 0;
  while (i < xs.length) {
    while (i < xs.length && Number.isNaN(xs[i])) i++;
    const from = i;
    while (i < xs.length && !Number.isNaN(xs[i])) i++;
    if (i - from < minRun) {
      xs.fill(Number.NaN, from, i);
      ys.fill(Number.NaN, from, i);
    }
  }
}

function computeAngles(x: Float64Array[], y: Float64Array[], n: number): Record<AngleName, Sided> {
  const at = (k: number, i: number): Point => ({ x: x[k]?.[i] ?? Number.NaN, y: y[k]?.[i] ?? Number.NaN });
  const sided = (f: (side: 'left' | 'right', i: number) => number): Sided => ({
    left: Float64Array.from({ length: n }, (_, i) => f('left', i)),
    right: Float64Array.from({ length: n }, (_, i) => f('right', i)),
  });
  const k = (side: 'left' | 'right', joint: string) => KP[`${side}_${joint}` as keyof typeof KP];
  return {
    knee: sided((s, i) => interiorAngle(at(k(s, 'hip'), i), at(k(s, 'knee'), i), at(k(s, 'ankle'), i))),
    hip: sided((s, i) => interiorAngle(at(k(s, 'shoulder'), i), at(k(s, 'hip'), i), at(k(s, 'knee'), i))),
    elbow: sided((s, i) => interiorAngle(at(k(s, 'shoulder'), i), at(k(s, 'elbow'), i), at(k(s, 'wrist'), i))),
    shoulder: sided((s, i) => interiorAngle(at(k(s, 'hip'), i), at(k(s, 'shoulder'), i), at(k(s, 'elbow'), i))),
    trunkLean: sided((s, i) => angleFromVertical(at(k(s, 'hip'), i), at(k(s, 'shoulder'), i))),
    shin: sided((s, i) => angleFromVertical(at(k(s, 'ankle'), i), at(k(s, 'knee'), i))),
  };
}
