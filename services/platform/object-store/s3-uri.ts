/** `s3://bucket/key` URIs (what status.results holds) and key prefixes. */

export interface S3Object {
  bucket: string;
  key: string;
}

export function formatS3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

/** The bucket and key of an `s3://bucket/key` URI, or undefined when it is not one. */
export function parseS3Uri(uri: string): S3Object | undefined {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  return match?.[1] && match[2] ? { bucket: match[1], key: match[2] } : undefined;
}

/**
 * The key of `relative` under `prefix`, with exactly one slash between them: `analyses/x` and
 * `analyses/x/` both give `analyses/x/report.json`; an empty prefix gives the relative path.
 */
export function keyUnder(prefix: string, relative: string): string {
  const rel = relative.replace(/^\/+/, '');
  if (prefix === '') return rel;
  return prefix.endsWith('/') ? `${prefix}${rel}` : `${prefix}/${rel}`;
}
