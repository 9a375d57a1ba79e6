/**
 * Writes everything a user gets besides report.json: frames.csv, a thumbnail of each rep's
 * turning point with the skeleton and key angle drawn, the driving-angle chart with reps
 * marked, and (on request) an annotated MP4.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Kinematics } from '../kinematics/series.js';
import type { VideoInfo } from '../media/probe.js';
import { renderAnnotatedVideo } from '../render/annotated-video.js';
import { renderAngleChart } from '../render/chart.js';
import { renderThumbnail } from '../render/thumbnail.js';
import type { ExerciseProfile } from '../reps/exercises.js';
import type { Rep } from '../reps/find-reps.js';
import { writeFramesCsv } from './frames-csv.js';

export interface ArtifactPaths {
  framesCsv: string;
  chart: string | null;
  thumbnails: string[];
  annotatedVideo: string | null;
}

export async function writeArtifacts(args: {
  outDir: string;
  info: VideoInfo;
  kin: Kinematics;
  driving: Float64Array;
  profile: ExerciseProfile | null;
  reps: Rep[];
  annotate: boolean;
}): Promise<ArtifactPaths> {
  const { outDir, info, kin, driving, profile, reps } = args;
  await mkdir(join(outDir, 'thumbnails'), { recursive: true });
  const framesCsv = join(outDir, 'frames.csv');
  await writeFramesCsv(framesCsv, kin, driving);

  let chart: string | null = null;
  const thumbnails: string[] = [];
  if (profile) {
    chart = join(outDir, 'chart.png');
    const sided = kin.angles[profile.drivingAngle];
    const png = renderAngleChart({
      title: `${profile.label}: ${profile.drivingAngle} angle over time`,
      yLabel: `${profile.drivingAngle} (°)`,
      time: kin.time,
      series: [
        { name: 'used for counting', values: driving },
        { name: 'left', values: sided.left },
        { name: 'right', values: sided.right },
      ],
      reps: reps.map((r) => ({
        index: r.number ?? 0,
        start: r.startSeconds,
        turn: r.turnSeconds,
        end: r.endSeconds,
        counted: r.counted,
      })),
    });
    await writeFile(chart, png);
    // Two at a time: each spends most of its time in its own FFmpeg seek and PNG encoding.
    const counted = reps.filter((r) => r.counted);
    const rendered = await mapWithConcurrency(counted, 2, async (rep) => {
      const pose = kin.poses[rep.turnFrame];
      if (!pose) return null;
      const side =
        (pose.score[profile.angleKeypoints.left[1]] ?? 0) >= (pose.score[profile.angleKeypoints.right[1]] ?? 0)
          ? 'left'
          : 'right';
      const [from, joint, to] = profile.angleKeypoints[side];
      const png = await renderThumbnail({
        file: info.file,
        time: rep.turnSeconds,
        pose,
        width: info.width,
        height: info.height,
        highlight: { joint, from, to, label: `${profile.drivingAngle} ${rep.turnAngleDegrees}°` },
        caption: `Rep ${rep.number} · ${profile.turnName} · ${rep.turnSeconds.toFixed(1)} s`,
      });
      const path = join(outDir, 'thumbnails', `rep-${String(rep.number).padStart(2, '0')}.png`);
      await writeFile(path, png);
      return path;
    });
    for (const path of rendered) if (path) thumbnails.push(path);
  }

  let annotatedVideo: string | null = null;
  if (args.annotate) {
    annotatedVideo = join(outDir, 'annotated.mp4');
    const repAt = (t: number) => reps.find((r) => r.counted && t >= r.startSeconds && t <= r.endSeconds);
    await renderAnnotatedVideo({
      file: info.file,
      out: annotatedVideo,
      fps: kin.fps,
      poses: kin.poses,
      width: info.width,
      height: info.height,
      labelAt: (i) => {
        const rep = repAt(kin.time[i] ?? 0);
        const angle = driving[i];
        const a =
          angle === undefined || Number.isNaN(angle) ? '' : ` · ${profile?.drivingAngle ?? ''} ${Math.round(angle)}°`;
        return rep ? `Rep ${rep.number}${a}` : a.replace(/^ · /, '');
      },
    });
  }
  return { framesCsv, chart, thumbnails, annotatedVideo };
}

/** Runs `task` over `items` with at most `limit` in flight, keeping the results in order. */
async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i] as T);
    }
  });
  await Promise.all(lanes);
  return results;
}
