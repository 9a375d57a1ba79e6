/**
 * Errors raised by the analysis engine. Each has a stable `code` that callers match on
 * (never `instanceof` across package boundaries) and a `kind`:
 * - `bad-input`: the video or the request can never be analysed; retrying is pointless.
 * - `internal`: something on our side failed; a retry may succeed.
 */
export type EngineErrorKind = 'bad-input' | 'internal';

export const ENGINE_ERROR_CODES = {
  FILE_NOT_FOUND: 'bad-input',
  FILE_EMPTY: 'bad-input',
  FILE_TOO_LARGE: 'bad-input',
  NOT_A_LOCAL_FILE: 'bad-input',
  UNSUPPORTED_CONTAINER: 'bad-input',
  CORRUPT_VIDEO: 'bad-input',
  UNSUPPORTED_CODEC: 'bad-input',
  NO_VIDEO_STREAM: 'bad-input',
  TOO_MANY_STREAMS: 'bad-input',
  RESOLUTION_TOO_LARGE: 'bad-input',
  RESOLUTION_TOO_SMALL: 'bad-input',
  DURATION_TOO_LONG: 'bad-input',
  DURATION_UNKNOWN: 'bad-input',
  PROBE_TIMEOUT: 'bad-input',
  DECODE_FAILED: 'bad-input',
  INVALID_OPTIONS: 'bad-input',
  FFMPEG_MISSING: 'internal',
  MODEL_MISSING: 'internal',
  BACKEND_UNAVAILABLE: 'internal',
  INTERNAL: 'internal',
} as const satisfies Record<string, EngineErrorKind>;

export type EngineErrorCode = keyof typeof ENGINE_ERROR_CODES;

export class EngineError extends Error {
  readonly code: EngineErrorCode;
  readonly kind: EngineErrorKind;
  /** Extra facts for logs and API responses (file, limits, what was found). */
  readonly context: Readonly<Record<string, unknown>>;

  constructor(code: EngineErrorCode, message: string, context: Record<string, unknown> = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EngineError';
    this.code = code;
    this.kind = ENGINE_ERROR_CODES[code];
    this.context = Object.freeze({ ...context });
  }
}

/** True for any error carrying one of the engine's codes, wherever it was constructed. */
export function isEngineError(error: unknown): error is EngineError {
  if (!(error instanceof Error)) return false;
  const code: unknown = (error as Error & { code?: unknown }).code;
  return typeof code === 'string' && code in ENGINE_ERROR_CODES;
}
