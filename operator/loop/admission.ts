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
 *
 * The simulation walks every resource, so it is not redone for each change while the queue is
 * uncontended (everything waiting fits in the free slots): then a new resource only adds one to
 * the demand (running + waiting) and takes a slot if the demand stays within the caps, and a
 * Job created, a Job finished or a resource finished can only keep or lower the demand. Without
 * this, a burst of N new resources costs N full walks (O(N²) time and garbage).
 */
import type { Admission } from '../plan/types.js';
import { type JobObject, keyOf, objectKey, PRIORITY_ANNOTATION, type VideoAnalysisObject } from './objects.js';
import { ownerOf } from './observe.js';

export { PRIORITY_ANNOTATION } from './objects.js';

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
  /** Admitted keys, in queue order (as of the last full walk). */
  admitted: string[];
  /** Everything waiting was admitted: the caps hold the whole demand. */
  uncontended: boolean;
  /** Running + waiting, cluster-wide and per namespace (kept up to date while uncontended). */
  demand: number;
  demandByNamespace: Map<string, number>;
  /** Resources counted in the demand: waiting, or owning an unfinished Job. */
  counted: Set<string>;
  /** `admitted` was given to the caller of admissible(). */
  handedOut: boolean;
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

  /** A resource appeared (watch ADDED). */
  analysisAdded(va: VideoAnalysisObject): void {
    const s = this.snapshot;
    if (!s || !isWaiting(va) || this.inputs.jobOf(va)) return; // no new demand
    const key = keyOf(va);
    if (s.counted.has(key)) return;
    const ns = va.metadata.namespace ?? '';
    const nsDemand = s.demandByNamespace.get(ns) ?? 0;
    if (!s.uncontended || s.demand >= this.limits.maxRunning || nsDemand >= this.limits.maxRunningPerNamespace) {
      this.invalidate();
      return;
    }
    s.demand++;
    s.demandByNamespace.set(ns, nsDemand + 1);
    s.counted.add(key);
    s.waiting.set(key, { ahead: 0, admitted: true });
  }

  /** A Job of ours appeared (created here, or seen by the watch). */
  jobAdded(job: JobObject): void {
    const s = this.snapshot;
    if (!s) return;
    const owner = ownerOf(job);
    const counted = owner !== undefined && s.counted.has(objectKey(owner.namespace, owner.name));
    if (!s.uncontended || !(counted || isFinished(job))) this.invalidate();
  }

  /**
   * A Job finished or went, or a resource finished, went or changed priority: the demand can
   * only stay or fall, which matters only to those still waiting for a slot.
   */
  released(): void {
    if (!this.snapshot?.uncontended) this.invalidate();
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

  /**
   * Keys of the waiting resources that would take a slot now, in queue order — once per full
   * walk: those admitted since (while uncontended) were queued as they appeared.
   */
  admissible(): readonly string[] {
    const s = this.current();
    if (s.handedOut) return [];
    s.handedOut = true;
    return s.admitted;
  }

  /** More resources wait than there are free slots: the order of admission matters. */
  contended(): boolean {
    return !this.current().uncontended;
  }

  /** Keys of every waiting resource, in queue order (as of the last full walk). */
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
    const counted = new Set<string>();
    for (const job of this.inputs.jobs()) {
      if (isFinished(job)) continue;
      running++;
      const ns = job.metadata.namespace ?? '';
      runningByNamespace.set(ns, (runningByNamespace.get(ns) ?? 0) + 1);
      const owner = ownerOf(job);
      if (owner) counted.add(objectKey(owner.namespace, owner.name));
    }

    const waiting: QueueEntry[] = [];
    for (const va of this.inputs.analyses()) {
      if (isWaiting(va) && !this.inputs.jobOf(va)) waiting.push(queueEntry(va));
    }
    waiting.sort(compareEntries);
    const demandByNamespace = new Map(runningByNamespace);
    for (const { key, namespace } of waiting) {
      counted.add(key);
      demandByNamespace.set(namespace, (demandByNamespace.get(namespace) ?? 0) + 1);
    }

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
    return {
      running,
      runningByNamespace,
      waiting: places,
      admitted,
      uncontended: admitted.length === waiting.length,
      demand: running + waiting.length,
      demandByNamespace,
      counted,
      handedOut: false,
    };
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
