/** The Content-Disposition of a download (S3's ResponseContentDisposition, the disk route's header). */

/**
 * `attachment` with the name twice: an ASCII fallback for old clients and the exact UTF-8 name
 * (RFC 6266 / RFC 5987). Quotes, backslashes and control characters never reach the header.
 */
export function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(filename).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
