/**
 * Runs decode + pose estimation over a whole video. The clip is cut into `workers`
 * consecutive time segments, each handled by a worker thread with its own FFmpeg and
 * TensorFlow.js backend; results come back in order and are mapped from the square
 * analysis frame to the video's own pixels.
 */
import { Worker } from 'node:worker_threads';
import { ENGINE_ERROR_CODES, EngineError, type EngineErrorCode } from '../errors.js';
import type { VideoInfo } from '../media/probe.js';
import type { BackendChoice } from './backend.js';
import type { PoseFrame } from './keypoints.js';
import type { SegmentJob, WorkerMessage } from './segment-protocol.js';

/** Side of the square frames FFmpeg produces: twice the model input, so tracked crops stay sharp. */
export const ANALYSIS_FRAME_SIZE = 384;

export interface ExtractOptions {
  fps: number;
  workers: number;
  backend?: string;
  onProgress?: (framesDone: number, framesTotal: number) => void;
  signal?: AbortSignal;
}

export interface ExtractResult {
  poses: PoseFrame[];
  backend: BackendChoice;
  /** Per frame, all workers: time spent waiting for the decoder, and in pose estimation. */
  decodeWaitMs: number[];
  poseMs: number[];
}

export async function extractPoses(info: VideoInfo, options: ExtractOptions): Promise<ExtractResult> {
  const workers = Math.max(1, Math.min(options.workers, Math.floor(info.durationSeconds / 2) || 1));
  const framesTotal = Math.max(1, Math.round(info.durationSeconds * options.fps));
  const step = info.durationSeconds / workers;
  let framesDone = 0;
  const toPixels = letterboxInverse(info.width, info.height, ANALYSIS_FRAME_SIZE);
  const results = await Promise.all(
    Array.from({ length: workers }, (_, w) =>
      runSegment(
        {
          file: info.file,
          fps: options.fps,
          size: ANALYSIS_FRAME_SIZE,
          // Segments start on the sampling grid so frame times stay evenly spaced.
          startSeconds: Math.round((w * step * options.fps) / 1) / options.fps,
          durationSeconds: w === workers - 1 ? info.durationSeconds + 1 : step,
          backend: options.backend ?? 'auto',
        },
        (count) => {
          framesDone += count;
          options.onProgress?.(Math.min(framesDone, framesTotal), framesTotal);
        },
        options.signal,
      ),
    ),
  );
  const poses: PoseFrame[] = [];
  for (const result of results) {
    for (const frame of result.frames) {
      const last = poses[poses.length - 1];
      // Segment edges may repeat a frame; keep time strictly increasing.
      if (last && frame.time <= last.time + 0.25 / options.fps) continue;
      poses.push(toPixels(frame.time, frame.raw));
    }
  }
  const first = results[0];
  if (!first) throw new EngineError('INTERNAL', 'no pose worker ran');
  return {
    poses,
    backend: first.backend,
    decodeWaitMs: results.flatMap((r) => r.waitMs),
    poseMs: results.flatMap((r) => r.poseMs),
  };
}

interface SegmentResult {
  frames: Array<{ time: number; raw: Float32Array }>;
  backend: BackendChoice;
  waitMs: number[];
  poseMs: number[];
}

function runSegment(job: SegmentJob, onFrames: (count: number) => void, signal?: AbortSignal): Promise<SegmentResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./segment-worker.ts', import.meta.url), { workerData: job });
    const frames: SegmentResult['frames'] = [];
    let settled = false;
    const abort = () => {
      settled = true;
      void worker.terminate();
      reject(new EngineError('INTERNAL', 'analysis cancelled', { cancelled: true }));
    };
    signal?.addEventListener('abort', abort, { once: true });
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'frames') {
        frames.push(...message.frames);
        onFrames(message.frames.length);
      } else if (message.type === 'done') {
        settled = true;
        signal?.removeEventListener('abort', abort);
        void worker.terminate();
        resolve({ frames, backend: message.backend, waitMs: message.waitMs, poseMs: message.poseMs });
      } else {
        settled = true;
        void worker.terminate();
        const code = (message.code in ENGINE_ERROR_CODES ? message.code : 'INTERNAL') as EngineErrorCode;
        reject(new EngineError(code, message.message, message.context));
      }
    });
    worker.on('error', (error) => {
      if (settled) return;
      settled = true;
      reject(new EngineError('INTERNAL', `pose worker failed: ${error.message}`, {}, { cause: error }));
    });
    worker.on('exit', (code) => {
      if (!settled) reject(new EngineError('INTERNAL', `pose worker exited with code ${code}`));
    });
  });
}

/** Maps normalised coordinates in the letterboxed square back to the video's pixels. */
export function letterboxInverse(width: number, height: number, size: number) {
  const scale = size / Math.max(width, height);
  const padX = (size - width * scale) / 2;
  const padY = (size - height * scale) / 2;
  return (time: number, raw: Float32Array): PoseFrame => ({
    time,
    x: Float32Array.from(raw.subarray(0, 17), (v) => (v * size - padX) / scale),
    y: Float32Array.from(raw.subarray(17, 34), (v) => (v * size - padY) / scale),
    score: raw.slice(34, 51),
  });
}
