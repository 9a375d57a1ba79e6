/** Object keys and content types for uploads: decided by us, never taken from the client as is. */
import { extname } from 'node:path';

const EXTENSIONS: Record<string, string> = {
  '.mp4': 'video/mp4',
  '.m4v': 'video/x-m4v',
  '.mov': 'video/quicktime',
  '.3gp': 'video/3gpp',
  '.mkv': 'video/x-matroska',
  '.webm': 'video/webm',
};

/** `uploads/<user>/<upload><ext>`; the extension only when it is a video one (a hint for tools). */
export function uploadKey(userId: string, uploadId: string, filename: string): string {
  const ext = extname(filename).toLowerCase();
  return `uploads/${userId}/${uploadId}${ext in EXTENSIONS ? ext : ''}`;
}

/** The stored content type: the client's when it is a video type, else the extension's. */
export function uploadContentType(filename: string, declared: string | undefined): string {
  if (declared && /^video\/[a-z0-9.+-]{1,64}$/i.test(declared)) return declared.toLowerCase();
  return EXTENSIONS[extname(filename).toLowerCase()] ?? 'application/octet-stream';
}

/** A file name safe to echo back and to put in Content-Disposition. */
export function cleanFilename(name: string | undefined): string {
  const base = (name ?? '').split(/[\\/]/).pop() ?? '';
  const cleaned = base.replace(/[^\w.\- ()]+/g, '_').slice(0, 200);
  return cleaned || 'video';
}
