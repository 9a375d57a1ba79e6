/**
 * Kubernetes Events for each transition, sent in the background: a reconcile never waits for
 * one nor fails because of one (as client-go's recorder). At most a few are in flight, so that
 * a burst of transitions does not crowd out the status writes users wait for; past a bounded
 * backlog new ones are dropped (counted and logged), as client-go's broadcaster drops when its
 * queue is full. `flush` lets a graceful stop send what is queued.
 */
import type { Logger } from 'pino';
import { errorSummary } from './informer.js';
import type { EventInput, KubeApi } from './kube-api.js';
import type { VideoAnalysisObject } from './objects.js';

const IN_FLIGHT = 4;
const MAX_BACKLOG = 5_000;

export class EventRecorder {
  private readonly backlog: Array<{ va: VideoAnalysisObject; event: EventInput }> = [];
  private head = 0;
  private inFlight = 0;
  private idle?: { promise: Promise<void>; resolve: () => void };
  /** Events dropped because the backlog was full. */
  dropped = 0;

  constructor(
    private readonly api: KubeApi,
    private readonly log: Logger,
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
    this.backlog.push({ va: regarding, event });
    this.pump();
  }

  /** Resolves when every queued event has been sent (or has failed). */
  async flush(): Promise<void> {
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
      const next = this.backlog[this.head++] as { va: VideoAnalysisObject; event: EventInput };
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
