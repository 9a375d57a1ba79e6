/**
 * Inspects an untrusted video before anything decodes it: local file only, container on
 * the allow-list, and every cap in {@link InputLimits} checked. Each refusal is an
 * {@link EngineError} with its own code and a sentence a user can act on.
 */
import { open, stat } from 'node:fs/promises';
import { EngineError } from '../errors.js';
import { DEFAULT_LIMITS, type InputLimits } from '../limits.js';
import { runFfprobe } from './ffmpeg.js';

export interface VideoInfo {
  file: string;
  bytes: number;
  container: string;
  codec: string;
  /** Display size, after rotation metadata is applied. */
  width: number;
  height: number;
  rotation: number;
  fps: number;
  durationSeconds: number;
  streams: number;
}

interface FfprobeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  duration?: string;
  sample_aspect_ratio?: string;
  tags?: Record<string, string>;
  side_data_list?: Array<{ rotation?: number }>;
}
interface FfprobeOutput {
  streams?: FfprobeStream[];
  format?: { format_name?: string; duration?: string; nb_streams?: number };
}

export async function probeVideo(file: string, limits: InputLimits = DEFAULT_LIMITS): Promise<VideoInfo> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(file)) {
    throw new EngineError('NOT_A_LOCAL_FILE', 'Only local files can be analysed; download the video first.', { file });
  }
  const bytes = await fileSize(file);
  if (bytes === 0) throw new EngineError('FILE_EMPTY', 'The file is empty (0 bytes).', { file });
  if (bytes > limits.maxBytes) {
    throw new EngineError(
      'FILE_TOO_LARGE',
      `The file is ${formatBytes(bytes)}; the limit is ${formatBytes(limits.maxBytes)}.`,
      { file, bytes, maxBytes: limits.maxBytes },
    );
  }
  const head = await readHead(file);
  refuseTextFiles(file, head);

  const run = await runFfprobe(file, limits.probeTimeoutMs);
  if (run.timedOut) {
    throw new EngineError('PROBE_TIMEOUT', `Reading the video's header took over ${limits.probeTimeoutMs} ms.`, {
      file,
    });
  }
  if (run.exitCode !== 0) {
    // FFmpeg opens anything named .mp4 with its mov demuxer as a last resort, so "moov atom
    // not found" comes from a cut-off MP4 and from a text file alike: the first bytes tell
    // them apart. A playlist or other demuxer off the allow-list says "not on whitelist".
    const damaged = !/not (on|in) whitelist/i.test(run.stderr) && looksLikeAcceptedContainer(head);
    throw new EngineError(
      damaged ? 'CORRUPT_VIDEO' : 'UNSUPPORTED_CONTAINER',
      damaged
        ? 'The video is damaged or incomplete (it may have been cut off during upload).'
        : 'This is not a video in a supported container (MP4, MOV, 3GP, MKV or WebM).',
      { file, detail: run.stderr.trim().split('\n').slice(-2).join(' | ') },
    );
  }
  refuseImpossibleSize(file, run.stderr, limits);
  return validate(file, bytes, parse(run.stdout, file), limits);
}

function parse(stdout: string, file: string): FfprobeOutput {
  try {
    return JSON.parse(stdout) as FfprobeOutput;
  } catch (error) {
    throw new EngineError('CORRUPT_VIDEO', 'The video header could not be read.', { file }, { cause: error });
  }
}

function validate(file: string, bytes: number, probe: FfprobeOutput, limits: InputLimits): VideoInfo {
  const container = probe.format?.format_name ?? 'unknown';
  const streams = probe.streams ?? [];
  if (streams.length > limits.maxStreams) {
    throw new EngineError(
      'TOO_MANY_STREAMS',
      `The file has ${streams.length} streams; at most ${limits.maxStreams} are accepted.`,
      { file, streams: streams.length, maxStreams: limits.maxStreams },
    );
  }
  const video = streams.find((s) => s.codec_type === 'video' && (s.width ?? 0) > 0);
  if (!video) throw new EngineError('NO_VIDEO_STREAM', 'The file has no video picture in it.', { file, container });

  const rotation = readRotation(video);
  const sar = parseRatio(video.sample_aspect_ratio) || 1;
  const codedWidth = Math.round((video.width ?? 0) * sar);
  const codedHeight = video.height ?? 0;
  const quarterTurn = Math.abs(rotation) % 180 === 90;
  const width = quarterTurn ? codedHeight : codedWidth;
  const height = quarterTurn ? codedWidth : codedHeight;
  if (Math.max(width, height) > limits.maxDimension) {
    throw new EngineError(
      'RESOLUTION_TOO_LARGE',
      `The video is ${width}×${height}; the largest accepted side is ${limits.maxDimension} pixels.`,
      { file, width, height, maxDimension: limits.maxDimension },
    );
  }
  if (Math.min(width, height) < limits.minDimension) {
    throw new EngineError(
      'RESOLUTION_TOO_SMALL',
      `The video is ${width}×${height}; a person can't be analysed below ${limits.minDimension} pixels a side.`,
      { file, width, height, minDimension: limits.minDimension },
    );
  }
  const durationSeconds = Number(video.duration ?? probe.format?.duration ?? Number.NaN);
  if (!Number.isFinite(durationSeconds) || durationSeconds <= 0) {
    throw new EngineError('DURATION_UNKNOWN', 'The video does not say how long it is; it may be damaged.', { file });
  }
  // FFmpeg caps the stream duration by its sample table, so a header claiming hours shows
  // only in the container duration: the longest claim has to be under the limit.
  const claimedSeconds = Math.max(durationSeconds, Number(probe.format?.duration) || 0);
  if (claimedSeconds > limits.maxDurationSeconds) {
    throw new EngineError(
      'DURATION_TOO_LONG',
      `The video lasts ${formatDuration(claimedSeconds)}; the limit is ${formatDuration(limits.maxDurationSeconds)}.`,
      { file, durationSeconds: claimedSeconds, maxDurationSeconds: limits.maxDurationSeconds },
    );
  }
  if (!video.codec_name || video.codec_name === 'unknown' || video.codec_name === 'none') {
    throw new EngineError('UNSUPPORTED_CODEC', 'The video is encoded in a format that cannot be decoded.', {
      file,
      container,
    });
  }
  const fps = parseRatio(video.avg_frame_rate) || parseRatio(video.r_frame_rate) || 0;
  return {
    file,
    bytes,
    container,
    codec: video.codec_name ?? 'unknown',
    width,
    height,
    rotation,
    fps,
    durationSeconds,
    streams: streams.length,
  };
}

async function fileSize(file: string): Promise<number> {
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new EngineError('NOT_A_LOCAL_FILE', 'The path is not a regular file.', { file });
    return info.size;
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') {
      throw new EngineError('FILE_NOT_FOUND', `No file at ${file}.`, { file });
    }
    throw error;
  }
}

/** The first 512 bytes, for sniffing. */
async function readHead(file: string): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * A playlist or any other text is refused before FFmpeg sees it. This is a courtesy that
 * gives a clearer message; the demuxer allow-list is what actually keeps FFmpeg local.
 */
function refuseTextFiles(file: string, head: Buffer): void {
  const text = head.toString('latin1');
  if (/^\s*#EXT|^\s*ffconcat|^\s*file\s+'|^\s*<\?xml|^\s*<(smil|MPD|playlist)/i.test(text)) {
    throw new EngineError('UNSUPPORTED_CONTAINER', 'This file is a playlist or text document, not a video.', { file });
  }
}

/** ISO-BMFF boxes a QuickTime/MP4 file starts with, and the EBML magic of Matroska/WebM. */
const MP4_FIRST_BOXES = new Set(['ftyp', 'moov', 'mdat', 'free', 'skip', 'wide', 'pnot', 'uuid']);
function looksLikeAcceptedContainer(head: Buffer): boolean {
  if (head.length >= 4 && head.readUInt32BE(0) === 0x1a45dfa3) return true;
  return head.length >= 8 && MP4_FIRST_BOXES.has(head.toString('latin1', 4, 8));
}

/**
 * FFmpeg won't open a decoder for a size it can't allocate (about 16k a side): it logs
 * "Picture size WxH is invalid" and prints the bitstream's size, or 0×0, in the JSON.
 * That log line is the only trace of what the header claimed.
 */
function refuseImpossibleSize(file: string, stderr: string, limits: InputLimits): void {
  const match = /Picture size (\d+)x(\d+) is invalid/.exec(stderr);
  const width = Number(match?.[1] ?? 0);
  const height = Number(match?.[2] ?? 0);
  if (Math.max(width, height) > limits.maxDimension) {
    throw new EngineError(
      'RESOLUTION_TOO_LARGE',
      `The video header claims ${width}×${height}; the largest accepted side is ${limits.maxDimension} pixels.`,
      { file, width, height, maxDimension: limits.maxDimension },
    );
  }
}

function readRotation(stream: FfprobeStream): number {
  const fromSideData = stream.side_data_list?.find((d) => typeof d.rotation === 'number')?.rotation;
  const fromTag = Number(stream.tags?.rotate ?? 0);
  return Math.round(fromSideData ?? fromTag) || 0;
}

function parseRatio(value: string | undefined): number {
  if (!value) return 0;
  const [num, den] = value.split(/[/:]/).map(Number);
  if (num === undefined || !Number.isFinite(num)) return 0;
  if (den === undefined) return num;
  return den > 0 ? num / den : 0;
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  // Below 1 MiB (small limits in tests and configs) "0.0 MiB" would say nothing.
  return bytes >= 1024 ** 2 ? `${(bytes / 1024 ** 2).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

function formatDuration(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return m >= 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m} min ${s} s`;
}
