/**
 * The operator's own writes, until its watches show them. Without this, a reconcile that runs
 * between a write and its watch event (a Job event arriving before the status event, say)
 * would plan from the old object and write the same thing again — a wasted write and a
 * duplicate Event — and a Job just created would not yet count against the admission caps.
 */
import { type JobObject, keyOf, objectKey, slimAnalysis, type VideoAnalysisObject } from './objects.js';

/** A created Job not seen by the watch after this long is dropped (the relist has the truth). */
const PENDING_JOB_TTL_MS = 120_000;

export class OwnWrites {
  private readonly analyses = new Map<string, { base?: string; written: VideoAnalysisObject }>();
  private readonly pendingJobs = new Map<string, { job: JobObject; since: number }>();

  /** `written` is what the API server returned for a write made on `before`. */
  recordAnalysis(before: VideoAnalysisObject, written: VideoAnalysisObject): void {
    const key = keyOf(written);
    const base = this.analyses.get(key)?.base ?? before.metadata.resourceVersion;
    this.analyses.set(key, { ...(base !== undefined ? { base } : {}), written: slimAnalysis(written) });
  }

  /** The newer of the cached resource and our last write to it. */
  analysis(cached: VideoAnalysisObject): VideoAnalysisObject {
    const key = keyOf(cached);
    const own = this.analyses.get(key);
    if (!own) return cached;
    if (isOlder(cached.metadata.resourceVersion, own.written.metadata.resourceVersion, own.base)) return own.written;
    this.analyses.delete(key);
    return cached;
  }

  forgetAnalysis(key: string): void {
    this.analyses.delete(key);
  }

  addPendingJob(job: JobObject): void {
    this.pendingJobs.set(keyOf(job), { job, since: Date.now() });
  }

  /** The watch has the Job, or its creation failed. */
  dropPendingJob(namespace: string, name: string): void {
    this.pendingJobs.delete(objectKey(namespace, name));
  }

  pendingJob(namespace: string, name: string): JobObject | undefined {
    const key = objectKey(namespace, name);
    const entry = this.pendingJobs.get(key);
    if (!entry) return undefined;
    if (Date.now() - entry.since > PENDING_JOB_TTL_MS) {
      this.pendingJobs.delete(key);
      return undefined;
    }
    return entry.job;
  }

  *pending(): IterableIterator<JobObject> {
    for (const { job } of this.pendingJobs.values()) yield job;
  }
}

/**
 * Whether the cached version predates ours. resourceVersions are opaque, but every API server
 * backed by etcd uses its revision, an integer; where they are not integers, only "still the
 * version we wrote on" counts as older.
 */
function isOlder(cached: string | undefined, ours: string | undefined, base: string | undefined): boolean {
  if (cached === undefined || ours === undefined) return false;
  if (/^\d+$/.test(cached) && /^\d+$/.test(ours)) return BigInt(cached) < BigInt(ours);
  return cached === base;
}
