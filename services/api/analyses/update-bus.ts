/**
 * Fans analysis changes out to the server-sent-event streams of this replica. Each replica
 * receives every change from the dispatcher's shared source (the Kubernetes watch, BullMQ's
 * queue events, or its own inline runner), so a client on any replica sees every update.
 */
import { EventEmitter } from 'node:events';
import type { AnalysisView } from './view.js';

export class AnalysisUpdateBus {
  readonly #emitter = new EventEmitter();

  constructor() {
    // One listener per open SSE stream: no fixed limit.
    this.#emitter.setMaxListeners(0);
  }

  publish(view: AnalysisView): void {
    this.#emitter.emit(view.id, view);
  }

  /** Calls `listener` with each new state of the analysis; returns the unsubscribe function. */
  subscribe(analysisId: string, listener: (view: AnalysisView) => void): () => void {
    this.#emitter.on(analysisId, listener);
    return () => this.#emitter.off(analysisId, listener);
  }

  listenerCount(analysisId: string): number {
    return this.#emitter.listenerCount(analysisId);
  }
}
