/**
 * What went wrong talking to the Kubernetes API, with a stable `code` (matched by /readyz and
 * the analyses routes) and a message that says what to check.
 */
import { apiErrorStatus, isTransientApiError } from '../../platform/kube/client.js';
import { GROUP, PLURAL } from '../../platform/kube/video-analysis.js';

export type KubernetesDispatchErrorCode =
  /** The API server was not reached, timed out, or failed (5xx, 429): worth retrying. */
  | 'KUBERNETES_UNAVAILABLE'
  /** The VideoAnalysis CRD is not installed (or not served yet). */
  | 'KUBERNETES_CRD_MISSING'
  /** Our service account may not do this (the chart's API Role). */
  | 'KUBERNETES_FORBIDDEN'
  /** The API server refused the request itself (validation, missing namespace). */
  | 'KUBERNETES_REJECTED';

export class KubernetesDispatchError extends Error {
  override readonly name = 'KubernetesDispatchError';
  constructor(
    readonly code: KubernetesDispatchErrorCode,
    message: string,
    /** The HTTP status the API server answered; undefined when it was not reached. */
    readonly status: number | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  /** True when retrying later may work (the row can stay queued). */
  get transient(): boolean {
    return this.code === 'KUBERNETES_UNAVAILABLE';
  }
}

/** Turns a client-node error from `doing` (e.g. "create VideoAnalysis ns/a-…") into a KubernetesDispatchError. */
export function kubernetesError(err: unknown, doing: string, server: string): KubernetesDispatchError {
  const status = apiErrorStatus(err);
  const detail = serverMessage(err);
  const options = { cause: err };
  if (status === undefined) {
    return new KubernetesDispatchError(
      'KUBERNETES_UNAVAILABLE',
      `cannot reach the Kubernetes API server at ${server} to ${doing}: ${detail}`,
      status,
      options,
    );
  }
  if (status === 401 || status === 403) {
    return new KubernetesDispatchError(
      'KUBERNETES_FORBIDDEN',
      `the Kubernetes API server refused to ${doing} (${status}; check the API's Role and service account): ${detail}`,
      status,
      options,
    );
  }
  // A 404 that is not about a namespace: the group or the resource is not served at all.
  if (status === 404 && !/^namespaces "[^"]*" not found/.test(detail)) {
    return new KubernetesDispatchError(
      'KUBERNETES_CRD_MISSING',
      `the ${PLURAL}.${GROUP} CRD is not installed on ${server} (cannot ${doing}): install the chart's CRDs`,
      status,
      options,
    );
  }
  if (isTransientApiError(err)) {
    return new KubernetesDispatchError(
      'KUBERNETES_UNAVAILABLE',
      `the Kubernetes API server failed to ${doing} (${status}): ${detail}`,
      status,
      options,
    );
  }
  return new KubernetesDispatchError(
    'KUBERNETES_REJECTED',
    `the Kubernetes API server refused to ${doing} (${status}): ${detail}`,
    status,
    options,
  );
}

/** The Status message in an error's body, else the error's first line. */
function serverMessage(err: unknown): string {
  const body = (err as { body?: unknown } | null)?.body;
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
  }
  const message = (parsed as { message?: unknown } | undefined)?.message;
  if (typeof message === 'string' && message) return message;
  const e = err as { message?: unknown; cause?: { code?: unknown; message?: unknown } } | null;
  const cause = e?.cause?.code ?? e?.cause?.message;
  const first = String(e?.message ?? err).split('\n')[0] ?? '';
  return (cause ? `${first} (${String(cause)})` : first).slice(0, 300);
}
