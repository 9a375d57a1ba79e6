/**
 * Worker thread: decodes one time segment of the video and estimates the pose in each
 * frame, posting results back in small batches. Each worker owns its TensorFlow.js
 * backend (single-threaded WebAssembly), so N workers use N cores.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isEngineError } from '../errors.js';
import { decodeFrames } from '../media/frames.js';
import { type BackendName, initBackend } from './backend.js';
import { loadMoveNet } from './model.js';
import { MoveNetTracker } from './movenet.js';
import type { SegmentJob, WorkerMessage } from './segment-protocol.js';

const job = workerData as SegmentJob;
const port = parentPort;
if (!port) throw new Error('segment-worker must run in a worker thread');
const post = (message: WorkerMessage) => port.postMessage(message);

try {
  const backend = await initBackend({ prefer: job.backend as BackendName | 'auto' });
  const tracker = new MoveNetTracker(await loadMoveNet());
  let batch: Array<{ time: number; raw: Float32Array }> = [];
  // Per frame: how long we waited for FFmpeg, and how long the pose took (for benchmarks).
  const waitMs: number[] = [];
  const poseMs: number[] = [];
  let mark = performance.now();
  for await (const frame of decodeFrames({
    file: job.file,
    fps: job.fps,
    size: job.size,
    startSeconds: job.startSeconds,
    durationSeconds: job.durationSeconds,
  })) {
    const got = performance.now();
    waitMs.push(got - mark);
    const pose = tracker.estimate(frame.rgb, frame.size);
    const raw = new Float32Array(51);
    raw.set(pose.xs, 0);
    raw.set(pose.ys, 17);
    raw.set(pose.scores, 34);
    batch.push({ time: frame.time, raw });
    mark = performance.now();
    poseMs.push(mark - got);
    if (batch.length >= 8) {
      post({ type: 'frames', frames: batch });
      batch = [];
    }
  }
  if (batch.length > 0) post({ type: 'frames', frames: batch });
  post({ type: 'done', backend, waitMs, poseMs });
} catch (error) {
  post({
    type: 'error',
    code: isEngineError(error) ? error.code : 'INTERNAL',
    message: error instanceof Error ? error.message : String(error),
    context: isEngineError(error) ? { ...error.context } : {},
  });
}
