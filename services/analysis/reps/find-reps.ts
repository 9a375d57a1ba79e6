/**
 * Finds the repetitions of one exercise and measures each: timing of the phases, range of
 * motion, depth, the extreme joint angles, and left/right symmetry.
 */
import { meanSides, midpoint, trunkLength } from '../kinematics/body.js';
import type { AngleName, Kinematics } from '../kinematics/series.js';
import { ANGLE_NAMES } from '../kinematics/series.js';
import { type ClipView, summarizeView, type View } from '../kinematics/view.js';
import { KP } from '../pose/keypoints.js';
import { drivingAngle, type ExerciseProfile } from './exercises.js';
import { DEFAULT_SEGMENT_OPTIONS, type RepSegment, segmentReps } from './segment.js';

/** A rep whose hips travel further than this many trunk lengths is walking, not exercise. */
const MAX_TRAVEL_TRUNKS = 1;

export interface SidedValue {
  left: number | null;
  right: number | null;
}

export interface Rep {
  /** 1-based number among counted reps; null for partial ones. */
  number: number | null;
  counted: boolean;
  partialReason?: string;
  startFrame: number;
  turnFrame: number;
  endFrame: number;
  startSeconds: number;
  turnSeconds: number;
  endSeconds: number;
  eccentricSeconds: number;
  concentricSeconds: number;
  /** Driving angle: max − min within the rep, degrees. */
  rangeOfMotionDegrees: number;
  /** Driving angle at the turning point, degrees. */
  turnAngleDegrees: number;
  /** Every joint angle at the turning point, per side (null where unseen). */
  anglesAtTurn: Record<AngleName, SidedValue>;
  view: ClipView;
  /** |left − right| of the driving angle at the turn (front view only: the far side is hidden from the side). */
  asymmetryDegrees: number | null;
}

export interface RepAnalysis {
  reps: Rep[];
  counted: number;
  signal: Float64Array;
  noMovement?: string;
}

export function findReps(
  kin: Kinematics,
  profile: ExerciseProfile,
  views: ReadonlyArray<View | undefined>,
): RepAnalysis {
  const angle = drivingAngle(kin, profile);
  const excursion = angle.map((a) => profile.excursion(a));
  const segmentation = segmentReps(kin.time, excursion, {
    ...DEFAULT_SEGMENT_OPTIONS,
    minRange: profile.minRangeDegrees,
    minTurn: profile.minTurnExcursion,
    maxRepSeconds: profile.maxRepSeconds,
  });
  let number = 0;
  const reps = segmentation.reps.map((segment) => {
    const travelled = hipTravelInTrunks(kin, segment);
    const gated: RepSegment =
      segment.counted && travelled > MAX_TRAVEL_TRUNKS
        ? { ...segment, counted: false, reason: 'the body travels across the frame (walking, not a repetition)' }
        : segment;
    const rep = measure(kin, profile, angle, gated, views);
    if (rep.counted) rep.number = ++number;
    return rep;
  });
  return {
    reps,
    counted: number,
    signal: angle,
    ...(segmentation.noMovement ? { noMovement: segmentation.noMovement } : {}),
  };
}

function measure(
  kin: Kinematics,
  profile: ExerciseProfile,
  angle: Float64Array,
  segment: RepSegment,
  views: ReadonlyArray<View | undefined>,
): Rep {
  const t = (i: number) => kin.time[i] ?? 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = segment.start; i <= segment.end; i++) {
    const a = angle[i] ?? Number.NaN;
    if (Number.isNaN(a)) continue;
    min = Math.min(min, a);
    max = Math.max(max, a);
  }
  const firstHalf = t(segment.turn) - t(segment.start);
  const secondHalf = t(segment.end) - t(segment.turn);
  const view = summarizeView(views, segment.start, segment.end + 1);
  const sided = kin.angles[profile.drivingAngle];
  const l = sided.left[segment.turn] ?? Number.NaN;
  const r = sided.right[segment.turn] ?? Number.NaN;
  const anglesAtTurn = Object.fromEntries(
    ANGLE_NAMES.map((name) => [
      name,
      { left: round(kin.angles[name].left[segment.turn]), right: round(kin.angles[name].right[segment.turn]) },
    ]),
  ) as Record<AngleName, SidedValue>;
  return {
    number: null,
    counted: segment.counted,
    ...(segment.reason ? { partialReason: segment.reason } : {}),
    startFrame: segment.start,
    turnFrame: segment.turn,
    endFrame: segment.end,
    startSeconds: round2(t(segment.start)),
    turnSeconds: round2(t(segment.turn)),
    endSeconds: round2(t(segment.end)),
    eccentricSeconds: round2(profile.firstPhase === 'eccentric' ? firstHalf : secondHalf),
    concentricSeconds: round2(profile.firstPhase === 'eccentric' ? secondHalf : firstHalf),
    rangeOfMotionDegrees: Number.isFinite(max - min) ? Math.round(max - min) : 0,
    turnAngleDegrees: round(angle[segment.turn]) ?? 0,
    anglesAtTurn,
    view,
    asymmetryDegrees: view === 'front' && !Number.isNaN(l - r) ? Math.round(Math.abs(l - r)) : null,
  };
}

function hipTravelInTrunks(kin: Kinematics, segment: RepSegment): number {
  let minX = Number.POSITIVE_INFINITY;
  let maxX = Number.NEGATIVE_INFINITY;
  for (let i = segment.start; i <= segment.end; i++) {
    const x = midpoint(kin, KP.left_hip, KP.right_hip, i).x;
    if (Number.isNaN(x)) continue;
    minX = Math.min(minX, x);
    maxX = Math.max(maxX, x);
  }
  const ruler = trunkLength(kin, segment.turn);
  return ruler > 0 && Number.isFinite(maxX - minX) ? (maxX - minX) / ruler : 0;
}

/** Mean of both sides of a named angle at frame i. */
export function angleAt(kin: Kinematics, name: AngleName, i: number): number {
  return meanSides(kin.angles[name].left, kin.angles[name].right, i);
}

function round(v: number | undefined): number | null {
  return v === undefined || Number.isNaN(v) ? null : Math.round(v);
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
