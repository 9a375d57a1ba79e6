/**
 * The reconcile queue, as client-go's workqueue: a key is queued at most once however often it
 * is added; a key being processed is never handed out again until `done`, and if it was added
 * meanwhile it goes back in the queue then — so one object is reconciled by one worker at a time
 * and no change is lost. Delayed adds (requeue after N seconds) and per-key exponential
 * backoff (retry of a failed reconcile) sit on top.
 *
 * Two lanes: keys added as `urgent` (a resource that is about to get its Job) are handed out
 * before the others (status-only reconciles), so under a burst the work gets started before it
 * is reported; each lane is FIFO. While urgent keys are waiting or being processed, status-only
 * keys are held back too (their writes would slow the API server the Jobs are waiting on), but
 * never longer than `maxDeferMs`: a status-only key that has waited that long goes next anyway.
 */
import { backoffDelay } from './backoff.js';

export class WorkQueue {
  private readonly lanes = { urgent: new Lane(), normal: new Lane() };
  /** Keys added and not yet handed out (or added again while processing). */
  private readonly dirty = new Set<string>();
  /** Dirty keys that were added as urgent. */
  private readonly urgent = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly delayed = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly failures = new Map<string, number>();
  private readonly waiters: Array<(key: string | undefined) => void> = [];
  /** Keys handed out from the urgent lane and not yet `done`. */
  private readonly urgentProcessing = new Set<string>();
  /** Wakes a waiting worker when the oldest held-back status-only key reaches `maxDeferMs`. */
  private deferTimer?: NodeJS.Timeout;
  private shuttingDown = false;

  constructor(
    private readonly retry: { baseMs: number; maxMs: number },
    /** How long a status-only key may be held back while urgent work goes on. */
    private readonly maxDeferMs = 2_000,
  ) {}

  /** Urgent work is waiting or in progress: what can wait (status-only reconciles, Events) should. */
  get busy(): boolean {
    return this.urgentProcessing.size > 0 || this.lanes.urgent.size > 0;
  }

  /** Keys waiting to be handed to a worker. */
  get length(): number {
    let waitingForDone = 0;
    for (const key of this.processing) if (this.dirty.has(key)) waitingForDone++;
    return this.dirty.size - waitingForDone;
  }

  /** Queues `key` (once); `urgent` puts it in the urgent lane, even if it already waits in the other. */
  add(key: string, urgent = false): void {
    if (this.shuttingDown) return;
    if (this.dirty.has(key)) {
      if (urgent && !this.urgent.has(key)) {
        this.urgent.add(key);
        // The copy left in the normal lane is skipped when it comes up (no longer dirty by then).
        if (!this.processing.has(key)) {
          this.lanes.urgent.push(key);
          this.dispatch();
        }
      }
      return;
    }
    this.dirty.add(key);
    if (urgent) this.urgent.add(key);
    if (this.processing.has(key)) return;
    (urgent ? this.lanes.urgent : this.lanes.normal).push(key);
    this.dispatch();
  }

  /** Adds `key` after `ms`; an earlier pending add of the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + ms;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.delayed.set(key, { at, timer });
  }

  /** Adds `key` after its backoff: base × 2^(failures−1) with jitter, capped. */
  addRateLimited(key: string): number {
    const failures = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, failures);
    const delay = backoffDelay(failures, this.retry.baseMs, this.retry.maxMs);
    this.addAfter(key, delay);
    return delay;
  }

  /** Forgets the failures of `key` (it reconciled fine). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /**
   * The next key to process (it is then `processing` until `done`), or undefined once shut down:
   * keys still queued then are left (a replica that stops leading must stop writing at once; the
   * next leader reconciles everything anyway).
   */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.waiters.length === 0 ? this.next() : undefined;
    if (key !== undefined) return Promise.resolve(key);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    this.urgentProcessing.delete(key);
    if (this.dirty.has(key)) {
      const urgent = this.urgent.has(key);
      this.dirty.delete(key);
      this.urgent.delete(key);
      this.add(key, urgent);
    }
    // The last urgent key done may release the status-only keys held back.
    this.dispatch();
  }

  /** Hands keys to waiting workers, in the order the workers asked, while there are keys to hand out. */
  private dispatch(): void {
    while (this.waiters.length > 0) {
      const key = this.next();
      if (key === undefined) return;
      (this.waiters.shift() as (key: string) => void)(key);
    }
  }

  /** The next key to hand out (taken), or undefined when none may go now. */
  private next(): string | undefined {
    const urgent = this.shiftLive(this.lanes.urgent);
    if (urgent !== undefined) {
      this.urgentProcessing.add(urgent);
      return this.take(urgent);
    }
    this.lanes.normal.skip((key) => !this.isLive(key));
    const oldest = this.lanes.normal.peekAddedAt();
    if (oldest === undefined) return undefined;
    const heldFor = Date.now() - oldest;
    if (this.urgentProcessing.size > 0 && heldFor < this.maxDeferMs) {
      this.wakeAfter(this.maxDeferMs - heldFor);
      return undefined;
    }
    return this.take(this.lanes.normal.shift() as string);
  }

  /** A key still to hand out: not handed out already from the other lane, nor being processed. */
  private isLive(key: string): boolean {
    return this.dirty.has(key) && !this.processing.has(key);
  }

  private shiftLive(lane: Lane): string | undefined {
    for (let key = lane.shift(); key !== undefined; key = lane.shift()) if (this.isLive(key)) return key;
    return undefined;
  }

  private wakeAfter(ms: number): void {
    if (this.deferTimer) return;
    this.deferTimer = setTimeout(() => {
      this.deferTimer = undefined;
      this.dispatch();
    }, ms);
    this.deferTimer.unref();
  }

  private take(key: string): string {
    this.dirty.delete(key);
    this.urgent.delete(key);
    this.processing.add(key);
    return key;
  }

  shutDown(): void {
    this.shuttingDown = true;
    if (this.deferTimer) clearTimeout(this.deferTimer);
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }
}

/**
 * A FIFO of keys, with the time each was added, that drops what it has handed out in chunks
 * (no O(n) shift per key).
 */
class Lane {
  private items: string[] = [];
  private addedAt: number[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(key: string): void {
    this.items.push(key);
    this.addedAt.push(Date.now());
  }

  /** When the first key was added, or undefined when the lane is empty. */
  peekAddedAt(): number | undefined {
    return this.head < this.items.length ? this.addedAt[this.head] : undefined;
  }

  /** Drops keys from the front while `stale` says so. */
  skip(stale: (key: string) => boolean): void {
    while (this.head < this.items.length && stale(this.items[this.head] as string)) this.shift();
  }

  shift(): string | undefined {
    if (this.head >= this.items.length) return undefined;
    const key = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.addedAt = this.addedAt.slice(this.head);
      this.head = 0;
    }
    return key;
  }
}
