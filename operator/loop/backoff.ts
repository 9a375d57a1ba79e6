/** Backoff and sleep live in services/platform/kube/ (shared with the API's watch). */
export * from '../../services/platform/kube/backoff.js';
