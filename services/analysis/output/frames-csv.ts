/** frames.csv: one row per analysed frame — time, every keypoint (x, y, confidence) and every angle. */
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { ANGLE_NAMES, type Kinematics } from '../kinematics/series.js';
import { KEYPOINT_NAMES } from '../pose/keypoints.js';

export function framesCsvHeader(): string {
  const cols = ['frame', 'time_s'];
  for (const name of KEYPOINT_NAMES) cols.push(`${name}_x`, `${name}_y`, `${name}_conf`);
  for (const angle of ANGLE_NAMES) cols.push(`${angle}_left_deg`, `${angle}_right_deg`);
  cols.push('driving_angle_deg');
  return cols.join(',');
}

/** Keypoints are the raw (unfiltered) detections in video pixels; angles come from the filtered series. */
export async function writeFramesCsv(path: string, kin: Kinematics, driving: Float64Array): Promise<void> {
  const out = createWriteStream(path);
  const num = (v: number | undefined, digits: number) => (v === undefined || Number.isNaN(v) ? '' : v.toFixed(digits));
  out.write(`${framesCsvHeader()}\n`);
  for (let i = 0; i < kin.time.length; i++) {
    const pose = kin.poses[i];
    const cells: string[] = [String(i), num(kin.time[i], 3)];
    for (let k = 0; k < KEYPOINT_NAMES.length; k++) {
      cells.push(num(pose?.x[k], 1), num(pose?.y[k], 1), num(pose?.score[k], 3));
    }
    for (const angle of ANGLE_NAMES) cells.push(num(kin.angles[angle].left[i], 1), num(kin.angles[angle].right[i], 1));
    cells.push(num(driving[i], 1));
    if (!out.write(`${cells.join(',')}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  out.end();
  await finished(out);
}
