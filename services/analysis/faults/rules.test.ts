import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Point } from '../kinematics/angles.js';
import type { Kinematics } from '../kinematics/series.js';
import { EXERCISES, type Exercise } from '../reps/exercises.js';
import { angleAt, type Rep } from '../reps/find-reps.js';
import { kinematicsOf, makeRep, type Pose, sideOn, toward } from '../testing/builders.js';
import { assessForm, SEVERITY_POINTS } from './evaluate.js';
import { FAULT_RULES, type FaultRule } from './rules.js';

function rule(exercise: Exercise, id: string): FaultRule {
  const found = FAULT_RULES[exercise].find((r) => r.id === id);
  assert.ok(found, `${exercise} has no rule ${id}`);
  return found;
}

/** Whether `id` fires on a single rep turning at frame 5 of the kinematics. */
function fires(exercise: Exercise, id: string, kin: Kinematics, rep: Partial<Rep> = {}): boolean {
  const r = makeRep(rep);
  return rule(exercise, id).test(kin, r, [r]);
}

const THIGH = 100;
const KNEE: Point = { x: 300, y: 400 };

/** Side-on squat bottom: the hip centre `above` thigh lengths above the knee centre (negative: below). */
function squatDepth(above: number): Kinematics {
  const hip = { x: KNEE.x - THIGH * Math.sqrt(1 - above * above), y: KNEE.y - above * THIGH };
  return kinematicsOf(
    sideOn({ shoulder: { x: hip.x + 40, y: hip.y - 140 }, hip, knee: KNEE, ankle: { x: 280, y: 490 } }),
  );
}

/** Side-on squat bottom with the trunk and shin leaning by the given angles from vertical. */
function squatLean(trunkDeg: number, shinDeg: number): Kinematics {
  const ankle = { x: 300, y: 500 };
  const knee = toward(ankle, 100, shinDeg);
  const hip = { x: knee.x - 100, y: knee.y };
  return kinematicsOf(sideOn({ shoulder: toward(hip, 150, trunkDeg), hip, knee, ankle }));
}

/** Front view at the bottom of a squat: knees `ratio` × the ankles' 100 px width apart. */
function kneesApart(ratio: number): Kinematics {
  const mid = 300;
  const half = (w: number) => [mid + w / 2, mid - w / 2] as const;
  const [lk, rk] = half(100 * ratio);
  const [lh, rh] = half(90);
  const [ls, rs] = half(110);
  const [la, ra] = half(100);
  return kinematicsOf({
    left_shoulder: { x: ls, y: 150 },
    right_shoulder: { x: rs, y: 150 },
    left_hip: { x: lh, y: 320 },
    right_hip: { x: rh, y: 320 },
    left_knee: { x: lk, y: 360 },
    right_knee: { x: rk, y: 360 },
    left_ankle: { x: la, y: 470 },
    right_ankle: { x: ra, y: 470 },
  });
}

/** A knee bent to `degrees`, the shin vertical. */
function leg(knee: Point, degrees: number) {
  return { hip: toward(knee, 100, 180 - degrees), knee, ankle: { x: knee.x, y: knee.y + 100 } };
}

/** Lunge bottom, front (left) knee and back (right) knee at the given angles. */
function lunge(frontKnee: number, backKnee: number): Kinematics {
  const front = leg({ x: 350, y: 400 }, frontKnee);
  const back = leg({ x: 250, y: 420 }, backKnee);
  return kinematicsOf({
    left_shoulder: { x: 300, y: 150 },
    right_shoulder: { x: 300, y: 150 },
    left_hip: front.hip,
    right_hip: back.hip,
    left_knee: front.knee,
    right_knee: back.knee,
    left_ankle: front.ankle,
    right_ankle: back.ankle,
  });
}

/** Push-up plank seen side-on, shoulder–hip–ankle at `bodyLine` degrees, hips low (sag) or high (pike). */
function plank(bodyLine: number, hips: 'low' | 'high', elbow = 90): Kinematics {
  const shoulder = { x: 200, y: 300 };
  const drop = 200 * Math.tan((((180 - bodyLine) / 2) * Math.PI) / 180);
  const hip = { x: 400, y: 300 + (hips === 'low' ? drop : -drop) };
  const elbowPt = toward(shoulder, 80, 180);
  return kinematicsOf(
    sideOn({ shoulder, hip, ankle: { x: 600, y: 300 }, elbow: elbowPt, wrist: toward(elbowPt, 80, elbow) }),
  );
}

/** Standing, trunk leaning `lean` degrees, upper arm `arm` degrees away from the trunk. */
function standing(lean: number, arm = 10): Pose {
  const hip = { x: 300, y: 300 };
  const shoulder = toward(hip, 150, lean);
  const elbow = toward(shoulder, 80, 180 + lean - arm);
  return sideOn({
    shoulder,
    elbow,
    wrist: toward(elbow, 80, lean - arm + 30),
    hip,
    knee: { x: 300, y: 400 },
    ankle: { x: 300, y: 500 },
  });
}

describe('squat rules', () => {
  it("flags a squat whose hips stay 20% of a thigh above the knee as 'above parallel'", () => {
    assert.equal(fires('squat', 'squat-depth', squatDepth(0.2)), true);
  });

  it('passes a squat with the hip centre 10% of a thigh above the knee (crease at the top of the knee) or below it', () => {
    assert.equal(fires('squat', 'squat-depth', squatDepth(0.1)), false);
    assert.equal(fires('squat', 'squat-depth', squatDepth(-0.1)), false);
  });

  it('flags knees that cave in to 70% of the ankle width, not 90%', () => {
    assert.equal(fires('squat', 'knee-valgus', kneesApart(0.7), { view: 'front' }), true);
    assert.equal(fires('squat', 'knee-valgus', kneesApart(0.9), { view: 'front' }), false);
  });

  it('flags a trunk leaning 22° more than the shin, not 18° more', () => {
    const leaning = squatLean(47, 25);
    assert.ok(
      Math.abs(angleAt(leaning, 'trunkLean', 5) - 47) < 0.01 && Math.abs(angleAt(leaning, 'shin', 5) - 25) < 0.01,
    );
    assert.equal(fires('squat', 'trunk-lean', leaning), true);
    assert.equal(fires('squat', 'trunk-lean', squatLean(43, 25)), false);
  });
});

describe('lunge rules', () => {
  it('flags a lunge whose bent knee stays at 115°, not one that reaches 105°', () => {
    assert.equal(fires('lunge', 'lunge-depth', lunge(115, 125)), true);
    assert.equal(fires('lunge', 'lunge-depth', lunge(105, 125)), false);
  });
});

describe('push-up rules', () => {
  it('flags sagging hips at a 150° body line, not at 170°', () => {
    assert.equal(fires('pushup', 'hip-sag', plank(150, 'low')), true);
    assert.equal(fires('pushup', 'hip-sag', plank(170, 'low')), false);
    assert.equal(fires('pushup', 'hip-sag', plank(150, 'high')), false);
  });

  it('flags piked hips at a 150° body line, not at 170°', () => {
    assert.equal(fires('pushup', 'hip-pike', plank(150, 'high')), true);
    assert.equal(fires('pushup', 'hip-pike', plank(170, 'high')), false);
    assert.equal(fires('pushup', 'hip-pike', plank(150, 'low')), false);
  });

  it('flags a push-up whose elbows only bend to 105°, not one that reaches 95°', () => {
    const elbowAtTurn = (kin: Kinematics) => ({ turnAngleDegrees: Math.round(angleAt(kin, 'elbow', 5)) });
    const shallow = plank(175, 'low', 105);
    const deep = plank(175, 'low', 95);
    assert.deepEqual(elbowAtTurn(shallow), { turnAngleDegrees: 105 });
    assert.equal(fires('pushup', 'pushup-depth', shallow, elbowAtTurn(shallow)), true);
    assert.equal(fires('pushup', 'pushup-depth', deep, elbowAtTurn(deep)), false);
  });
});

describe('deadlift rules', () => {
  it('flags a lockout with the trunk still 18° from vertical, not 12°', () => {
    assert.equal(fires('deadlift', 'incomplete-lockout', kinematicsOf(standing(18))), true);
    assert.equal(fires('deadlift', 'incomplete-lockout', kinematicsOf(standing(12))), false);
  });
});

describe('curl rules', () => {
  it('flags an elbow drifting 30° in front of the trunk at the top, not 20°', () => {
    assert.equal(fires('curl', 'elbow-drift', kinematicsOf(standing(0, 30))), true);
    assert.equal(fires('curl', 'elbow-drift', kinematicsOf(standing(0, 20))), false);
  });

  it('flags a curl where the trunk swings through 12°, not 8°', () => {
    // One slow sway (2 s) of the trunk over the rep's 31 frames, out and back.
    const sway = (amplitude: number) =>
      kinematicsOf(
        Array.from({ length: 31 }, (_, i) => standing((amplitude / 2) * (1 - Math.cos((2 * Math.PI * i) / 30)))),
      );
    const rep = { startFrame: 0, turnFrame: 15, endFrame: 30 };
    assert.equal(fires('curl', 'body-swing', sway(12), rep), true);
    assert.equal(fires('curl', 'body-swing', sway(8), rep), false);
  });
});

describe('jumping jack and lateral raise rules', () => {
  const armsAt = (degrees: number) => {
    const kin = kinematicsOf(standing(0, degrees));
    return [kin, { turnAngleDegrees: Math.round(angleAt(kin, 'shoulder', 5)) }] as const;
  };

  it('flags jumping-jack arms that stop at 135°, not at 145°', () => {
    assert.equal(fires('jumping_jack', 'arms-not-overhead', ...armsAt(135)), true);
    assert.equal(fires('jumping_jack', 'arms-not-overhead', ...armsAt(145)), false);
  });

  it('flags a lateral raise above shoulder height at 115°, not 105°', () => {
    assert.equal(fires('lateral_raise', 'raise-too-high', ...armsAt(115)), true);
    assert.equal(fires('lateral_raise', 'raise-too-high', ...armsAt(105)), false);
  });

  it('flags a lateral raise that stops at 65°, not 75°', () => {
    assert.equal(fires('lateral_raise', 'raise-too-low', ...armsAt(65)), true);
    assert.equal(fires('lateral_raise', 'raise-too-low', ...armsAt(75)), false);
  });
});

describe('partial range of motion (every exercise)', () => {
  it("flags a rep under 70% of the set's median range: 69° among 100° reps, not 71°", () => {
    const kin = kinematicsOf(standing(0));
    const set = (last: number) =>
      [100, 100, 100, last].map((rom, i) => makeRep({ number: i + 1, rangeOfMotionDegrees: rom }));
    for (const exercise of EXERCISES) {
      const partial = rule(exercise, 'partial-range');
      const short = set(69);
      const fine = set(71);
      assert.equal(partial.test(kin, short[3] as Rep, short), true, exercise);
      assert.equal(partial.test(kin, fine[3] as Rep, fine), false, exercise);
      assert.equal(partial.test(kin, short[0] as Rep, short), false, exercise);
    }
  });
});

describe('FAULT_RULES coverage', () => {
  it('has a test above for every rule', () => {
    const tested = new Set([
      'squat-depth',
      'knee-valgus',
      'trunk-lean',
      'partial-range',
      'lunge-depth',
      'hip-sag',
      'hip-pike',
      'pushup-depth',
      'incomplete-lockout',
      'elbow-drift',
      'body-swing',
      'arms-not-overhead',
      'raise-too-high',
      'raise-too-low',
    ]);
    const all = new Set(Object.values(FAULT_RULES).flatMap((rules) => rules.map((r) => r.id)));
    assert.deepEqual([...all].sort(), [...tested].sort());
  });
});

describe('assessForm', () => {
  const reps = (view: 'side' | 'front', roms: number[]) =>
    roms.map((rom, i) => makeRep({ number: i + 1, rangeOfMotionDegrees: rom, view }));

  it('scores a set of good side-on squats 100 with nothing deducted, ignoring reps that were not counted', () => {
    const good = squatDepth(-0.1);
    const partial = makeRep({ number: null, counted: false, partialReason: 'cut off', rangeOfMotionDegrees: 10 });
    const result = assessForm(good, 'squat', [...reps('side', [100, 98, 102]), partial]);
    assert.equal(result.score, 100);
    assert.deepEqual(result.faults, []);
    assert.deepEqual(result.deductions, []);
  });

  it('lists every deduction, and they add up to what the score lost', () => {
    const shallow = squatDepth(0.2);
    const result = assessForm(shallow, 'squat', reps('side', [100, 100, 60]));
    assert.deepEqual(
      result.faults.map((f) => [f.id, f.reps]),
      [
        ['squat-depth', [1, 2, 3]],
        ['partial-range', [3]],
      ],
    );
    const moderate = SEVERITY_POINTS.moderate;
    assert.deepEqual(
      result.deductions.map((d) => [d.faultId, d.points]),
      [
        ['squat-depth', moderate],
        ['partial-range', Math.round(moderate / 3)],
      ],
    );
    assert.equal(result.score, 100 - moderate - Math.round(moderate / 3));
    assert.equal(
      result.deductions.reduce((sum, d) => sum + d.points, 0),
      100 - (result.score ?? 0),
    );
    assert.match(result.deductions[0]?.reason ?? '', /3 of 3 reps/);
  });

  it('says which rules it could not check because the reps were filmed from the wrong side', () => {
    const side = assessForm(squatDepth(-0.1), 'squat', reps('side', [100, 100]));
    assert.deepEqual(
      side.notChecked.map((n) => n.id),
      ['knee-valgus'],
    );
    assert.match(side.notChecked[0]?.reason ?? '', /front view/);

    const front = assessForm(kneesApart(0.7), 'squat', reps('front', [100, 100]));
    assert.deepEqual(
      front.notChecked.map((n) => n.id),
      ['squat-depth', 'trunk-lean'],
    );
    assert.deepEqual(
      front.faults.map((f) => f.id),
      ['knee-valgus'],
    );
    assert.equal(front.score, 100 - SEVERITY_POINTS.high);
  });

  it('gives no score when no rep was counted', () => {
    const result = assessForm(squatDepth(0.2), 'squat', [makeRep({ number: null, counted: false })]);
    assert.equal(result.score, null);
    assert.deepEqual(result.faults, []);
    assert.deepEqual(result.notChecked, []);
  });
});
