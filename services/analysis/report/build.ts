/** Assembles the versioned report from the engine's results. */
import { createRequire } from 'node:module';
import type { Assessment } from '../faults/evaluate.js';
import type { Kinematics } from '../kinematics/series.js';
import type { ClipView } from '../kinematics/view.js';
import type { VideoInfo } from '../media/probe.js';
import type { Detection } from '../reps/auto-detect.js';
import type { Exercise, ExerciseChoice, ExerciseProfile } from '../reps/exercises.js';
import type { Rep } from '../reps/find-reps.js';
import { REPORT_VERSION, type Report } from './schema.js';

const pkg = createRequire(import.meta.url)('../../../package.json') as { version: string };

export const ANGLE_CONVENTIONS =
  'Degrees. knee = hip–knee–ankle, hip = shoulder–hip–knee, elbow = shoulder–elbow–wrist: interior angles, 180° = straight limb. ' +
  'shoulder = hip–shoulder–elbow: 0° arm along the trunk, 180° overhead. trunkLean = hip→shoulder against vertical, 0° upright. ' +
  'shin = ankle→knee against vertical. Left/right are the person’s own sides.';

export interface BuildArgs {
  info: VideoInfo;
  kin: Kinematics;
  exerciseRequested: ExerciseChoice;
  exercise: Exercise | null;
  profile: ExerciseProfile | null;
  reps: Rep[];
  noMovement: string | undefined;
  assessment: Assessment | null;
  detection: Detection | undefined;
  clipView: ClipView;
  facing: string;
  engine: { model: string; backend: string; backendPackage: string; workers: number };
  files: Report['files'];
}

export function buildReport(a: BuildArgs): Report {
  const counted = a.reps.filter((r) => r.counted);
  const partial = a.reps.length - counted.length;
  const mean = (f: (r: Rep) => number) =>
    counted.length === 0 ? null : Math.round((counted.reduce((s, r) => s + f(r), 0) / counted.length) * 100) / 100;
  const framesWithPerson = a.kin.poses.filter((p) => meanScore(p.score) >= 0.3).length;
  const score = a.assessment?.score ?? null;
  return {
    reportVersion: REPORT_VERSION,
    generatedAt: new Date().toISOString(),
    engine: { version: pkg.version, ...a.engine },
    video: {
      file: a.info.file,
      container: a.info.container,
      codec: a.info.codec,
      width: a.info.width,
      height: a.info.height,
      rotation: a.info.rotation,
      fps: Math.round(a.info.fps * 1000) / 1000,
      durationSeconds: Math.round(a.info.durationSeconds * 1000) / 1000,
      bytes: a.info.bytes,
    },
    analysis: {
      sampledFps: a.kin.fps,
      framesAnalysed: a.kin.time.length,
      framesWithPerson,
      exerciseRequested: a.exerciseRequested,
      view: a.clipView,
      facing: a.facing,
      angleConventions: ANGLE_CONVENTIONS,
      ...(a.detection ? { autoDetection: a.detection.candidates } : {}),
    },
    summary: {
      exercise: a.exercise,
      reps: counted.length,
      partialReps: partial,
      message: message(a, counted.length, partial, framesWithPerson),
      score,
      durationSeconds: Math.round(a.info.durationSeconds * 100) / 100,
      meanRangeOfMotionDegrees: mean((r) => r.rangeOfMotionDegrees),
      meanEccentricSeconds: mean((r) => r.eccentricSeconds),
      meanConcentricSeconds: mean((r) => r.concentricSeconds),
      faults: a.assessment?.faults.map((f) => f.id) ?? [],
    },
    reps: a.reps.map(({ startFrame: _s, turnFrame: _t, endFrame: _e, ...rep }) => rep),
    faults: a.assessment?.faults ?? [],
    faultsNotChecked: a.assessment?.notChecked ?? [],
    score: {
      value: score,
      deductions: a.assessment?.deductions ?? [],
      explanation:
        score === null
          ? 'No score: there are no complete repetitions to assess.'
          : `100 points, minus each fault's severity weight (low 5, moderate 12, high 20) scaled by the share of reps it appeared in.`,
    },
    files: a.files,
  };
}

function message(a: BuildArgs, reps: number, partial: number, framesWithPerson: number): string {
  if (framesWithPerson === 0) return 'No person was found in the video.';
  const partialNote = partial > 0 ? ` (${partial} partial rep${partial > 1 ? 's' : ''} not counted)` : '';
  if (!a.exercise)
    return 'No exercise repetitions were found: the movement in this video does not repeat like an exercise.';
  const label = a.profile?.label ?? a.exercise;
  if (reps === 0)
    return `No complete ${label.toLowerCase()} repetitions were found${a.noMovement ? `: ${a.noMovement}` : ''}${partialNote}.`;
  return `${reps} ${label.toLowerCase()} rep${reps > 1 ? 's' : ''}${partialNote}.`;
}

function meanScore(scores: Float32Array): number {
  let s = 0;
  for (const v of scores) s += v;
  return s / scores.length;
}
