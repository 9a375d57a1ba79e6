/**
 * Where the object store is and how to sign in, from the environment the Job's S3 Secret
 * provides: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (+ optional AWS_SESSION_TOKEN),
 * S3_ENDPOINT (MinIO or any S3-compatible server; unset means AWS S3), S3_REGION,
 * S3_FORCE_PATH_STYLE.
 */
export interface ObjectStoreConfig {
  /** e.g. http://minio.nfc.svc:9000; undefined: AWS S3 for the region. */
  endpoint?: string;
  region: string;
  /** Path-style URLs (http://host/bucket/key): what MinIO and most S3-compatible servers need. */
  forcePathStyle: boolean;
  /** Static keys; undefined leaves the SDK's default chain (IRSA, instance profile…). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Attempts per request, the SDK's own retries included (transient errors only). */
  maxAttempts: number;
}

/** Reads and checks the S3 settings; throws one error listing every problem. */
export function objectStoreConfigFromEnv(env: NodeJS.ProcessEnv): ObjectStoreConfig {
  const problems: string[] = [];
  const endpoint = env.S3_ENDPOINT?.trim() || undefined;
  if (endpoint) {
    try {
      const url = new URL(endpoint);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') problems.push('S3_ENDPOINT must be an http(s) URL');
    } catch {
      problems.push(`S3_ENDPOINT is not a URL: "${endpoint}"`);
    }
  }
  const accessKeyId = env.AWS_ACCESS_KEY_ID?.trim();
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY?.trim();
  if (Boolean(accessKeyId) !== Boolean(secretAccessKey)) {
    problems.push('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together');
  }
  const pathStyle = env.S3_FORCE_PATH_STYLE?.trim().toLowerCase();
  if (pathStyle !== undefined && pathStyle !== '' && pathStyle !== 'true' && pathStyle !== 'false') {
    problems.push(`S3_FORCE_PATH_STYLE must be true or false (got "${env.S3_FORCE_PATH_STYLE}")`);
  }
  const attempts = env.S3_MAX_ATTEMPTS?.trim() ? Number(env.S3_MAX_ATTEMPTS) : 3;
  if (!(Number.isInteger(attempts) && attempts >= 1 && attempts <= 10)) {
    problems.push(`S3_MAX_ATTEMPTS must be an integer from 1 to 10 (got "${env.S3_MAX_ATTEMPTS}")`);
  }
  if (problems.length > 0) throw new Error(`invalid object store settings: ${problems.join('; ')}`);
  return Object.freeze({
    ...(endpoint ? { endpoint } : {}),
    region: env.S3_REGION?.trim() || env.AWS_REGION?.trim() || 'us-east-1',
    // A custom endpoint is almost always MinIO-like (no virtual-host DNS); AWS prefers virtual hosts.
    forcePathStyle: pathStyle ? pathStyle === 'true' : endpoint !== undefined,
    ...(accessKeyId && secretAccessKey
      ? {
          // Not frozen: the SDK tags the credentials object it is given.
          credentials: {
            accessKeyId,
            secretAccessKey,
            ...(env.AWS_SESSION_TOKEN?.trim() ? { sessionToken: env.AWS_SESSION_TOKEN.trim() } : {}),
          },
        }
      : {}),
    maxAttempts: attempts,
  });
}
