/** `nfc analyze <video>`: runs the engine on one local video and prints a summary or the report. */
import { basename, extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { isEngineError } from '../analysis/errors.js';
import { analyzeVideo, DEFAULT_FPS } from '../analysis/pipeline.js';
import { EXERCISES, type ExerciseChoice } from '../analysis/reps/exercises.js';
import { EXIT } from './exit-codes.js';
import { ProgressBar } from './progress-bar.js';
import { formatSummary } from './summary.js';
import { UsageError } from './usage-error.js';

export const ANALYZE_HELP = `Usage: nfc analyze <video> [options]

Analyses an exercise video on this machine and writes a coach's report.

Options:
  --exercise, -e E   ${EXERCISES.join(' | ')} | auto   (default: auto)
  --fps N            frames analysed per second of video (default: ${DEFAULT_FPS})
  --out, -o DIR      where to write report.json, frames.csv, chart.png, thumbnails/
                     (default: nfc-output/<video name>/)
  --json             print only report.json to stdout
  --annotate         also write annotated.mp4 with the skeleton drawn
  --workers N        decode/pose worker threads (default: one per core, at most 4)
  -h, --help         show this help

Exit codes: 0 done · 2 wrong usage · 3 the video can't be analysed (corrupt, unsupported,
too large…) · 1 internal failure (retrying may help).`;

export async function analyzeCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      exercise: { type: 'string', short: 'e', default: 'auto' },
      fps: { type: 'string', default: String(DEFAULT_FPS) },
      out: { type: 'string', short: 'o' },
      json: { type: 'boolean', default: false },
      annotate: { type: 'boolean', default: false },
      workers: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${ANALYZE_HELP}\n`);
    return EXIT.OK;
  }
  const video = positionals[0];
  if (!video || positionals.length > 1) throw new UsageError('expected exactly one video file');
  const exercise = values.exercise as ExerciseChoice;
  if (exercise !== 'auto' && !EXERCISES.includes(exercise)) {
    throw new UsageError(`--exercise must be one of ${EXERCISES.join(', ')}, auto (got "${values.exercise}")`);
  }
  const fps = Number(values.fps);
  if (!Number.isFinite(fps) || fps < 1 || fps > 60) throw new UsageError('--fps must be a number from 1 to 60');
  const workers = values.workers === undefined ? undefined : Number(values.workers);
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1 && workers <= 16)) {
    throw new UsageError('--workers must be an integer from 1 to 16');
  }
  const outDir = values.out ?? join('nfc-output', basename(video, extname(video)));

  const bar = new ProgressBar();
  try {
    const report = await analyzeVideo(video, {
      exercise,
      fps,
      outDir,
      annotate: values.annotate,
      ...(workers ? { workers } : {}),
      onProgress: ({ stage, framesDone, framesTotal }) =>
        bar.update(stage === 'pose' ? 'analysing' : stage, framesDone, framesTotal),
    });
    bar.done();
    process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatSummary(report)}\n`);
    return EXIT.OK;
  } catch (error) {
    bar.done();
    if (isEngineError(error)) {
      process.stderr.write(`nfc: ${error.message} [${error.code}]\n`);
      return error.kind === 'bad-input' ? EXIT.BAD_INPUT : EXIT.INTERNAL;
    }
    throw error;
  }
}
