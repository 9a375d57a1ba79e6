/**
 * Notices an MP4/MOV cut short. ffprobe reads only the index (`moov`): when the index comes
 * first (a "fast start" file, as most phones and web encoders write), the first half of a video
 * probes exactly like the whole, and the loss shows only when decoding reaches the missing
 * frames. The top-level boxes say how long they are, so a file that ends inside one is
 * incomplete: walking their headers (a few reads, however large the file) is enough to know.
 */
import { open } from 'node:fs/promises';
import { errors } from '../errors.js';

/** More top-level boxes than any real recording has (fragmented MP4s have a few per second). */
const MAX_BOXES = 100_000;

/** Throws a 422 CORRUPT_VIDEO (the engine's code for a damaged file) when a top-level box overruns the file. */
export async function assertIsoBoxesComplete(file: string): Promise<void> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const header = Buffer.alloc(16);
    let offset = 0;
    for (let boxes = 0; offset < size && boxes < MAX_BOXES; boxes++) {
      const { bytesRead } = await handle.read(header, 0, 16, offset);
      if (bytesRead < 8) throw incomplete(offset, size);
      let boxSize = header.readUInt32BE(0);
      if (boxSize === 1) {
        if (bytesRead < 16) throw incomplete(offset, size);
        boxSize = Number(header.readBigUInt64BE(8));
      } else if (boxSize === 0) {
        return; // "to the end of the file": complete by definition
      }
      if (boxSize < 8) throw incomplete(offset, size);
      if (offset + boxSize > size) throw incomplete(offset, size, header.subarray(4, 8).toString('latin1'));
      offset += boxSize;
    }
  } finally {
    await handle.close();
  }
}

function incomplete(offset: number, size: number, box?: string) {
  return errors.badUpload(
    'CORRUPT_VIDEO',
    'the video is damaged or incomplete (it ends before its data does): was the upload cut short? Upload the whole file again',
    { bytes: size, ...(box ? { box, boxOffset: offset } : { offset }) },
  );
}
