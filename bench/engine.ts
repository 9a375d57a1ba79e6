/**
 * `npm run bench:engine`: speed and memory of the analysis engine on the real clips.
 *
 * Per clip: frames analysed, median ms per frame for decode (time waiting for FFmpeg),
 * pose and the rest, the real-time factor and peak RSS of the whole pipeline on one and on
 * two cores; and, on the same frames, decode-only and pose-only baselines. Then a long
 * video (a clip looped to 10 minutes) for peak RSS against length. Targets (2 cores, WASM):
 * pipeline ≥ 90 % of pose-only throughput; 2 cores ≥ 1.7× one core; ≥ 3× real time;
 * peak RSS < 500 MB at any length.
 *
 * Options: --clips a.mp4,b.mp4   --long-minutes N (0 to skip)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { probeVideo } from '../services/analysis/media/probe.js';
import { loadClips, REPO_ROOT } from '../test/support/clips.js';
import { decodeOnly, median, poseOnly } from './baselines.js';

const FPS = 15;
const { values } = parseArgs({
  options: {
    clips: { type: 'string' },
    'long-minutes': { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
  },
});
const wanted = values.clips?.split(',');
const clips = loadClips().filter((c) => !wanted || wanted.includes(c.file));
const work = mkdtempSync(join(tmpdir(), 'nfc-bench-'));

interface ChildResult {
  stats: {
    frames: number;
    totalMs: number;
    poseWallMs: number;
    analysisMs: number;
    outputsMs: number;
    decodeWaitMs: number[];
    poseMs: number[];
  };
  durationSeconds: number;
  maxRssMB: number;
  reps: number;
}

function runPipeline(video: string, workers: number): ChildResult {
  const out = execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      join(REPO_ROOT, 'bench/pipeline-child.ts'),
      video,
      String(workers),
      join(work, `out-${workers}`),
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 },
  );
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as ChildResult;
}

const f1 = (v: number) => v.toFixed(1);
const rows: string[][] = [];
const ratios = {
  pipelineVsPose: [] as number[],
  twoVsOne: [] as number[],
  realTime2: [] as number[],
  rss: [] as number[],
};
console.log(`NutriFitCoach engine benchmark · ${FPS} analysed fps · ${new Date().toISOString()}`);
for (const clip of clips) {
  const info = await probeVideo(clip.path);
  const decode = await decodeOnly(info, FPS);
  const pose = await poseOnly(info, FPS, 150);
  const one = runPipeline(clip.path, 1);
  const two = runPipeline(clip.path, 2);
  const fps1 = (one.stats.frames * 1000) / one.stats.totalMs;
  const fps2 = (two.stats.frames * 1000) / two.stats.totalMs;
  const rest1 = (one.stats.analysisMs + one.stats.outputsMs) / one.stats.frames;
  ratios.pipelineVsPose.push(fps1 / pose.framesPerSecond);
  ratios.twoVsOne.push(fps2 / fps1);
  ratios.realTime2.push(info.durationSeconds / (two.stats.totalMs / 1000));
  ratios.rss.push(Math.max(one.maxRssMB, two.maxRssMB));
  rows.push([
    clip.file,
    `${Math.round(info.fps)}`,
    `${one.stats.frames}`,
    f1(median(one.stats.decodeWaitMs)),
    f1(median(one.stats.poseMs)),
    f1(rest1),
    f1(fps1),
    f1(fps2),
    `${f1(info.durationSeconds / (one.stats.totalMs / 1000))}×/${f1(info.durationSeconds / (two.stats.totalMs / 1000))}×`,
    f1(decode.medianMs),
    f1(pose.medianMs),
    f1(pose.framesPerSecond),
    `${Math.round(one.maxRssMB)}/${Math.round(two.maxRssMB)}`,
  ]);
}
const header = [
  'clip',
  'src fps',
  'frames',
  'decode ms',
  'pose ms',
  'rest ms',
  'fps 1c',
  'fps 2c',
  'real time 1c/2c',
  'decode-only ms',
  'pose-only ms',
  'pose-only fps',
  'peak RSS MB 1c/2c',
];
printTable(header, rows);

const medianOf = (v: number[]) => median(v);
console.log('\nShort clips, end to end including start-up (medians over clips):');
console.log(
  `  whole pipeline vs pose-only throughput (1 core): ${(medianOf(ratios.pipelineVsPose) * 100).toFixed(0)} %`,
);
console.log(`  two cores vs one core:                           ${medianOf(ratios.twoVsOne).toFixed(2)}×`);
console.log(`  real-time factor on two cores:                   ${medianOf(ratios.realTime2).toFixed(2)}×`);
console.log(`  peak RSS (largest over clips):                   ${Math.round(Math.max(...ratios.rss))} MB`);

// A long video: start-up costs vanish and memory would grow if anything were held per frame.
const minutes = Number(values['long-minutes']);
const base = clips.find((c) => c.file === 'tayyab_pushup2.mp4') ?? clips[0];
if (minutes > 0 && base) {
  const long = join(work, 'long.mp4');
  const baseInfo = await probeVideo(base.path);
  const loops = Math.ceil((minutes * 60) / baseInfo.durationSeconds);
  const made = spawnSync('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-stream_loop',
    String(loops),
    '-i',
    base.path,
    '-t',
    String(minutes * 60),
    '-c',
    'copy',
    long,
  ]);
  if (made.status !== 0) throw new Error(`could not build the long video: ${made.stderr}`);
  console.log(`\nLong video: ${base.file} looped to ${minutes} min (${Math.round(baseInfo.fps)} fps source)`);
  // Rounds interleave the three measurements so a noisy neighbour hits them alike; the
  // targets use the median of the per-round ratios.
  const rounds = Number(values.rounds);
  const perRound: Array<{
    pose: number;
    fps1: number;
    fps2: number;
    rss: number;
    pose1: number;
    pose2: number;
    rest1: number;
  }> = [];
  for (let round = 1; round <= rounds; round++) {
    const pose = await poseOnly(baseInfo, FPS, 300);
    const one = runPipeline(long, 1);
    const two = runPipeline(long, 2);
    perRound.push({
      pose: pose.framesPerSecond,
      fps1: (one.stats.frames * 1000) / one.stats.totalMs,
      fps2: (two.stats.frames * 1000) / two.stats.totalMs,
      rss: Math.max(one.maxRssMB, two.maxRssMB),
      pose1: median(one.stats.poseMs),
      pose2: median(two.stats.poseMs),
      rest1: (one.stats.analysisMs + one.stats.outputsMs) / one.stats.frames,
    });
    const r = perRound[perRound.length - 1];
    console.log(
      `  round ${round}: pose-only ${f1(r?.pose ?? 0)} fps · pipeline 1 core ${f1(r?.fps1 ?? 0)} fps (pose ${f1(r?.pose1 ?? 0)} ms, rest ${f1(r?.rest1 ?? 0)} ms/frame) · 2 cores ${f1(r?.fps2 ?? 0)} fps (pose ${f1(r?.pose2 ?? 0)} ms/frame per worker) · peak RSS ${Math.round(r?.rss ?? 0)} MB`,
    );
  }
  const med = (f: (r: (typeof perRound)[number]) => number) => median(perRound.map(f));
  console.log(`Targets (long video, median of ${rounds} rounds):`);
  console.log(
    `  whole pipeline vs pose-only (1 core):  ${(med((r) => r.fps1 / r.pose) * 100).toFixed(0)} %   target ≥ 90 %`,
  );
  console.log(`  two cores vs one core:                 ${med((r) => r.fps2 / r.fps1).toFixed(2)}×   target ≥ 1.7×`);
  console.log(`  real time on two cores:                ${f1(med((r) => r.fps2) / FPS)}×   target ≥ 3×`);
  console.log(
    `  peak RSS at ${minutes} min:                  ${Math.round(Math.max(...perRound.map((r) => r.rss)))} MB   target < 500 MB`,
  );
}
rmSync(work, { recursive: true, force: true });

function printTable(head: string[], body: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  console.log(line(head));
  for (const r of body) console.log(line(r));
}
