/**
 * Form-fault rules. Each rule looks at one counted rep and says whether the fault is
 * present; thresholds are named constants with the source they come from, so a coach can
 * check them. Rules that need a particular camera view skip reps filmed from another one.
 */
import { midpoint } from '../kinematics/body.js';
import type { Kinematics } from '../kinematics/series.js';
import { KP } from '../pose/keypoints.js';
import type { Exercise } from '../reps/exercises.js';
import { angleAt, type Rep } from '../reps/find-reps.js';

export type Severity = 'low' | 'moderate' | 'high';

export interface FaultRule {
  id: string;
  title: string;
  /** Human-readable statement of the threshold. */
  threshold: string;
  source: string;
  severity: Severity;
  /** Advice shown with the fault. */
  cue: string;
  /** The camera view the rule needs; others are skipped. */
  view?: 'side' | 'front';
  /** True when the fault is present in this rep; NaN measurements never fire. */
  test: (kin: Kinematics, rep: Rep, set: Rep[]) => boolean;
}

/**
 * Squat depth: the hip crease must reach the top of the knee. MoveNet marks joint centres,
 * not skin landmarks: the crease sits below the hip centre and the top of the knee above the
 * knee centre, each by roughly 8–10 % of thigh length, so "crease at top of knee" is the hip
 * centre up to 15 % of thigh length above the knee centre.
 */
export const SQUAT_DEPTH_MIN_HIP_BELOW_KNEE = -0.15;
/** Knee valgus: knees closer together than 80 % of the ankles' width at the bottom. */
export const VALGUS_KNEE_TO_ANKLE_RATIO = 0.8;
/** Trunk lean more than 20° past the shin angle at the bottom of a squat. */
export const TRUNK_SHIN_MAX_DIFFERENCE = 20;
/** Push-up body line: shoulder–hip–ankle straighter than 160°. */
export const PUSHUP_BODY_LINE_MIN = 160;
/** Push-up depth: elbows to 100° or less. */
export const PUSHUP_ELBOW_MAX = 100;
/** Curl: upper arm within 25° of the trunk at the top. */
export const CURL_SHOULDER_MAX = 25;
/** Curl: trunk lean changing by more than 10° within a rep is swinging. */
export const CURL_SWING_MAX = 10;
/** Any exercise: a rep under 70 % of the set's median range of motion is partial. */
export const PARTIAL_ROM_FRACTION = 0.7;

const partialRange: FaultRule = {
  id: 'partial-range',
  title: 'Partial range of motion',
  threshold: `range of motion under ${PARTIAL_ROM_FRACTION * 100}% of the set's median`,
  source: 'ACSM Guidelines for Exercise Testing and Prescription, 11th ed.: full range of motion for each repetition',
  severity: 'moderate',
  cue: 'Finish every rep through the same full range.',
  test: (_kin, rep, set) =>
    rep.rangeOfMotionDegrees < PARTIAL_ROM_FRACTION * medianOf(set.map((r) => r.rangeOfMotionDegrees)),
};

function hipBelowKnee(kin: Kinematics, i: number): number {
  const hip = midpoint(kin, KP.left_hip, KP.right_hip, i);
  const knee = midpoint(kin, KP.left_knee, KP.right_knee, i);
  const thigh = Math.hypot(hip.x - knee.x, hip.y - knee.y);
  return (hip.y - knee.y) / thigh; // image y grows downwards: positive = hip lower than knee
}

function kneeToAnkleWidth(kin: Kinematics, i: number): number {
  const knees = Math.abs((kin.x[KP.left_knee]?.[i] ?? Number.NaN) - (kin.x[KP.right_knee]?.[i] ?? Number.NaN));
  const ankles = Math.abs((kin.x[KP.left_ankle]?.[i] ?? Number.NaN) - (kin.x[KP.right_ankle]?.[i] ?? Number.NaN));
  return knees / ankles;
}

/** Interior angle shoulder–hip–ankle, mean of both sides (180° = straight body line). */
function bodyLine(kin: Kinematics, i: number): number {
  const sh = midpoint(kin, KP.left_shoulder, KP.right_shoulder, i);
  const hip = midpoint(kin, KP.left_hip, KP.right_hip, i);
  const an = midpoint(kin, KP.left_ankle, KP.right_ankle, i);
  const ux = sh.x - hip.x;
  const uy = sh.y - hip.y;
  const vx = an.x - hip.x;
  const vy = an.y - hip.y;
  return (Math.atan2(Math.abs(ux * vy - uy * vx), ux * vx + uy * vy) * 180) / Math.PI;
}

/** Hip above (−) or below (+) the shoulder–ankle line, as a signed distance in pixels. */
function hipOffsetFromLine(kin: Kinematics, i: number): number {
  const sh = midpoint(kin, KP.left_shoulder, KP.right_shoulder, i);
  const hip = midpoint(kin, KP.left_hip, KP.right_hip, i);
  const an = midpoint(kin, KP.left_ankle, KP.right_ankle, i);
  const t = (hip.x - sh.x) / (an.x - sh.x);
  return hip.y - (sh.y + t * (an.y - sh.y));
}

function trunkRangeInRep(kin: Kinematics, rep: Rep): number {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = rep.startFrame; i <= rep.endFrame; i++) {
    const v = angleAt(kin, 'trunkLean', i);
    if (Number.isNaN(v)) continue;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return max - min;
}

export const FAULT_RULES: Readonly<Record<Exercise, readonly FaultRule[]>> = {
  squat: [
    {
      id: 'squat-depth',
      title: 'Squat above parallel',
      threshold:
        'hip crease stays above the top of the knee at the bottom (hip centre over 15% of thigh length above the knee centre)',
      source:
        'NSCA Essentials of Strength Training and Conditioning, 4th ed., back squat technique (thighs parallel to the floor)',
      severity: 'moderate',
      cue: 'Sit down until your hips are level with your knees.',
      view: 'side',
      test: (kin, rep) => hipBelowKnee(kin, rep.turnFrame) < SQUAT_DEPTH_MIN_HIP_BELOW_KNEE,
    },
    {
      id: 'knee-valgus',
      title: 'Knees cave in (valgus)',
      threshold: `knee width under ${VALGUS_KNEE_TO_ANKLE_RATIO * 100}% of ankle width at the bottom`,
      source:
        'Hewett et al., Am J Sports Med 2005;33(4):492–501 (dynamic knee valgus); Munro et al. 2012, frontal-plane projection',
      severity: 'high',
      cue: 'Push your knees out over your toes.',
      view: 'front',
      test: (kin, rep) => kneeToAnkleWidth(kin, rep.turnFrame) < VALGUS_KNEE_TO_ANKLE_RATIO,
    },
    {
      id: 'trunk-lean',
      title: 'Excessive forward trunk lean',
      threshold: `trunk leans over ${TRUNK_SHIN_MAX_DIFFERENCE}° more than the shin at the bottom`,
      source: 'Myer et al., Strength Cond J 2014;36(6):4–27, back squat assessment (trunk parallel to tibia)',
      severity: 'moderate',
      cue: 'Keep your chest up; trunk and shins roughly parallel.',
      view: 'side',
      test: (kin, rep) =>
        angleAt(kin, 'trunkLean', rep.turnFrame) - angleAt(kin, 'shin', rep.turnFrame) > TRUNK_SHIN_MAX_DIFFERENCE,
    },
    partialRange,
  ],
  lunge: [
    {
      id: 'lunge-depth',
      title: 'Shallow lunge',
      threshold: 'front knee stays above 110° at the bottom',
      source:
        'NSCA Exercise Technique Manual for Resistance Training, 3rd ed., forward lunge (front thigh near parallel)',
      severity: 'moderate',
      cue: 'Lower until your front thigh is close to parallel.',
      test: (kin, rep) =>
        Math.min(
          kin.angles.knee.left[rep.turnFrame] ?? Number.NaN,
          kin.angles.knee.right[rep.turnFrame] ?? Number.NaN,
        ) > 110,
    },
    partialRange,
  ],
  pushup: [
    {
      id: 'hip-sag',
      title: 'Hips sag',
      threshold: `shoulder–hip–ankle line bends below ${PUSHUP_BODY_LINE_MIN}° with the hips low`,
      source: 'ACSM Guidelines for Exercise Testing and Prescription, 11th ed., push-up test (rigid, straight body)',
      severity: 'high',
      cue: 'Brace your core and squeeze your glutes to keep a straight line.',
      view: 'side',
      test: (kin, rep) =>
        bodyLine(kin, rep.turnFrame) < PUSHUP_BODY_LINE_MIN && hipOffsetFromLine(kin, rep.turnFrame) > 0,
    },
    {
      id: 'hip-pike',
      title: 'Hips pike up',
      threshold: `shoulder–hip–ankle line bends below ${PUSHUP_BODY_LINE_MIN}° with the hips high`,
      source: 'ACSM Guidelines for Exercise Testing and Prescription, 11th ed., push-up test (rigid, straight body)',
      severity: 'moderate',
      cue: 'Lower your hips into a straight line from shoulders to ankles.',
      view: 'side',
      test: (kin, rep) =>
        bodyLine(kin, rep.turnFrame) < PUSHUP_BODY_LINE_MIN && hipOffsetFromLine(kin, rep.turnFrame) < 0,
    },
    {
      id: 'pushup-depth',
      title: 'Push-up not deep enough',
      threshold: `elbows stay above ${PUSHUP_ELBOW_MAX}° at the bottom`,
      source: 'ACSM Guidelines for Exercise Testing and Prescription, 11th ed., push-up test (elbows to 90°)',
      severity: 'moderate',
      cue: 'Lower your chest until your elbows reach 90°.',
      test: (_kin, rep) => rep.turnAngleDegrees > PUSHUP_ELBOW_MAX,
    },
    partialRange,
  ],
  deadlift: [
    {
      id: 'incomplete-lockout',
      title: 'Incomplete lockout',
      threshold: 'trunk still leans over 15° from vertical at the top',
      source:
        'NSCA Exercise Technique Manual for Resistance Training, 3rd ed., deadlift (stand fully erect at the top)',
      severity: 'low',
      cue: 'Finish tall: hips through, shoulders over the hips.',
      test: (kin, rep) => angleAt(kin, 'trunkLean', rep.turnFrame) > 15,
    },
    partialRange,
  ],
  curl: [
    {
      id: 'elbow-drift',
      title: 'Elbow drifts forward',
      threshold: `upper arm more than ${CURL_SHOULDER_MAX}° from the trunk at the top`,
      source:
        'NSCA Exercise Technique Manual for Resistance Training, 3rd ed., biceps curl (upper arms stay against the torso)',
      severity: 'low',
      cue: 'Pin your elbows to your sides.',
      view: 'side',
      test: (kin, rep) => angleAt(kin, 'shoulder', rep.turnFrame) > CURL_SHOULDER_MAX,
    },
    {
      id: 'body-swing',
      title: 'Body swing',
      threshold: `trunk angle changes by more than ${CURL_SWING_MAX}° within a rep`,
      source: 'NSCA Exercise Technique Manual for Resistance Training, 3rd ed., biceps curl (no torso movement)',
      severity: 'moderate',
      cue: 'Keep your torso still; lighten the weight if you need momentum.',
      test: (kin, rep) => trunkRangeInRep(kin, rep) > CURL_SWING_MAX,
    },
    partialRange,
  ],
  jumping_jack: [
    {
      id: 'arms-not-overhead',
      title: 'Arms not overhead',
      threshold: 'shoulder angle under 140° at the top',
      source: 'ACSM Resources for the Personal Trainer, 6th ed., jumping jack (hands meet overhead)',
      severity: 'low',
      cue: 'Bring your hands all the way overhead.',
      test: (_kin, rep) => rep.turnAngleDegrees < 140,
    },
    partialRange,
  ],
  lateral_raise: [
    {
      id: 'raise-too-high',
      title: 'Arms raised above shoulder height',
      threshold: 'shoulder angle over 110° at the top',
      source: 'NSCA Exercise Technique Manual for Resistance Training, 3rd ed., lateral raise (to shoulder level)',
      severity: 'low',
      cue: 'Stop when your arms are level with your shoulders.',
      test: (_kin, rep) => rep.turnAngleDegrees > 110,
    },
    {
      id: 'raise-too-low',
      title: 'Arms not raised to shoulder height',
      threshold: 'shoulder angle under 70° at the top',
      source: 'NSCA Exercise Technique Manual for Resistance Training, 3rd ed., lateral raise (to shoulder level)',
      severity: 'moderate',
      cue: 'Raise your arms until they are level with your shoulders.',
      test: (_kin, rep) => rep.turnAngleDegrees < 70,
    },
    partialRange,
  ],
};

function medianOf(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  if (v.length === 0) return 0;
  const mid = v.length >> 1;
  return v.length % 2 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
}
