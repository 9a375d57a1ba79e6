/**
 * One analysis as the API hands it to a dispatcher, and what comes back. Shared by the API's
 * dispatchers (services/api/dispatch/) and the queue/inline workers (services/worker/), which
 * is why it lives in platform: the worker never imports the API.
 */

/** Everything needed to run one analysis (ids, buckets and keys are decided by the API). */
export interface AnalysisTask {
  analysisId: string;
  source: { bucket: string; key: string };
  exercise: string;
  fps: number;
  /** Outputs go to output.bucket under output.prefix (report.json, frames.csv, thumbnails/…). */
  output: { bucket: string; prefix: string };
  /** GPUs for the Kubernetes Job; 0 = CPU (kubernetes dispatch only). */
  gpu?: number;
}

/** Where one finished analysis put its outputs (object keys, in output.bucket). */
export interface AnalysisResults {
  bucket: string;
  prefix: string;
  /** Key of report.json. */
  report: string;
  /** Keys of the thumbnails, in rep order. */
  thumbnails: string[];
  /** Key of frames.csv. */
  framesCsv: string;
}

/** The report's headline: status.summary of a VideoAnalysis, summary column of a row. */
export interface AnalysisSummary {
  exercise: string;
  reps: number;
  durationSeconds: number;
  score: number | null;
  faults: unknown[];
  [extra: string]: unknown;
}

export interface AnalysisTaskResult {
  summary: AnalysisSummary;
  results: AnalysisResults;
}

export interface AnalysisProgress {
  framesDone: number;
  framesTotal: number;
}
