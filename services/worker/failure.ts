/**
 * How a failed analysis ends: `permanent` when the same Job can never succeed (a corrupt or
 * hostile video, a source object that does not exist, a spec the worker cannot run), so the
 * Job fails at once; `transient` when a retry may work (S3 or API server hiccup, a crash on
 * our side), so the Job's backoff retries it. Matching is on `code`/`kind`, never `instanceof`.
 */
import { isEngineError } from '../analysis/errors.js';
import { apiErrorStatus, isTransientApiError } from '../platform/kube/client.js';
import { isObjectStoreError } from '../platform/object-store/errors.js';

export type FailureKind = 'permanent' | 'transient';

export interface Failure {
  kind: FailureKind;
  /** Stable code for logs: CORRUPT_VIDEO, SOURCE_MISSING, ECONNREFUSED, KUBE_API_503… */
  code: string;
  /** One sentence for the user (status.message, the termination message). */
  message: string;
}

/** A failure the worker has already classified (an unsupported source, an API call that failed). */
export class JobError extends Error {
  override readonly name = 'JobError';
  constructor(
    readonly kind: FailureKind,
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Runs one Kubernetes API call; a failure becomes a JobError saying what was being done. */
export async function kubeCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const status = apiErrorStatus(err);
    throw new JobError(
      isTransientApiError(err) ? 'transient' : 'permanent',
      status === undefined ? 'KUBE_API_UNREACHABLE' : `KUBE_API_${status}`,
      `could not ${what}: ${status === undefined ? 'API server unreachable' : `HTTP ${status}`} (${firstLine(err)})`,
      { cause: err },
    );
  }
}

export function describeFailure(error: unknown): Failure {
  if (error instanceof Error && error.name === 'JobError') {
    const e = error as JobError;
    return { kind: e.kind, code: e.code, message: e.message };
  }
  if (isEngineError(error)) {
    return error.kind === 'bad-input'
      ? { kind: 'permanent', code: error.code, message: `the video cannot be analysed: ${error.message}` }
      : { kind: 'transient', code: error.code, message: `analysis failed: ${error.message}` };
  }
  if (isObjectStoreError(error)) return { kind: error.kind, code: error.code, message: error.message };
  if (error instanceof Error && error.name === 'AbortError') {
    return { kind: 'transient', code: 'ABORTED', message: 'the worker was stopped before it finished' };
  }
  return { kind: 'transient', code: 'INTERNAL', message: `internal error: ${firstLine(error)}` };
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (text.split('\n')[0] ?? '').slice(0, 300);
}
