/**
 * `exercise: auto`: every exercise's rep finder runs, and the posture during the reps
 * decides which exercise the body is actually doing (a push-up is done lying down, a curl
 * keeps the upper arm by the side, ...). The exercise with the most counted reps among
 * the plausible ones wins; with none, the clip has no exercise in it.
 */
import { midpoint } from '../kinematics/body.js';
import type { Kinematics } from '../kinematics/series.js';
import type { View } from '../kinematics/view.js';
import { KP } from '../pose/keypoints.js';
import { EXERCISES, type Exercise, PROFILES } from './exercises.js';
import { angleAt, findReps, type Rep, type RepAnalysis } from './find-reps.js';

export interface Detection {
  exercise: Exercise | null;
  analysis: RepAnalysis | null;
  /** Each candidate's counted reps and, where rejected, why. */
  candidates: Array<{ exercise: Exercise; reps: number; rejected?: string }>;
}

/** Posture checks per exercise, over its counted reps; a string says why it is not that exercise. */
const PLAUSIBLE: Record<Exercise, (kin: Kinematics, reps: Rep[]) => string | undefined> = {
  pushup: (kin, reps) =>
    median(reps, (r) => angleAt(kin, 'trunkLean', r.turnFrame)) < 50 ? 'body is upright' : undefined,
  squat: (kin, reps) => upright(kin, reps) ?? (feetSplit(kin, reps) ? 'feet split front to back' : undefined),
  lunge: (kin, reps) => upright(kin, reps) ?? (feetSplit(kin, reps) ? undefined : 'feet side by side'),
  deadlift: (kin, reps) =>
    median(reps, (r) => angleAt(kin, 'trunkLean', r.startFrame)) < 35
      ? 'trunk upright at the start of reps'
      : undefined,
  curl: (kin, reps) =>
    upright(kin, reps) ??
    (median(reps, (r) => angleAt(kin, 'shoulder', r.turnFrame)) > 60
      ? 'upper arm lifts away from the body'
      : median(reps, (r) => angleAt(kin, 'knee', r.turnFrame)) < 140
        ? 'knees bend'
        : undefined),
  jumping_jack: (kin, reps) =>
    upright(kin, reps) ??
    (median(reps, (r) => angleAt(kin, 'shoulder', r.turnFrame)) < 120 ? 'arms stay low' : undefined),
  lateral_raise: (kin, reps) =>
    upright(kin, reps) ??
    (median(reps, (r) => angleAt(kin, 'shoulder', r.turnFrame)) >= 135
      ? 'arms go overhead'
      : median(reps, (r) => angleAt(kin, 'elbow', r.turnFrame)) < 120
        ? 'elbows bend'
        : undefined),
};

/** Preference on equal rep counts: the commoner exercise first. */
const TIE_ORDER: readonly Exercise[] = [
  'squat',
  'pushup',
  'deadlift',
  'curl',
  'lateral_raise',
  'jumping_jack',
  'lunge',
];

export function detectExercise(kin: Kinematics, views: ReadonlyArray<View | undefined>): Detection {
  const candidates: Detection['candidates'] = [];
  let best: { exercise: Exercise; analysis: RepAnalysis } | undefined;
  for (const exercise of EXERCISES) {
    const analysis = findReps(kin, PROFILES[exercise], views);
    const counted = analysis.reps.filter((r) => r.counted);
    const rejected = counted.length === 0 ? 'no repetitions' : PLAUSIBLE[exercise](kin, counted);
    candidates.push({ exercise, reps: analysis.counted, ...(rejected ? { rejected } : {}) });
    if (rejected) continue;
    if (
      !best ||
      analysis.counted > best.analysis.counted ||
      (analysis.counted === best.analysis.counted && TIE_ORDER.indexOf(exercise) < TIE_ORDER.indexOf(best.exercise))
    ) {
      best = { exercise, analysis };
    }
  }
  return { exercise: best?.exercise ?? null, analysis: best?.analysis ?? null, candidates };
}

function upright(kin: Kinematics, reps: Rep[]): string | undefined {
  return median(reps, (r) => angleAt(kin, 'trunkLean', r.startFrame)) >= 50 ? 'body is not upright' : undefined;
}

/**
 * Ankles apart front-to-back by more than 0.8 trunk lengths at the bottom. Only a side view
 * shows this: from the front, ankle distance is stance width.
 */
function feetSplit(kin: Kinematics, reps: Rep[]): boolean {
  const sideOn = reps.filter((r) => r.view === 'side');
  return (
    median(sideOn, (r) => {
      const l = midpoint(kin, KP.left_ankle, KP.left_ankle, r.turnFrame);
      const rr = midpoint(kin, KP.right_ankle, KP.right_ankle, r.turnFrame);
      const hip = midpoint(kin, KP.left_hip, KP.right_hip, r.turnFrame);
      const sh = midpoint(kin, KP.left_shoulder, KP.right_shoulder, r.turnFrame);
      return Math.abs(l.x - rr.x) / Math.hypot(hip.x - sh.x, hip.y - sh.y);
    }) > 0.8
  );
}

function median(reps: Rep[], f: (r: Rep) => number): number {
  const values = reps
    .map(f)
    .filter((v) => !Number.isNaN(v))
    .sort((a, b) => a - b);
  if (values.length === 0) return Number.NaN;
  const mid = values.length >> 1;
  return values.length % 2 ? (values[mid] as number) : ((values[mid - 1] as number) + (values[mid] as number)) / 2;
}
