/**
 * Kubernetes Events for each transition, sent in the background: a reconcile never waits for
 * one nor fails because of one (as client-go's recorder). At most a few are in flight, so that
 * a burst of transitions does not crowd out the status writes users wait for; past a bounded
 * backlog new ones are dropped (counted and logged), as client-go's broadcaster drops when its
 * queue is full. While `hold()` says so (Jobs are being created) queued Events wait, at most
 * `maxHoldMs` each (5 s by default): they would compete with the Job creations for the API
 * server. `flush` lets a graceful stop send what is queued.
 */
import type { Logger } from 'pino';
import { errorSummary } from './informer.js';
import type { EventInput, KubeApi } from './kube-api.js';
import type { VideoAnalysisObject } from './objects.js';

const IN_FLIGHT = 4;
const MAX_BACKLOG = 5_000;
/** How often held Events look again whether they may go. */
const HOLD_CHECK_MS = 100;

type Queued = { va: VideoAnalysisObject; event: EventInput; at: number };

export class EventRecorder {
  private readonly backlog: Queued[] = [];
  private head = 0;
  private holdTimer?: NodeJS.Timeout;
  /** Set by `flush` (the operator is stopping): nothing is held any more. */
  private flushing = false;
  private inFlight = 0;
  private idle?: { promise: Promise<void>; resolve: () => void };
  /** Events dropped because the backlog was full. */
  dropped = 0;

  constructor(
    private readonly api: KubeApi,
    private readonly log: Logger,
    private readonly hold: () => boolean = () => false,
    private readonly maxHoldMs = 5_000,
  ) {}

  record(va: VideoAnalysisObject, event: EventInput): void {
    if (this.backlog.length - this.head >= MAX_BACKLOG) {
      if (this.dropped++ % 1000 === 0) {
        this.log.warn({ dropped: this.dropped, backlog: MAX_BACKLOG }, 'event backlog full; dropping events');
      }
      return;
    }
    // Only what the Event names: a queued Event must not keep a whole object alive.
    const m = va.metadata;
    const regarding = {
      metadata: {
        name: m.name,
        ...(m.namespace !== undefined ? { namespace: m.namespace } : {}),
        ...(m.uid !== undefined ? { uid: m.uid } : {}),
        ...(m.resourceVersion !== undefined ? { resourceVersion: m.resourceVersion } : {}),
      },
    } as VideoAnalysisObject;
    this.backlog.push({ va: regarding, event, at: Date.now() });
    this.pump();
  }

  /** Sends every queued event, held or not; resolves when all have been sent (or have failed). */
  async flush(): Promise<void> {
    this.flushing = true;
    this.pump();
    if (this.inFlight === 0 && this.head === this.backlog.length) return;
    if (!this.idle) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      this.idle = { promise, resolve };
    }
    await this.idle.promise;
  }

  private pump(): void {
    while (this.inFlight < IN_FLIGHT && this.head < this.backlog.length) {
      const heldFor = Date.now() - (this.backlog[this.head] as Queued).at;
      if (!this.flushing && heldFor < this.maxHoldMs && this.hold()) {
        this.pumpAfter(Math.min(HOLD_CHECK_MS, this.maxHoldMs - heldFor));
        return;
      }
      const next = this.backlog[this.head++] as Queued;
      if (this.head > 1024 && this.head * 2 > this.backlog.length) {
        this.backlog.splice(0, this.head);
        this.head = 0;
      }
      this.inFlight++;
      void this.send(next.va, next.event).finally(() => {
        this.inFlight--;
        this.pump();
        if (this.inFlight === 0 && this.head === this.backlog.length && this.idle) {
          this.idle.resolve();
          this.idle = undefined;
        }
      });
    }
  }

  private pumpAfter(ms: number): void {
    if (this.holdTimer) return;
    this.holdTimer = setTimeout(() => {
      this.holdTimer = undefined;
      this.pump();
    }, ms);
    this.holdTimer.unref();
  }

  private async send(va: VideoAnalysisObject, event: EventInput): Promise<void> {
    try {
      await this.api.createEvent(va, event);
      this.log.debug({ analysis: va.metadata.name, namespace: va.metadata.namespace, ...event }, 'event recorded');
    } catch (err) {
      this.log.warn(
        { analysis: va.metadata.name, namespace: va.metadata.namespace, reason: event.reason, err: errorSummary(err) },
        'event not recorded',
      );
    }
  }
}
