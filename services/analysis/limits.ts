/**
 * Caps applied to untrusted input before any decoding starts. The defaults admit any
 * phone or camera recording of a workout (up to 4K, up to 20 minutes) and refuse what
 * only a broken or hostile file would claim.
 */
export interface InputLimits {
  /** Largest accepted file, in bytes. */
  maxBytes: number;
  /** Largest accepted width or height after rotation, in pixels. */
  maxDimension: number;
  /** Smallest accepted width or height: a person's joints can't be found below this. */
  minDimension: number;
  /** Longest accepted duration, in seconds. */
  maxDurationSeconds: number;
  /** Most streams (video + audio + data + subtitles) a file may carry. */
  maxStreams: number;
  /** How long ffprobe may take before the file is refused as hostile. */
  probeTimeoutMs: number;
}

export const DEFAULT_LIMITS: Readonly<InputLimits> = Object.freeze({
  maxBytes: 1024 * 1024 * 1024,
  maxDimension: 4096,
  minDimension: 64,
  maxDurationSeconds: 20 * 60,
  maxStreams: 8,
  probeTimeoutMs: 10_000,
});

/**
 * Demuxers FFmpeg may use to open an upload. Everything a phone or camera records lands in
 * one of these; playlist and concat demuxers (which follow references, even to network
 * URLs) are excluded on purpose.
 */
export const ALLOWED_DEMUXERS = ['mov', 'mp4', 'm4a', '3gp', '3g2', 'mj2', 'matroska', 'webm'] as const;
