/**
 * Runs MoveNet on the stream of analysis frames, tracking the subject between frames with
 * {@link nextCropRegion}. Keypoints come back normalised to the square analysis frame.
 */

import type { GraphModel } from '@tensorflow/tfjs-converter';
import * as tf from '@tensorflow/tfjs-core';
import { cropResizeRgb } from './crop-resize.js';
import { type CropRegion, FULL_FRAME, nextCropRegion } from './crop-tracker.js';
import { MODEL_INPUT_SIZE } from './model.js';

export interface RawPose {
  ys: Float32Array;
  xs: Float32Array;
  scores: Float32Array;
}

/** Mean confidence under which a tracked crop is distrusted and the whole frame is retried. */
const LOST_TRACK_SCORE = 0.3;

export class MoveNetTracker {
  private crop: CropRegion = FULL_FRAME;
  /** Reused model input buffer. */
  private readonly input = new Int32Array(MODEL_INPUT_SIZE * MODEL_INPUT_SIZE * 3);

  constructor(private readonly model: GraphModel) {}

  /** Estimates the pose in one size × size RGB frame. */
  estimate(rgb: Uint8Array, size: number): RawPose {
    const tracked = this.run(rgb, size, this.crop);
    let pose = tracked;
    if (this.crop !== FULL_FRAME && meanScore(tracked.scores) < LOST_TRACK_SCORE) {
      // The subject moved out of the crop (or a cut changed the view): look everywhere.
      const full = this.run(rgb, size, FULL_FRAME);
      if (meanScore(full.scores) > meanScore(tracked.scores)) pose = full;
    }
    this.crop = nextCropRegion(pose.ys, pose.xs, pose.scores);
    return pose;
  }

  /** Forget the subject (e.g. before a new, unrelated segment). */
  reset(): void {
    this.crop = FULL_FRAME;
  }

  private run(rgb: Uint8Array, size: number, crop: CropRegion): RawPose {
    cropResizeRgb(rgb, size, crop, MODEL_INPUT_SIZE, this.input);
    const output = tf.tidy(
      () =>
        this.model.execute(tf.tensor4d(this.input, [1, MODEL_INPUT_SIZE, MODEL_INPUT_SIZE, 3], 'int32')) as tf.Tensor,
    );
    const values = output.dataSync();
    output.dispose();
    const ys = new Float32Array(17);
    const xs = new Float32Array(17);
    const scores = new Float32Array(17);
    const h = crop.yMax - crop.yMin;
    const w = crop.xMax - crop.xMin;
    for (let i = 0; i < 17; i++) {
      ys[i] = crop.yMin + h * (values[i * 3] ?? 0);
      xs[i] = crop.xMin + w * (values[i * 3 + 1] ?? 0);
      scores[i] = values[i * 3 + 2] ?? 0;
    }
    return { ys, xs, scores };
  }
}

function meanScore(scores: Float32Array): number {
  let sum = 0;
  for (const s of scores) sum += s;
  return sum / scores.length;
}
