/**
 * A VideoAnalysis's status, as the operator (phase, conditions, attempts, times) and the worker
 * (progress, summary, results) write it, translated into the update the API writes into the
 * analysis row. Pure: the watch calls it for every version it sees.
 */
import type { AnalysisResults, AnalysisSummary } from '../../platform/analysis-task.js';
import type { AnalysisStatus } from '../../platform/db/schema.js';
import type { Phase, VideoAnalysisStatus } from '../../platform/kube/video-analysis.js';
import { keyUnder, parseS3Uri } from '../../platform/object-store/s3-uri.js';
import type { AnalysisUpdate } from './dispatcher.js';
import { analysisIdOf, type WatchedAnalysis } from './kubernetes-resource.js';

const STATUS_OF_PHASE: Record<Phase, AnalysisStatus> = {
  Pending: 'queued',
  Queued: 'queued',
  Running: 'running',
  Succeeded: 'succeeded',
  Failed: 'failed',
};

/** The CRD's defaults, for resources applied without them. */
const DEFAULT_EXERCISE = 'auto';
const DEFAULT_FPS = 15;

export function isTerminalPhase(phase: Phase | undefined): boolean {
  return phase === 'Succeeded' || phase === 'Failed';
}

/** `namespace/name`, as the analysis row's `resource` column holds it. */
export function resourceRef(va: WatchedAnalysis): string {
  return `${va.metadata.namespace ?? ''}/${va.metadata.name}`;
}

/** The whole current state of one resource as an update (absent status fields stay absent). */
export function updateFromResource(va: WatchedAnalysis): AnalysisUpdate {
  const { id, discovered } = analysisIdOf(va);
  const status = va.status ?? {};
  const deleting = Boolean(va.metadata.deletionTimestamp) && !isTerminalPhase(status.phase);
  const update: AnalysisUpdate = {
    analysisId: id,
    // No phase yet: the operator has not seen it, so it waits like a queued one.
    status: deleting ? 'cancelled' : STATUS_OF_PHASE[status.phase ?? 'Pending'],
  };
  if (status.progress) update.progress = { ...status.progress };
  if (status.summary) update.summary = summaryOf(va, status.summary);
  const results = resultsOf(va);
  if (results) update.results = results;
  if (deleting) update.message = deletedMessage(va);
  else if (status.message) update.message = status.message;
  if (status.phase === 'Failed') {
    const reason = status.conditions?.find((c) => c.type === 'Failed' && c.status === 'True')?.reason;
    if (reason) update.errorCode = reason;
  }
  if (status.attempts !== undefined) update.attempts = status.attempts;
  if (status.startTime) update.startedAt = status.startTime;
  const finishedAt = status.completionTime ?? terminalConditionTime(va);
  if (finishedAt) update.finishedAt = finishedAt;
  else if (deleting) update.finishedAt = String(va.metadata.deletionTimestamp);
  // A kubectl resource being deleted gets no row: one deleted through the API (whose row is
  // already gone) would otherwise come back from the events its finalizer causes.
  if (discovered && !va.metadata.deletionTimestamp) {
    update.discovered = {
      resource: resourceRef(va),
      exercise: va.spec.exercise ?? DEFAULT_EXERCISE,
      fps: va.spec.sampling?.fps ?? DEFAULT_FPS,
    };
  }
  return update;
}

/**
 * A resource that is gone: an analysis it had not finished is cancelled (whoever deleted it,
 * the API or kubectl); a finished one keeps its outcome, so there is nothing to say.
 */
export function updateFromDeletion(va: WatchedAnalysis, now: Date): AnalysisUpdate | undefined {
  if (isTerminalPhase(va.status?.phase)) return undefined;
  return {
    analysisId: analysisIdOf(va).id,
    status: 'cancelled',
    message: deletedMessage(va),
    finishedAt: now.toISOString(),
  };
}

function deletedMessage(va: WatchedAnalysis): string {
  return `the VideoAnalysis ${resourceRef(va)} was deleted before it finished`;
}

function summaryOf(va: WatchedAnalysis, s: NonNullable<VideoAnalysisStatus['summary']>): AnalysisSummary {
  return {
    ...s,
    exercise: s.exercise ?? va.spec.exercise ?? DEFAULT_EXERCISE,
    reps: s.reps,
    durationSeconds: s.durationSeconds,
    score: s.score ?? null,
    faults: [...s.faults],
  };
}

/**
 * status.results holds s3:// URIs; the row holds keys in one bucket. frames.csv is not in the
 * status (it is in the report), but the worker always writes it beside report.json.
 */
function resultsOf(va: WatchedAnalysis): AnalysisResults | undefined {
  const r = va.status?.results;
  const report = r ? parseS3Uri(r.report) : undefined;
  if (!r || !report) return undefined;
  const prefix = va.spec.output.prefix;
  return {
    bucket: report.bucket,
    prefix,
    report: report.key,
    thumbnails: r.thumbnails.flatMap((uri) => {
      const thumb = parseS3Uri(uri);
      return thumb && thumb.bucket === report.bucket ? [thumb.key] : [];
    }),
    framesCsv: keyUnder(prefix, 'frames.csv'),
  };
}

/** When the operator marked it Succeeded or Failed (a Failed one may have no completionTime). */
function terminalConditionTime(va: WatchedAnalysis): string | undefined {
  const phase = va.status?.phase;
  if (!isTerminalPhase(phase)) return undefined;
  return va.status?.conditions?.find((c) => c.type === phase && c.status === 'True')?.lastTransitionTime;
}
