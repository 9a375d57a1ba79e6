/**
 * What drives each exercise: which signal goes up and down once per repetition, how much
 * range a repetition needs, and which joint a coach looks at. The driving signal is
 * expressed as "excursion": 0 at the rest position, growing towards the turning point
 * (the bottom of a squat, the top of a curl, the lockout of a deadlift).
 */
import type { Kinematics, Sided } from '../kinematics/series.js';
import { KP } from '../pose/keypoints.js';

export const EXERCISES = ['squat', 'pushup', 'lunge', 'deadlift', 'curl', 'jumping_jack', 'lateral_raise'] as const;
export type Exercise = (typeof EXERCISES)[number];
export type ExerciseChoice = Exercise | 'auto';

export interface ExerciseProfile {
  exercise: Exercise;
  label: string;
  /** The joint angle the rep is counted on, and the one drawn on thumbnails. */
  drivingAngle: 'knee' | 'elbow' | 'shoulder' | 'trunkLean';
  /** Keypoints of the angle drawn on thumbnails (vertex in the middle), per side. */
  angleKeypoints: { left: [number, number, number]; right: [number, number, number] };
  /** Keypoints the driving angle is computed from, per side (their confidence weighs it). */
  signalKeypoints?: { left: number[]; right: number[] };
  /** Excursion (degrees) from the driving angle: 0 at rest, larger towards the turn. */
  excursion: (angleDegrees: number) => number;
  /** Smallest excursion, rest to turn, that counts as a repetition (degrees). */
  minRangeDegrees: number;
  /** Excursion the turn must reach at least (e.g. squat: knee ≤ 140° → 40°). */
  minTurnExcursion: number;
  /** Longest plausible repetition, in seconds; longer "reps" are holds or drift. */
  maxRepSeconds: number;
  /**
   * How the two sides combine: `both` takes the side that moved less (a squat bends both
   * knees; walking bends one at a time), `either` the confidence-weighted mean.
   */
  sides: 'both' | 'either';
  /** The first half of the rep: lowering (eccentric) or lifting (concentric). */
  firstPhase: 'eccentric' | 'concentric';
  /** Words for the turning point in the report ("bottom", "top", "lockout"). */
  turnName: string;
}

const leg = (s: 'left' | 'right'): [number, number, number] => [KP[`${s}_hip`], KP[`${s}_knee`], KP[`${s}_ankle`]];
const arm = (s: 'left' | 'right'): [number, number, number] => [
  KP[`${s}_shoulder`],
  KP[`${s}_elbow`],
  KP[`${s}_wrist`],
];
const shoulder = (s: 'left' | 'right'): [number, number, number] => [
  KP[`${s}_hip`],
  KP[`${s}_shoulder`],
  KP[`${s}_elbow`],
];
const trunk = (s: 'left' | 'right'): [number, number, number] => [KP[`${s}_shoulder`], KP[`${s}_hip`], KP[`${s}_knee`]];

export const PROFILES: Readonly<Record<Exercise, ExerciseProfile>> = {
  squat: {
    exercise: 'squat',
    label: 'Squat',
    drivingAngle: 'knee',
    angleKeypoints: { left: leg('left'), right: leg('right') },
    excursion: (knee) => 180 - knee,
    minRangeDegrees: 45,
    minTurnExcursion: 50,
    maxRepSeconds: 8,
    sides: 'both',
    firstPhase: 'eccentric',
    turnName: 'bottom',
  },
  lunge: {
    exercise: 'lunge',
    label: 'Lunge',
    drivingAngle: 'knee',
    angleKeypoints: { left: leg('left'), right: leg('right') },
    excursion: (knee) => 180 - knee,
    minRangeDegrees: 45,
    minTurnExcursion: 50,
    maxRepSeconds: 8,
    sides: 'both',
    firstPhase: 'eccentric',
    turnName: 'bottom',
  },
  pushup: {
    exercise: 'pushup',
    label: 'Push-up',
    drivingAngle: 'elbow',
    angleKeypoints: { left: arm('left'), right: arm('right') },
    excursion: (elbow) => 180 - elbow,
    minRangeDegrees: 40,
    minTurnExcursion: 50,
    maxRepSeconds: 8,
    sides: 'either',
    firstPhase: 'eccentric',
    turnName: 'bottom',
  },
  deadlift: {
    exercise: 'deadlift',
    label: 'Deadlift',
    drivingAngle: 'trunkLean',
    angleKeypoints: { left: trunk('left'), right: trunk('right') },
    // Trunk lean needs only the shoulder and hip; plates often hide the knees.
    signalKeypoints: {
      left: [KP.left_shoulder, KP.left_hip],
      right: [KP.right_shoulder, KP.right_hip],
    },
    // Rest is on the floor (trunk leaning forward); the turn is the upright lockout.
    excursion: (lean) => 90 - lean,
    minRangeDegrees: 35,
    minTurnExcursion: 60,
    maxRepSeconds: 10,
    sides: 'either',
    firstPhase: 'concentric',
    turnName: 'lockout',
  },
  curl: {
    exercise: 'curl',
    label: 'Biceps curl',
    drivingAngle: 'elbow',
    angleKeypoints: { left: arm('left'), right: arm('right') },
    excursion: (elbow) => 180 - elbow,
    minRangeDegrees: 50,
    minTurnExcursion: 95,
    maxRepSeconds: 8,
    sides: 'either',
    firstPhase: 'concentric',
    turnName: 'top',
  },
  jumping_jack: {
    exercise: 'jumping_jack',
    label: 'Jumping jack',
    drivingAngle: 'shoulder',
    angleKeypoints: { left: shoulder('left'), right: shoulder('right') },
    excursion: (angle) => angle,
    minRangeDegrees: 60,
    minTurnExcursion: 110,
    maxRepSeconds: 3,
    sides: 'either',
    firstPhase: 'concentric',
    turnName: 'top',
  },
  lateral_raise: {
    exercise: 'lateral_raise',
    label: 'Lateral raise',
    drivingAngle: 'shoulder',
    angleKeypoints: { left: shoulder('left'), right: shoulder('right') },
    excursion: (angle) => angle,
    minRangeDegrees: 45,
    minTurnExcursion: 60,
    maxRepSeconds: 8,
    sides: 'either',
    firstPhase: 'concentric',
    turnName: 'top',
  },
};

/**
 * The driving angle per frame, combining both sides weighted by how confidently each was
 * seen (in a side view the far limb is mostly guessed by the model).
 */
export function drivingAngle(kin: Kinematics, profile: ExerciseProfile): Float64Array {
  const sided: Sided = kin.angles[profile.drivingAngle];
  const n = kin.time.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const l = sided.left[i] ?? Number.NaN;
    const r = sided.right[i] ?? Number.NaN;
    const points = profile.signalKeypoints ?? profile.angleKeypoints;
    const wl = Number.isNaN(l) ? 0 : sideWeight(kin, points.left, i);
    const wr = Number.isNaN(r) ? 0 : sideWeight(kin, points.right, i);
    if (wl + wr === 0) out[i] = Number.NaN;
    else if (profile.sides === 'both' && wl >= BOTH_SEEN && wr >= BOTH_SEEN) {
      out[i] = profile.excursion(l) < profile.excursion(r) ? l : r;
    } else out[i] = ((wl > 0 ? l * wl : 0) + (wr > 0 ? r * wr : 0)) / (wl + wr);
  }
  return out;
}

/** Both sides count as seen above this keypoint confidence. */
const BOTH_SEEN = 0.4;

function sideWeight(kin: Kinematics, points: readonly number[], i: number): number {
  let w = 1;
  for (const k of points) w = Math.min(w, kin.score[k]?.[i] ?? 0);
  return Math.max(w, 1e-3);
}
