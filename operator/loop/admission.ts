/**
 * Admission counts from the caches: how many of our Jobs run (cluster-wide, per namespace) and
 * where each waiting VideoAnalysis stands in the queue (higher `nutrifitcoach.io/priority`
 * first, then older, then by namespace/name).
 *
 * Per-namespace caps make "position in one queue" ambiguous (the head may be blocked by its own
 * namespace while one behind it, elsewhere, could run), so admission is simulated: walking the
 * queue in order, each resource takes a slot when both its namespace and the cluster have one.
 * Those that got one are admitted now; the plan is handed `queuePosition` 0 for them and, for
 * the others, the number waiting ahead of them, which is always at least the free slots.
 */
import type { Admission } from '../plan/types.js';
import { type JobObject, keyOf, type VideoAnalysisObject } from './objects.js';

export const PRIORITY_ANNOTATION = 'nutrifitcoach.io/priority';

export interface AdmissionLimits {
  maxRunning: number;
  maxRunningPerNamespace: number;
}

export interface AdmissionInputs {
  analyses(): Iterable<VideoAnalysisObject>;
  /** Our Jobs, including those created but not yet seen by the watch. */
  jobs(): Iterable<JobObject>;
  /** The Job of a resource (cache or just created), if any. */
  jobOf(va: VideoAnalysisObject): JobObject | undefined;
}

interface Snapshot {
  running: number;
  runningByNamespace: Map<string, number>;
  /** key → place in the queue and whether it takes a slot now. */
  waiting: Map<string, { ahead: number; admitted: boolean }>;
  /** Admitted keys, in queue order. */
  admitted: string[];
}

export class AdmissionIndex {
  private snapshot?: Snapshot;

  constructor(
    private readonly inputs: AdmissionInputs,
    private readonly limits: AdmissionLimits,
  ) {}

  /** Something changed (a resource, a Job): the next question recomputes. */
  invalidate(): void {
    this.snapshot = undefined;
  }

  for(va: VideoAnalysisObject): Admission {
    const s = this.current();
    const ns = va.metadata.namespace ?? '';
    const place = s.waiting.get(keyOf(va));
    return {
      runningClusterWide: s.running,
      runningInNamespace: s.runningByNamespace.get(ns) ?? 0,
      queuePosition: !place || place.admitted ? 0 : place.ahead,
    };
  }

  /** Keys of the waiting resources that would take a slot now, in queue order. */
  admissible(): readonly string[] {
    return this.current().admitted;
  }

  /** More resources wait than there are free slots: the order of admission matters. */
  contended(): boolean {
    const s = this.current();
    return s.waiting.size > s.admitted.length;
  }

  /** Keys of every waiting resource, in queue order. */
  waitingKeys(): string[] {
    return [...this.current().waiting.keys()];
  }

  private current(): Snapshot {
    this.snapshot ??= this.compute();
    return this.snapshot;
  }

  private compute(): Snapshot {
    let running = 0;
    const runningByNamespace = new Map<string, number>();
    for (const job of this.inputs.jobs()) {
      if (isFinished(job)) continue;
      running++;
      const ns = job.metadata.namespace ?? '';
      runningByNamespace.set(ns, (runningByNamespace.get(ns) ?? 0) + 1);
    }

    const waiting: QueueEntry[] = [];
    for (const va of this.inputs.analyses()) {
      if (isWaiting(va) && !this.inputs.jobOf(va)) waiting.push(queueEntry(va));
    }
    waiting.sort(compareEntries);

    let clusterFree = this.limits.maxRunning - running;
    const nsTaken = new Map<string, number>();
    const places = new Map<string, { ahead: number; admitted: boolean }>();
    const admitted: string[] = [];
    waiting.forEach(({ key, namespace }, ahead) => {
      const nsUsed = (runningByNamespace.get(namespace) ?? 0) + (nsTaken.get(namespace) ?? 0);
      const takes = clusterFree > 0 && nsUsed < this.limits.maxRunningPerNamespace;
      if (takes) {
        clusterFree--;
        nsTaken.set(namespace, (nsTaken.get(namespace) ?? 0) + 1);
        admitted.push(key);
      }
      places.set(key, { ahead, admitted: takes });
    });
    return { running, runningByNamespace, waiting: places, admitted };
  }
}

/** Still to be given a Job: not finished, not being deleted. */
export function isWaiting(va: VideoAnalysisObject): boolean {
  const phase = va.status?.phase;
  return !va.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed';
}

export function isFinished(job: JobObject): boolean {
  return (
    job.status?.conditions?.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') ?? false
  );
}

/** The annotation's integer, 0 when absent or not an integer. */
export function priorityOf(va: VideoAnalysisObject): number {
  const text = va.metadata.annotations?.[PRIORITY_ANNOTATION]?.trim();
  if (!text || !/^[-+]?\d{1,9}$/.test(text)) return 0;
  return Number(text);
}

interface QueueEntry {
  key: string;
  namespace: string;
  priority: number;
  created: string;
}

function queueEntry(va: VideoAnalysisObject): QueueEntry {
  return {
    key: keyOf(va),
    namespace: va.metadata.namespace ?? '',
    priority: priorityOf(va),
    created: va.metadata.creationTimestamp ?? '',
  };
}

/** Higher priority first, then older, then namespace/name (creation times have 1 s resolution). */
function compareEntries(a: QueueEntry, b: QueueEntry): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  if (a.created !== b.created) return a.created < b.created ? -1 : 1;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** The queue order of two resources (see compareEntries). */
export function queueOrder(a: VideoAnalysisObject, b: VideoAnalysisObject): number {
  return compareEntries(queueEntry(a), queueEntry(b));
}

/** Whether a change from `old` to `va` can change admission (the queue or who waits). */
export function affectsAdmission(va: VideoAnalysisObject, old: VideoAnalysisObject): boolean {
  return (
    va.status?.phase !== old.status?.phase ||
    va.metadata.deletionTimestamp !== old.metadata.deletionTimestamp ||
    priorityOf(va) !== priorityOf(old)
  );
}
