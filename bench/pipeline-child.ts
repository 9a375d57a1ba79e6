/**
 * One benchmark measurement in a fresh process (so peak RSS belongs to this run alone):
 * the whole pipeline on one video, printing its timings and peak RSS as one JSON line.
 * Usage: pipeline-child.ts <video> <workers> <outDir>
 */
import { analyzeVideo, type PipelineStats } from '../services/analysis/pipeline.js';

const [video, workers, outDir] = process.argv.slice(2);
if (!video || !workers || !outDir) throw new Error('usage: pipeline-child.ts <video> <workers> <outDir>');
let stats: PipelineStats | undefined;
const report = await analyzeVideo(video, {
  workers: Number(workers),
  outDir,
  exercise: 'auto',
  onStats: (s) => (stats = s),
});
process.stdout.write(
  `${JSON.stringify({ stats, reps: report.summary.reps, exercise: report.summary.exercise, durationSeconds: report.video.durationSeconds, maxRssMB: process.resourceUsage().maxRSS / 1024 })}\n`,
);
