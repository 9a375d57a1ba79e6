/**
 * Streams decoded frames one at a time. Only one frame (plus the pipe's buffer) is in
 * memory at once, whatever the video's length; FFmpeg pauses when we fall behind.
 */
import { type DecodeRequest, startDecode } from './ffmpeg.js';

export interface Frame {
  /** 0-based index in the sampled sequence. */
  index: number;
  /** Seconds from the start of the video. */
  time: number;
  /** size × size × 3 RGB bytes. The buffer is owned by the receiver. */
  rgb: Uint8Array;
  size: number;
}

export async function* decodeFrames(request: DecodeRequest): AsyncGenerator<Frame> {
  const frameBytes = request.size * request.size * 3;
  const decode = startDecode(request);
  const offset = request.startSeconds ?? 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let index = 0;
  let finished = false;
  try {
    for await (const chunk of decode.frames as AsyncIterable<Buffer>) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      while (pendingBytes >= frameBytes) {
        const joined = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending, pendingBytes);
        const rgb = new Uint8Array(frameBytes);
        rgb.set(joined.subarray(0, frameBytes));
        const rest = joined.subarray(frameBytes);
        pending = rest.length > 0 ? [rest] : [];
        pendingBytes = rest.length;
        yield { index, time: offset + index / request.fps, rgb, size: request.size };
        index += 1;
      }
    }
    await decode.done;
    finished = true;
  } finally {
    // The consumer stopped early (error or cancel): don't leave FFmpeg running.
    if (!finished) decode.kill();
  }
}
