/** Messages between the pose extractor and its segment workers. */
import type { BackendChoice } from './backend.js';

export interface SegmentJob {
  file: string;
  fps: number;
  size: number;
  startSeconds: number;
  durationSeconds: number;
  backend: string;
}

export type WorkerMessage =
  /** raw: 17 x (normalised to the square frame), then 17 y, then 17 scores. */
  | { type: 'frames'; frames: Array<{ time: number; raw: Float32Array }> }
  | { type: 'done'; backend: BackendChoice; waitMs: number[]; poseMs: number[] }
  | { type: 'error'; code: string; message: string; context: Record<string, unknown> };
