/**
 * Kubernetes Events for each transition, sent in the background: a reconcile never waits for
 * one nor fails because of one (as client-go's recorder), and `flush` lets a graceful stop send
 * those still in flight.
 */
import type { Logger } from 'pino';
import { errorSummary } from './informer.js';
import type { EventInput, KubeApi } from './kube-api.js';
import type { VideoAnalysisObject } from './objects.js';

export class EventRecorder {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly api: KubeApi,
    private readonly log: Logger,
  ) {}

  record(va: VideoAnalysisObject, event: EventInput): void {
    const sent = this.api.createEvent(va, event).then(
      () => {
        this.log.debug({ analysis: va.metadata.name, namespace: va.metadata.namespace, ...event }, 'event recorded');
      },
      (err: unknown) => {
        this.log.warn(
          {
            analysis: va.metadata.name,
            namespace: va.metadata.namespace,
            reason: event.reason,
            err: errorSummary(err),
          },
          'event not recorded',
        );
      },
    );
    this.inFlight.add(sent);
    void sent.finally(() => this.inFlight.delete(sent));
  }

  async flush(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }
}
