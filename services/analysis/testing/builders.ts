/**
 * Test-only builders: poses placed geometrically, turned into Kinematics through the real
 * pipeline (computeKinematics), a Rep with sensible defaults, and a seeded PRNG.
 */
import type { Point } from '../kinematics/angles.js';
import { ANGLE_NAMES, computeKinematics, type Kinematics } from '../kinematics/series.js';
import { KEYPOINT_NAMES, type KeypointName, type PoseFrame } from '../pose/keypoints.js';
import type { Rep, SidedValue } from '../reps/find-reps.js';

/** Named keypoints in pixels (image y grows downwards); missing ones are unseen. */
export type Pose = Partial<Record<KeypointName, Point>>;

/** The point `length` away from `from`, in a direction `degreesFromUp` clockwise from straight up the image. */
export function toward(from: Point, length: number, degreesFromUp: number): Point {
  const a = (degreesFromUp * Math.PI) / 180;
  return { x: from.x + length * Math.sin(a), y: from.y - length * Math.cos(a) };
}

/** A side view: both sides of each joint at the same place. */
export function sideOn(
  joints: Partial<Record<'shoulder' | 'elbow' | 'wrist' | 'hip' | 'knee' | 'ankle', Point>>,
): Pose {
  const pose: Pose = {};
  for (const [joint, p] of Object.entries(joints)) {
    pose[`left_${joint}` as KeypointName] = p;
    pose[`right_${joint}` as KeypointName] = p;
  }
  return pose;
}

export function poseFrame(pose: Pose, time: number, score = 0.9): PoseFrame {
  const x = new Float32Array(17);
  const y = new Float32Array(17);
  const s = new Float32Array(17);
  KEYPOINT_NAMES.forEach((name, k) => {
    const p = pose[name];
    if (!p) return;
    x[k] = p.x;
    y[k] = p.y;
    s[k] = score;
  });
  return { time, x, y, score: s };
}

/**
 * Kinematics of one pose held for `frames` frames, or of a sequence of poses, at `fps`,
 * every seen keypoint with confidence 0.9.
 */
export function kinematicsOf(poses: Pose | readonly Pose[], opts: { frames?: number; fps?: number } = {}): Kinematics {
  const fps = opts.fps ?? 15;
  const list = Array.isArray(poses)
    ? (poses as readonly Pose[])
    : Array.from({ length: opts.frames ?? 10 }, () => poses as Pose);
  return computeKinematics(
    list.map((p, i) => poseFrame(p, i / fps)),
    fps,
  );
}

/** A counted, side-view rep over frames 0–9 turning at frame 5; override what a test needs. */
export function makeRep(overrides: Partial<Rep> = {}): Rep {
  const anglesAtTurn = Object.fromEntries(ANGLE_NAMES.map((n) => [n, { left: null, right: null }])) as Record<
    (typeof ANGLE_NAMES)[number],
    SidedValue
  >;
  return {
    number: 1,
    counted: true,
    startFrame: 0,
    turnFrame: 5,
    endFrame: 9,
    startSeconds: 0,
    turnSeconds: 5 / 15,
    endSeconds: 9 / 15,
    eccentricSeconds: 5 / 15,
    concentricSeconds: 4 / 15,
    rangeOfMotionDegrees: 90,
    turnAngleDegrees: 90,
    anglesAtTurn,
    view: 'side',
    asymmetryDegrees: null,
    ...overrides,
  };
}

/** Seeded uniform PRNG in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Seeded standard-normal samples (Box–Muller). */
export function gaussian(seed: number): () => number {
  const rand = mulberry32(seed);
  return () => {
    const u = 1 - rand();
    const v = rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
}
