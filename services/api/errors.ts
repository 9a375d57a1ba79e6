/**
 * The API's errors: one base class with a stable `code` and an HTTP status, and one catalogue.
 * The app's error handler (app.ts) turns them into `{ error: { code, message, details? } }`
 * bodies; clients match on `code`, never on the message.
 */

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export function isApiError(error: unknown): error is ApiError {
  return error instanceof Error && error.name === 'ApiError' && typeof (error as ApiError).code === 'string';
}

/** The catalogue: every error the API sends, by code. */
export const errors = {
  unauthenticated: (message = 'a valid access token is required') => new ApiError(401, 'UNAUTHENTICATED', message),
  invalidCredentials: () => new ApiError(401, 'INVALID_CREDENTIALS', 'wrong email or password'),
  tokenExpired: () => new ApiError(401, 'TOKEN_EXPIRED', 'the access token has expired; log in again'),
  /** Bad signature, unexpected algorithm, wrong issuer or audience, malformed, or its account is gone. */
  tokenInvalid: (message = 'the access token is not valid') => new ApiError(401, 'TOKEN_INVALID', message),
  forbidden: (message = 'not allowed') => new ApiError(403, 'FORBIDDEN', message),
  notFound: (what: string) => new ApiError(404, 'NOT_FOUND', `${what} not found`),
  emailTaken: () => new ApiError(409, 'EMAIL_TAKEN', 'an account with this email already exists'),
  conflict: (code: string, message: string, details?: Record<string, unknown>) =>
    new ApiError(409, code, message, details),
  validation: (message: string, details?: Record<string, unknown>) =>
    new ApiError(400, 'VALIDATION_FAILED', message, details),
  badUpload: (code: string, message: string, details?: Record<string, unknown>) =>
    new ApiError(422, code, message, details),
  tooLarge: (maxBytes: number) =>
    new ApiError(413, 'UPLOAD_TOO_LARGE', `the upload is over the ${maxBytes} byte limit`, { maxBytes }),
  unsupportedMediaType: (message: string) => new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', message),
  idempotencyMismatch: () =>
    new ApiError(422, 'IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used for a different request'),
  idempotencyInFlight: () =>
    new ApiError(409, 'IDEMPOTENCY_KEY_IN_FLIGHT', 'a request with this Idempotency-Key is still being processed'),
  unavailable: (message: string) => new ApiError(503, 'UNAVAILABLE', message),
} as const;
