/**
 * The engine end to end: probe → frames → poses → kinematics → reps → faults → report.
 * It touches only the local file system: no database, bucket, queue or cluster.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { EngineError } from './errors.js';
import { assessForm } from './faults/evaluate.js';
import { computeKinematics } from './kinematics/series.js';
import { facingDirection, summarizeView, viewPerFrame } from './kinematics/view.js';
import { DEFAULT_LIMITS, type InputLimits } from './limits.js';
import { probeVideo } from './media/probe.js';
import { writeArtifacts } from './output/write-artifacts.js';
import { extractPoses } from './pose/extract-poses.js';
import { MODEL_NAME } from './pose/model.js';
import { buildReport } from './report/build.js';
import type { Report } from './report/schema.js';
import { detectExercise } from './reps/auto-detect.js';
import { EXERCISES, type ExerciseChoice, PROFILES } from './reps/exercises.js';
import { findReps } from './reps/find-reps.js';

export interface AnalyzeOptions {
  exercise?: ExerciseChoice;
  /** Frames analysed per second of video (default 15). */
  fps?: number;
  /** Where report.json and the other files go. */
  outDir: string;
  /** Worker threads for decode + pose (default: one per core, at most 4). */
  workers?: number;
  annotate?: boolean;
  limits?: InputLimits;
  backend?: string;
  onProgress?: (progress: { stage: 'probe' | 'pose' | 'report'; framesDone: number; framesTotal: number }) => void;
  signal?: AbortSignal;
  /** Receives timing figures once the analysis is done (benchmarks, metrics). */
  onStats?: (stats: PipelineStats) => void;
}

export interface PipelineStats {
  frames: number;
  workers: number;
  /** Wall time of each stage, ms. */
  probeMs: number;
  poseWallMs: number;
  analysisMs: number;
  outputsMs: number;
  totalMs: number;
  /** Per frame: waiting for decoded pixels, and pose estimation, ms. */
  decodeWaitMs: number[];
  poseMs: number[];
}

export const DEFAULT_FPS = 15;

export async function analyzeVideo(file: string, options: AnalyzeOptions): Promise<Report> {
  const exercise = options.exercise ?? 'auto';
  if (exercise !== 'auto' && !EXERCISES.includes(exercise)) {
    throw new EngineError(
      'INVALID_OPTIONS',
      `Unknown exercise "${exercise}"; use one of ${EXERCISES.join(', ')} or auto.`,
    );
  }
  const fps = options.fps ?? DEFAULT_FPS;
  if (!(fps >= 1 && fps <= 60)) throw new EngineError('INVALID_OPTIONS', `fps must be between 1 and 60 (got ${fps}).`);
  const workers = options.workers ?? Math.min(4, availableParallelism());

  const started = performance.now();
  options.onProgress?.({ stage: 'probe', framesDone: 0, framesTotal: 0 });
  const info = await probeVideo(resolve(file), options.limits ?? DEFAULT_LIMITS);
  const probed = performance.now();
  const extraction = await extractPoses(info, {
    fps,
    workers,
    ...(options.backend ? { backend: options.backend } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    onProgress: (framesDone, framesTotal) => options.onProgress?.({ stage: 'pose', framesDone, framesTotal }),
  });
  const posed = performance.now();
  const kin = computeKinematics(extraction.poses, fps);
  const views = viewPerFrame(kin);

  const detection = exercise === 'auto' ? detectExercise(kin, views) : undefined;
  const chosen = exercise === 'auto' ? (detection?.exercise ?? null) : exercise;
  const profile = chosen ? PROFILES[chosen] : null;
  const repAnalysis = detection?.analysis ?? (profile ? findReps(kin, profile, views) : null);
  const reps = repAnalysis?.reps ?? [];
  const assessment = chosen ? assessForm(kin, chosen, reps) : null;

  const analysed = performance.now();
  options.onProgress?.({ stage: 'report', framesDone: kin.time.length, framesTotal: kin.time.length });
  const outDir = resolve(options.outDir);
  await mkdir(outDir, { recursive: true });
  const files = await writeArtifacts({
    outDir,
    info,
    kin,
    driving: repAnalysis?.signal ?? new Float64Array(kin.time.length).fill(Number.NaN),
    profile,
    reps,
    annotate: options.annotate ?? false,
  });
  const reportPath = join(outDir, 'report.json');
  const report = buildReport({
    info,
    kin,
    exerciseRequested: exercise,
    exercise: chosen,
    profile,
    reps,
    noMovement: repAnalysis?.noMovement,
    assessment,
    detection,
    clipView: summarizeView(views),
    facing: facingDirection(kin),
    engine: {
      model: MODEL_NAME,
      backend: extraction.backend.name,
      backendPackage: extraction.backend.package,
      workers,
    },
    files: { report: reportPath, ...files },
  });
  await writeFile(reportPath, `${JSON.stringify(report, null, 2)}\n`);
  const done = performance.now();
  options.onStats?.({
    frames: kin.time.length,
    workers,
    probeMs: probed - started,
    poseWallMs: posed - probed,
    analysisMs: analysed - posed,
    outputsMs: done - analysed,
    totalMs: done - started,
    decodeWaitMs: extraction.decodeWaitMs,
    poseMs: extraction.poseMs,
  });
  return report;
}
