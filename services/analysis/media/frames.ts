/**
 * Streams decoded frames one at a time. Only one frame (plus the pipe's buffer) is in
 * memory at once, whatever the video's length; FFmpeg pauses when we fall behind. The
 * frame's pixel buffer is reused for the next frame, so a consumer that keeps pixels
 * beyond its loop iteration must copy them (`frame.rgb.slice()`); this keeps a long video
 * from churning hundreds of kilobytes of garbage per frame.
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

export async function* decodeFrames(request: DecodeRequest): AsyncGenerator<Frame> {
  const frameBytes = request.size * request.size * 3;
  const decode = startDecode(request);
  const offset = request.startSeconds ?? 0;
  const rgb = new Uint8Array(frameBytes);
  let filled = 0;
  let index = 0;
  let finished = false;
  try {
    for await (const chunk of decode.frames as AsyncIterable<Buffer>) {
      let read = 0;
      while (read < chunk.length) {
        const take = Math.min(frameBytes - filled, chunk.length - read);
        rgb.set(chunk.subarray(read, read + take), filled);
        filled += take;
        read += take;
        if (filled === frameBytes) {
          yield { index, time: offset + index / request.fps, rgb, size: request.size };
          index += 1;
          filled = 0;
        }
      }
    }
    await decode.done;
    finished = true;
  } finally {
    // The consumer stopped early (error or cancel): don't leave FFmpeg running.
    if (!finished) decode.kill();
  }
}
