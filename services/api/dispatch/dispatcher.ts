/**
 * How an analysis row becomes a running analysis, chosen by NFC_DISPATCH:
 * - `kubernetes`: create a VideoAnalysis; a watch mirrors its status back (kubernetes.ts);
 * - `queue`: a BullMQ job whose id is the analysis id, consumed by `nfc worker queue` (queue.ts);
 * - `inline`: worker threads in this process (inline.ts).
 * Every dispatcher reports what happens through `updates` (the same stream on every API replica,
 * because each replica listens to the shared source: the watch, or BullMQ's queue events);
 * the API writes them into the row and fans them out to SSE clients.
 */
import type { AnalysisProgress, AnalysisResults, AnalysisSummary, AnalysisTask } from '../../platform/analysis-task.js';
import type { AnalysisStatus } from '../../platform/db/schema.js';

export type { AnalysisTask };

/** A change to one analysis; absent fields are unchanged. */
export interface AnalysisUpdate {
  analysisId: string;
  status?: AnalysisStatus;
  progress?: AnalysisProgress;
  summary?: AnalysisSummary;
  results?: AnalysisResults;
  message?: string;
  errorCode?: string;
  attempts?: number;
  /** ISO time the work started / ended (taken from the source when it has one). */
  startedAt?: string;
  finishedAt?: string;
  /**
   * kubernetes only: a VideoAnalysis applied with kubectl (no analysis row yet). The API creates
   * a row for it (no owner; admins see it).
   */
  discovered?: { resource: string; exercise: string; fps: number };
}

/**
 * kubernetes only: every analysis the source holds, after a full list (and after the update of
 * each was sent). An unfinished row of this namespace that is not among them lost its resource
 * while no replica watched (a delete event is only seen by a watch that is running).
 */
export interface AnalysisListing {
  /** `namespace/` prefix of the rows this listing covers (their `resource` column). */
  resourcePrefix: string;
  ids: ReadonlySet<string>;
  /** When the list began: a resource created after that may be missing from it. */
  listStartedAt: Date;
}

export interface Dispatcher {
  readonly mode: 'kubernetes' | 'queue' | 'inline';
  /**
   * Starts listening (watch, queue events, thread pool). `onUpdate` may be called at once;
   * `onListed` only by a dispatcher that can list everything it runs (kubernetes).
   */
  start(onUpdate: (update: AnalysisUpdate) => void, onListed?: (listing: AnalysisListing) => void): Promise<void>;
  /** `namespace/name` of the resource that will stand for the analysis (kubernetes), for its row. */
  resourceOf?(analysisId: string): string;
  /** Hands the analysis over; idempotent for the same analysisId (a retried request). */
  submit(task: AnalysisTask): Promise<void>;
  /** Stops it if running (best effort) and forgets it; idempotent. */
  cancel(analysisId: string): Promise<void>;
  /** Throws with a clear message when what this mode depends on is unreachable (/readyz). */
  ready(): Promise<void>;
  stop(): Promise<void>;
}
