/**
 * Object-store failures, split the way a caller must act on them:
 * - `permanent`: retrying cannot help (the object or bucket does not exist, access is denied,
 *   the request is invalid);
 * - `transient`: the network, a 5xx, throttling or a timeout; the same request may work later.
 * Callers match on `code` and `kind`, never on `instanceof`.
 */
export type ObjectStoreErrorKind = 'transient' | 'permanent';

export class ObjectStoreError extends Error {
  /** The S3 error code (NoSuchKey, AccessDenied, SlowDown…) or the network error code (ECONNREFUSED…). */
  readonly code: string;
  readonly kind: ObjectStoreErrorKind;
  /** What was attempted: operation, bucket, key, HTTP status. */
  readonly context: Readonly<Record<string, unknown>>;

  constructor(
    message: string,
    code: string,
    kind: ObjectStoreErrorKind,
    context: Record<string, unknown>,
    cause?: unknown,
  ) {
    super(message, { cause });
    this.name = 'ObjectStoreError';
    this.code = code;
    this.kind = kind;
    this.context = Object.freeze({ ...context });
  }
}

/** True for an error raised by this module, wherever it was constructed. */
export function isObjectStoreError(error: unknown): error is ObjectStoreError {
  return (
    error instanceof Error &&
    error.name === 'ObjectStoreError' &&
    ((error as ObjectStoreError).kind === 'transient' || (error as ObjectStoreError).kind === 'permanent')
  );
}

/** S3 error codes for which a retry is pointless. */
const PERMANENT_CODES = new Set([
  'NoSuchKey',
  'NotFound', // HeadObject's 404 has no body, so no code
  'NoSuchBucket',
  'AccessDenied',
  'AllAccessDisabled',
  'AccountProblem',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidBucketName',
  'InvalidObjectState',
  'InvalidArgument',
  'InvalidRequest',
  'InvalidRange',
  'MethodNotAllowed',
  'EntityTooLarge',
  'KeyTooLongError',
  'NoSuchUpload',
]);

/** S3 error codes that mean "not now": throttling, timeouts, a server in trouble. */
const TRANSIENT_CODES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'ProvisionedThroughputExceededException',
  'RequestTimeout',
  'RequestTimeoutException',
  'RequestTimeTooSkewed',
  'InternalError',
  'ServiceUnavailable',
  'ExpiredToken',
  'TimeoutError',
  'XMinioServerNotInitialized',
]);

/** Network failures (Node's system error codes): the server was not reached or the connection broke. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

export interface Classification {
  kind: ObjectStoreErrorKind;
  code: string;
  httpStatus?: number;
  /** The server was not reached, or the connection broke. */
  network?: true;
}

/** Decides whether a failed S3 call is worth retrying. Unknown failures count as transient. */
export function classifyS3Error(error: unknown): Classification {
  const e = (error ?? {}) as {
    name?: unknown;
    code?: unknown;
    Code?: unknown;
    $metadata?: { httpStatusCode?: number };
    $retryable?: unknown;
    errors?: unknown;
  };
  const httpStatus = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  const withStatus = (kind: ObjectStoreErrorKind, code: string): Classification =>
    httpStatus === undefined ? { kind, code } : { kind, code, httpStatus };

  // Network errors first: the SDK wraps none of them, and an AggregateError (one per address
  // tried) carries the code of its parts.
  const sysCode = typeof e.code === 'string' ? e.code : firstNestedCode(e.errors);
  if (sysCode && NETWORK_CODES.has(sysCode)) return { ...withStatus('transient', sysCode), network: true };

  const code = typeof e.Code === 'string' ? e.Code : typeof e.name === 'string' ? e.name : 'Unknown';
  if (PERMANENT_CODES.has(code)) return withStatus('permanent', code);
  if (TRANSIENT_CODES.has(code) || e.$retryable) return withStatus('transient', code);
  if (httpStatus !== undefined) {
    if (httpStatus >= 500 || httpStatus === 429 || httpStatus === 408) return withStatus('transient', code);
    if (httpStatus >= 400) return withStatus('permanent', code);
  }
  return withStatus('transient', sysCode ?? code);
}

function firstNestedCode(errors: unknown): string | undefined {
  if (!Array.isArray(errors)) return undefined;
  for (const inner of errors) {
    const code = (inner as { code?: unknown } | null)?.code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/**
 * Turns a failed S3 call into an ObjectStoreError with a message a person can act on
 * (`operation` of `s3://bucket/key` failed, and why). An ObjectStoreError passes through.
 */
export function wrapS3Error(
  operation: string,
  bucket: string,
  key: string,
  err: unknown,
  endpoint?: string,
): ObjectStoreError {
  if (isObjectStoreError(err)) return err;
  const { kind, code, httpStatus, network } = classifyS3Error(err);
  const where = `s3://${bucket}/${key}`;
  const detail = err instanceof Error && err.message && err.message !== code ? `: ${err.message}` : '';
  const message =
    code === 'NoSuchKey' || code === 'NotFound'
      ? `${where} does not exist`
      : code === 'NoSuchBucket'
        ? `bucket "${bucket}" does not exist`
        : code === 'AccessDenied' || code === 'InvalidAccessKeyId' || code === 'SignatureDoesNotMatch'
          ? `access to ${where} denied (${code}): check the S3 credentials and the bucket policy`
          : network
            ? `object store ${endpoint ?? 'S3'} unreachable during ${operation} of ${where} (${code}${detail})`
            : `S3 ${operation} of ${where} failed (${code}${detail})`;
  return new ObjectStoreError(
    message,
    code,
    kind,
    { operation, bucket, key, ...(httpStatus !== undefined ? { httpStatus } : {}) },
    err,
  );
}
