/**
 * The operator's Prometheus metrics, on a registry of its own (served at /metrics by health.ts).
 * Gauges that describe state (queue depth, analyses per phase, watch freshness) are computed at
 * scrape time from callbacks, so nothing has to keep them in step.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { PHASES } from '../services/platform/kube/video-analysis.js';

/** What the gauges read when scraped. */
export interface MetricSources {
  queueDepth(): number;
  /** VideoAnalyses per phase (a resource with no phase yet counts as Pending). */
  phaseCounts(): Record<string, number>;
  /** Per watched resource: Unix seconds of the last watch event or list, 0 when none yet. */
  lastWatchEvent(): Record<string, number>;
  isLeader(): boolean;
}

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconciles = new Counter({
    name: 'nfc_operator_reconciles_total',
    help: 'Reconciles of VideoAnalyses, by result (success, error)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly reconcileErrors = new Counter({
    name: 'nfc_operator_reconcile_errors_total',
    help: 'Reconciles that failed and will be retried with backoff',
    registers: [this.registry],
  });
  readonly reconcileDuration = new Histogram({
    name: 'nfc_operator_reconcile_duration_seconds',
    help: 'Time of one reconcile (observe, plan, apply)',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly apiRequests = new Counter({
    name: 'nfc_operator_api_requests_total',
    help: 'HTTP requests to the Kubernetes API server, by verb (watches included) and resource (jobs, videoanalyses/status, events, leases…)',
    labelNames: ['verb', 'resource'] as const,
    registers: [this.registry],
  });
  readonly watchRestarts = new Counter({
    name: 'nfc_operator_watch_restarts_total',
    help: 'Watches restarted, by resource and reason (closed, timeout, expired, error, resync)',
    labelNames: ['resource', 'reason'] as const,
    registers: [this.registry],
  });

  constructor(sources: MetricSources) {
    new Gauge({
      name: 'nfc_operator_queue_depth',
      help: 'VideoAnalyses waiting in the work queue to be reconciled',
      registers: [this.registry],
      collect() {
        this.set(sources.queueDepth());
      },
    });
    new Gauge({
      name: 'nfc_operator_jobs',
      help: 'VideoAnalyses (each one worker Job over its life) by phase',
      labelNames: ['phase'] as const,
      registers: [this.registry],
      collect() {
        const counts = sources.phaseCounts();
        for (const phase of PHASES) this.set({ phase }, counts[phase] ?? 0);
      },
    });
    new Gauge({
      name: 'nfc_operator_watch_last_event_timestamp_seconds',
      help: 'Unix time of the last watch event (bookmarks included) or list, by resource',
      labelNames: ['resource'] as const,
      registers: [this.registry],
      collect() {
        for (const [resource, seconds] of Object.entries(sources.lastWatchEvent())) this.set({ resource }, seconds);
      },
    });
    new Gauge({
      name: 'nfc_operator_leader',
      help: '1 while this replica holds the leader Lease and reconciles',
      registers: [this.registry],
      collect() {
        this.set(sources.isLeader() ? 1 : 0);
      },
    });
    collectDefaultMetrics({ register: this.registry });
  }
}
