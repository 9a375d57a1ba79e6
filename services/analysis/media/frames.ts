/**
 * Streams decoded frames one at a time, with a small read-ahead: FFmpeg decodes up to
 * READ_AHEAD frames while the consumer is still busy with the current one (an OS pipe holds
 * far less than one frame, so without this the decoder and the pose model would take turns
 * instead of overlapping). Memory stays bounded whatever the video's length: FFmpeg is
 * paused when the read-ahead is full. Frame buffers are recycled, so a consumer that keeps
 * pixels beyond its loop iteration must copy them (`frame.rgb.slice()`).
 */
import { type DecodeRequest, startDecode } from './ffmpeg.js';

export interface Frame {
  /** 0-based index in the sampled sequence. */
  index: number;
  /** Seconds from the start of the video. */
  time: number;
  /** size × size × 3 RGB bytes; valid until the next frame is requested. */
  rgb: Uint8Array;
  size: number;
}

/** Frames decoded ahead of the consumer (each size² × 3 bytes: 442 KB at 384 px). */
export const READ_AHEAD = 4;

export async function* decodeFrames(request: DecodeRequest): AsyncGenerator<Frame> {
  const frameBytes = request.size * request.size * 3;
  const decode = startDecode(request);
  const offset = request.startSeconds ?? 0;
  const free: Uint8Array[] = Array.from({ length: READ_AHEAD + 1 }, () => new Uint8Array(frameBytes));
  const ready: Uint8Array[] = [];
  let current: Uint8Array | undefined;
  let filled = 0;
  let ended = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };

  const stream = decode.frames;
  stream.on('data', (chunk: Buffer) => {
    let read = 0;
    while (read < chunk.length) {
      current ??= free.pop() ?? new Uint8Array(frameBytes);
      const take = Math.min(frameBytes - filled, chunk.length - read);
      current.set(chunk.subarray(read, read + take), filled);
      filled += take;
      read += take;
      if (filled === frameBytes) {
        ready.push(current);
        current = undefined;
        filled = 0;
      }
    }
    if (ready.length >= READ_AHEAD) stream.pause();
    notify();
  });
  stream.on('end', () => {
    ended = true;
    notify();
  });
  stream.on('error', (error) => {
    failure = error;
    notify();
  });

  let index = 0;
  let finished = false;
  let previous: Uint8Array | undefined;
  try {
    for (;;) {
      if (previous) {
        free.push(previous);
        previous = undefined;
      }
      if (ready.length < READ_AHEAD && stream.isPaused()) stream.resume();
      const next = ready.shift();
      if (next) {
        previous = next;
        yield { index, time: offset + index / request.fps, rgb: next, size: request.size };
        index += 1;
        continue;
      }
      if (failure) throw failure;
      if (ended) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
    await decode.done;
    finished = true;
  } finally {
    // The consumer stopped early (error or cancel): don't leave FFmpeg running.
    if (!finished) decode.kill();
  }
}
