/**
 * The one place that starts FFmpeg processes. fluent-ffmpeg (archived upstream) drives the
 * decoder; ffprobe is spawned directly because fluent-ffmpeg's probe offers neither a
 * timeout nor a handle to kill a probe that hangs on a hostile file.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { Readable } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import { EngineError } from '../errors.js';
import { ALLOWED_DEMUXERS } from '../limits.js';

/** Input options that keep FFmpeg on the local file and the container allow-list. */
export const SAFE_INPUT_OPTIONS: readonly string[] = [
  '-protocol_whitelist',
  'file',
  '-format_whitelist',
  ALLOWED_DEMUXERS.join(','),
];

let checked = false;

/** Fails with a message saying how to install FFmpeg when `ffmpeg`/`ffprobe` are missing. */
export function assertFfmpegInstalled(): void {
  if (checked) return;
  for (const tool of ['ffmpeg', 'ffprobe']) {
    const result = spawnSync(tool, ['-version'], { stdio: 'ignore' });
    if (result.error || result.status !== 0) {
      throw new EngineError(
        'FFMPEG_MISSING',
        `${tool} was not found on PATH. Install FFmpeg (Debian/Ubuntu: apt-get install ffmpeg; macOS: brew install ffmpeg) or run ./scripts/setup.sh.`,
        { tool },
      );
    }
  }
  checked = true;
}

export interface ProbeRun {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  timedOut: boolean;
}

/** Runs `ffprobe` with the safe input options, killing it after `timeoutMs`. */
export function runFfprobe(file: string, timeoutMs: number): Promise<ProbeRun> {
  assertFfmpegInstalled();
  const args = [
    '-v',
    'error',
    ...SAFE_INPUT_OPTIONS,
    '-print_format',
    'json',
    '-show_format',
    '-show_streams',
    // `file:` stops a name like "http:x.mp4" from being read as a URL.
    `file:${file}`,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('ffprobe', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (stdout.length < 4_000_000) stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < 20_000) stderr += chunk;
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, exitCode, timedOut });
    });
  });
}

export interface DecodeRequest {
  file: string;
  fps: number;
  /** Output frames are size × size RGB24, the picture letterboxed in the middle. */
  size: number;
  /** Seconds of input to skip / to decode (for splitting a clip between workers). */
  startSeconds?: number;
  durationSeconds?: number;
}

export interface DecodeProcess {
  frames: Readable;
  /** Resolves when FFmpeg exits cleanly; rejects with DECODE_FAILED otherwise. */
  done: Promise<void>;
  kill(): void;
}

/**
 * Starts one FFmpeg decode: sampled at `fps`, pixels made square, scaled to fit `size`,
 * padded to a square and emitted as raw RGB24 on a stream. FFmpeg applies rotation
 * metadata itself (autorotate is on by default).
 */
export function startDecode(request: DecodeRequest): DecodeProcess {
  assertFfmpegInstalled();
  const { size, fps } = request;
  const filters = [
    `fps=${fps}`,
    // Non-square pixels would skew every angle: resample to square pixels first.
    "scale='trunc(iw*sar/2)*2':ih",
    `scale=${size}:${size}:force_original_aspect_ratio=decrease:flags=area`,
    `pad=${size}:${size}:(ow-iw)/2:(oh-ih)/2:color=black`,
    'setsar=1',
    'format=rgb24',
  ];
  // One decoding thread per FFmpeg: the pose workers already keep every core busy, and
  // frame-threaded decoding would only add contention and latency.
  const inputOptions = [...SAFE_INPUT_OPTIONS, '-threads', '1'];
  if (request.startSeconds !== undefined && request.startSeconds > 0) {
    inputOptions.push('-ss', request.startSeconds.toFixed(3));
  }
  if (request.durationSeconds !== undefined) inputOptions.push('-t', request.durationSeconds.toFixed(3));
  let stderr = '';
  const command = ffmpeg(`file:${request.file}`)
    .inputOptions(inputOptions)
    .outputOptions([
      '-an',
      '-sn',
      '-dn',
      '-vf',
      filters.join(','),
      '-filter_threads',
      '1',
      '-pix_fmt',
      'rgb24',
      '-f',
      'rawvideo',
    ])
    .on('stderr', (line: string) => {
      if (stderr.length < 20_000) stderr += `${line}\n`;
    });
  let settle: { resolve: () => void; reject: (error: Error) => void } | undefined;
  const done = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // Marked handled now: the consumer awaits `done` only after the last frame, and a decode
  // that fails earlier must not surface as an unhandled rejection in between.
  done.catch(() => undefined);
  let killed = false;
  command.on('end', () => settle?.resolve());
  command.on('error', (error: Error) => {
    if (killed) return settle?.resolve();
    settle?.reject(
      new EngineError('DECODE_FAILED', 'FFmpeg could not decode this video; the file may be damaged.', {
        file: request.file,
        detail: lastLines(stderr || error.message),
      }),
    );
  });
  const frames = command.pipe() as Readable;
  return {
    frames,
    done,
    kill() {
      killed = true;
      command.kill('SIGKILL');
    },
  };
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' | ');
}

/**
 * Extracts the single frame shown at `time` seconds, scaled to `width` × `height`, as raw
 * RGBA bytes (width × height × 4). FFmpeg applies rotation metadata itself, so the frame
 * is the upright picture the user sees. Killed after 20 s; a file that can't be decoded,
 * or a `time` past the end (no frame comes out), throws `DECODE_FAILED`.
 */
export function extractFrameRgb(file: string, time: number, width: number, height: number): Promise<Uint8Array> {
  assertFfmpegInstalled();
  const expected = width * height * 4;
  const args = [
    '-hide_banner',
    '-nostdin',
    '-v',
    'error',
    ...SAFE_INPUT_OPTIONS,
    // -ss before -i seeks in the demuxer (fast) and FFmpeg still decodes up to the exact time.
    '-ss',
    Math.max(0, time).toFixed(3),
    '-i',
    `file:${file}`,
    '-an',
    '-sn',
    '-dn',
    '-frames:v',
    '1',
    '-vf',
    `scale=${width}:${height},format=rgba`,
    '-f',
    'rawvideo',
    'pipe:1',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let received = 0;
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, 20_000);
    const fail = (detail: string) =>
      reject(
        new EngineError('DECODE_FAILED', 'FFmpeg could not extract a frame from this video.', { file, time, detail }),
      );
    child.stdout.on('data', (chunk: Buffer) => {
      // Never buffer more than one frame, whatever FFmpeg sends.
      if (received < expected) chunks.push(chunk);
      received += chunk.length;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < 20_000) stderr += chunk;
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      fail(error.message);
    });
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      if (timedOut) return fail('timed out after 20 s');
      if (exitCode !== 0) return fail(lastLines(stderr) || `exit code ${exitCode}`);
      if (received < expected) return fail(`no frame at ${time.toFixed(3)} s (got ${received} of ${expected} bytes)`);
      resolve(new Uint8Array(Buffer.concat(chunks).subarray(0, expected)));
    });
  });
}
