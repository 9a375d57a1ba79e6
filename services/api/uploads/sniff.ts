/**
 * Looks at the first bytes of an upload before anything is kept: only the containers the
 * engine opens (ISO base media: MP4/MOV/M4V/3GP; Matroska/WebM) pass. Playlists (HLS, DASH),
 * text and everything else are refused at once, whatever their file name says.
 */
import { ApiError } from '../errors.js';

/** Bytes needed to decide. */
export const SNIFF_BYTES = 16;

const ISO_BOX_TYPES = new Set(['ftyp', 'moov', 'mdat', 'free', 'skip', 'wide', 'pnot']);
const EBML_MAGIC = Buffer.from([0x1a, 0x45, 0xdf, 0xa3]);

export type Container = 'iso-bmff' | 'matroska';

/** The container family, or an ApiError 415 saying what the bytes look like instead. */
export function sniffContainer(head: Buffer): Container {
  if (head.length >= 8 && ISO_BOX_TYPES.has(head.subarray(4, 8).toString('latin1'))) return 'iso-bmff';
  if (head.subarray(0, 4).equals(EBML_MAGIC)) return 'matroska';
  throw new ApiError(
    415,
    'UNSUPPORTED_MEDIA_TYPE',
    `not a video file we accept (${describe(head)}); upload an MP4, MOV, M4V, 3GP, MKV or WebM recording`,
    {
      detected: describe(head),
    },
  );
}

function describe(head: Buffer): string {
  const text = head.toString('utf8').replace(/^\uFEFF/, '');
  if (head.length === 0) return 'the file is empty';
  if (text.startsWith('#EXTM3U')) return 'an HLS playlist';
  if (/^<\?xml|^<MPD/i.test(text.trimStart())) return 'an XML document, e.g. a DASH manifest';
  if (head.subarray(0, 4).toString('latin1') === 'RIFF') return 'a RIFF file (AVI/WAV)';
  if (head[0] === 0x47) return 'an MPEG transport stream';
  if (head.every((b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f))) return 'a text file';
  return 'an unknown binary format';
}
