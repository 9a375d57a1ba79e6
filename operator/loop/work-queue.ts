/**
 * The reconcile queue, as client-go's workqueue: a key is queued at most once however often it
 * is added; a key being processed is never handed out again until `done`, and if it was added
 * meanwhile it goes back in the queue then — so one object is reconciled by one worker at a time
 * and no change is lost. Delayed adds (requeue after N seconds) and per-key exponential
 * backoff (retry of a failed reconcile) sit on top.
 *
 * Two lanes: keys added as `urgent` (a resource that is about to get its Job) are handed out
 * before the others (status-only reconciles), so under a burst the work gets started before it
 * is reported; each lane is FIFO.
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
  private shuttingDown = false;

  constructor(private readonly retry: { baseMs: number; maxMs: number }) {}

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
        if (!this.processing.has(key)) this.lanes.urgent.push(key);
      }
      return;
    }
    this.dirty.add(key);
    if (urgent) this.urgent.add(key);
    if (this.processing.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      this.take(key);
      waiter(key);
    } else {
      (urgent ? this.lanes.urgent : this.lanes.normal).push(key);
    }
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

  /** The next key to process (it is then `processing` until `done`), or undefined on shutdown. */
  get(): Promise<string | undefined> {
    for (const lane of [this.lanes.urgent, this.lanes.normal]) {
      for (let key = lane.shift(); key !== undefined; key = lane.shift()) {
        // A key also queued in the other lane, already handed out from there: skip this copy.
        if (!this.dirty.has(key) || this.processing.has(key)) continue;
        this.take(key);
        return Promise.resolve(key);
      }
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      const urgent = this.urgent.has(key);
      this.dirty.delete(key);
      this.urgent.delete(key);
      this.add(key, urgent);
    }
  }

  private take(key: string): void {
    this.dirty.delete(key);
    this.urgent.delete(key);
    this.processing.add(key);
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }
}

/** A FIFO of keys that drops what it has handed out in chunks (no O(n) shift per key). */
class Lane {
  private items: string[] = [];
  private head = 0;

  push(key: string): void {
    this.items.push(key);
  }

  shift(): string | undefined {
    if (this.head >= this.items.length) return undefined;
    const key = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return key;
  }
}
