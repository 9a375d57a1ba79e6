/**
 * The report's JSON schema (TypeBox: one definition gives both the TypeScript type and
 * the JSON Schema published as report.schema.json). Bump REPORT_VERSION on any breaking change.
 */
import { type Static, Type as T, type TSchema } from '@sinclair/typebox';

export const REPORT_VERSION = '1.0.0';

const Nullable = <S extends TSchema>(s: S) => T.Union([s, T.Null()]);
const Sided = T.Object({ left: Nullable(T.Number()), right: Nullable(T.Number()) });

export const RepSchema = T.Object({
  number: Nullable(T.Integer({ description: '1-based number among counted reps; null when partial' })),
  counted: T.Boolean(),
  partialReason: T.Optional(T.String()),
  startSeconds: T.Number(),
  turnSeconds: T.Number({ description: 'Turning point: bottom of a squat, top of a curl, lockout of a deadlift' }),
  endSeconds: T.Number(),
  eccentricSeconds: T.Number({ description: 'Lowering (muscle lengthening) phase' }),
  concentricSeconds: T.Number({ description: 'Lifting (muscle shortening) phase' }),
  rangeOfMotionDegrees: T.Number({ description: 'Driving angle, max − min within the rep' }),
  turnAngleDegrees: T.Number({ description: 'Driving angle at the turning point' }),
  anglesAtTurn: T.Record(T.String(), Sided, { description: 'Every joint angle at the turning point, per side' }),
  view: T.String(),
  asymmetryDegrees: Nullable(T.Number({ description: '|left − right| driving angle at the turn; front view only' })),
});

export const FaultSchema = T.Object({
  id: T.String(),
  title: T.String(),
  severity: T.Union([T.Literal('low'), T.Literal('moderate'), T.Literal('high')]),
  reps: T.Array(T.Integer()),
  threshold: T.String(),
  source: T.String(),
  cue: T.String(),
});

export const ReportSchema = T.Object({
  reportVersion: T.Literal(REPORT_VERSION),
  generatedAt: T.String({ description: 'ISO 8601 date-time' }),
  engine: T.Object({
    version: T.String(),
    model: T.String(),
    backend: T.String({ description: 'TensorFlow.js backend that ran: tensorflow-gpu, tensorflow or wasm' }),
    backendPackage: T.String(),
    workers: T.Integer(),
  }),
  video: T.Object({
    file: T.String(),
    container: T.String(),
    codec: T.String(),
    width: T.Integer(),
    height: T.Integer(),
    rotation: T.Number(),
    fps: T.Number(),
    durationSeconds: T.Number(),
    bytes: T.Integer(),
  }),
  analysis: T.Object({
    sampledFps: T.Number(),
    framesAnalysed: T.Integer(),
    framesWithPerson: T.Integer(),
    exerciseRequested: T.String(),
    view: T.String({ description: 'side, front, mixed or unknown' }),
    facing: T.String(),
    angleConventions: T.String(),
    autoDetection: T.Optional(
      T.Array(T.Object({ exercise: T.String(), reps: T.Integer(), rejected: T.Optional(T.String()) })),
    ),
  }),
  summary: T.Object({
    exercise: Nullable(T.String()),
    reps: T.Integer({ description: 'Counted (complete) repetitions' }),
    partialReps: T.Integer(),
    message: T.String({ description: 'One sentence for the user' }),
    score: Nullable(T.Integer({ minimum: 0, maximum: 100 })),
    durationSeconds: T.Number(),
    meanRangeOfMotionDegrees: Nullable(T.Number()),
    meanEccentricSeconds: Nullable(T.Number()),
    meanConcentricSeconds: Nullable(T.Number()),
    faults: T.Array(T.String(), { description: 'Fault ids, details under faults' }),
  }),
  reps: T.Array(RepSchema),
  faults: T.Array(FaultSchema),
  faultsNotChecked: T.Array(T.Object({ id: T.String(), reason: T.String() })),
  score: T.Object({
    value: Nullable(T.Integer()),
    deductions: T.Array(T.Object({ faultId: T.String(), points: T.Number(), reason: T.String() })),
    explanation: T.String(),
  }),
  files: T.Object({
    report: T.String(),
    framesCsv: T.String(),
    chart: Nullable(T.String()),
    thumbnails: T.Array(T.String()),
    annotatedVideo: Nullable(T.String()),
  }),
});

export type Report = Static<typeof ReportSchema>;
