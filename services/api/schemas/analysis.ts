/**
 * Request and response shapes of /v1/analyses, in TypeBox: they validate requests, serialise
 * responses and become the OpenAPI document. Exercise names come from the engine's list, the
 * same one the VideoAnalysis CRD uses.
 */
import { type Static, Type as T } from '@sinclair/typebox';
import { EXERCISE_VALUES, VideoAnalysisSpec } from '../../platform/kube/video-analysis.js';

/**
 * Request fields that mean the same as in a VideoAnalysis come from its schema (the one source
 * of truth, which also yields the CRD), so the API accepts exactly what the cluster accepts.
 */
const spec = VideoAnalysisSpec.properties;
export const ExerciseChoice = spec.exercise;
const SamplingFps = spec.sampling.properties.fps;

export const AnalysisStatus = T.Union([
  T.Literal('queued'),
  T.Literal('running'),
  T.Literal('succeeded'),
  T.Literal('failed'),
  T.Literal('cancelled'),
]);

export const CreateAnalysisBody = T.Object(
  {
    uploadId: T.String({ format: 'uuid', description: 'A ready upload of yours (POST /v1/uploads).' }),
    exercise: ExerciseChoice,
    fps: T.Optional(SamplingFps),
  },
  { additionalProperties: false },
);
export type CreateAnalysisBody = Static<typeof CreateAnalysisBody>;

export const AnalysisSummarySchema = T.Object(
  {
    exercise: T.String(),
    reps: T.Integer(),
    durationSeconds: T.Number(),
    score: T.Union([T.Integer(), T.Null()]),
    faults: T.Array(T.Unknown()),
  },
  { additionalProperties: true },
);

export const AnalysisViewSchema = T.Object({
  id: T.String({ format: 'uuid' }),
  status: AnalysisStatus,
  exercise: T.String(),
  fps: T.Integer(),
  uploadId: T.Union([T.String({ format: 'uuid' }), T.Null()]),
  dispatch: T.String(),
  progress: T.Union([
    T.Object({ framesDone: T.Integer(), framesTotal: T.Integer(), percent: T.Number({ minimum: 0, maximum: 100 }) }),
    T.Null(),
  ]),
  summary: T.Union([AnalysisSummarySchema, T.Null()]),
  message: T.Union([T.String(), T.Null()]),
  errorCode: T.Union([T.String(), T.Null()]),
  attempts: T.Integer(),
  resource: T.Union([T.String(), T.Null()]),
  createdAt: T.String({ format: 'date-time' }),
  updatedAt: T.String({ format: 'date-time' }),
  startedAt: T.Union([T.String({ format: 'date-time' }), T.Null()]),
  finishedAt: T.Union([T.String({ format: 'date-time' }), T.Null()]),
});

export const AnalysisListQuery = T.Object(
  {
    limit: T.Optional(T.Integer({ minimum: 1, maximum: 100, default: 20 })),
    cursor: T.Optional(T.String({ maxLength: 200, description: 'nextCursor of the previous page.' })),
    status: T.Optional(AnalysisStatus),
    // The create body's choice without its default: an absent filter means every exercise
    // (with the default, Ajv filled in 'auto' and a plain list hid every named exercise).
    exercise: T.Optional(
      T.Unsafe<Static<typeof ExerciseChoice>>({
        type: 'string',
        enum: [...EXERCISE_VALUES],
        description: 'Only this exercise.',
      }),
    ),
    createdAfter: T.Optional(T.String({ format: 'date-time' })),
    createdBefore: T.Optional(T.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);
export type AnalysisListQuery = Static<typeof AnalysisListQuery>;

export const AnalysisListSchema = T.Object({
  items: T.Array(AnalysisViewSchema),
  nextCursor: T.Union([T.String(), T.Null()], { description: 'Pass as cursor for the next page; null at the end.' }),
});

export const ArtifactsSchema = T.Object({
  report: T.String({ description: 'Presigned URL of report.json.' }),
  framesCsv: T.String({ description: 'Presigned URL of frames.csv (per-frame keypoints and angles).' }),
  thumbnails: T.Array(T.String(), { description: 'Presigned URLs of the key-frame thumbnails, in rep order.' }),
  expiresAt: T.String({ format: 'date-time' }),
});

export const IdParams = T.Object({ id: T.String({ format: 'uuid' }) });
