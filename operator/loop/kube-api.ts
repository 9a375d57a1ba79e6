/**
 * The API calls the operator makes, in one place, as raw JSON over its KubeConnection: paged
 * lists for the informers, a fresh read, Job creation, merge patches of finalizers and status,
 * and events.k8s.io Events.
 */
import type { V1Job } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type VideoAnalysisStatus } from '../../services/platform/kube/video-analysis.js';
import type { ListPage } from './informer.js';
import { type KubeConnection, microTime } from './kube-connection.js';
import { type JobObject, slimAnalysis, type VideoAnalysisObject } from './objects.js';

/** Label on every worker Job (set by the plan's Job builder): the Job informer watches only these. */
export const JOB_SELECTOR = 'app.kubernetes.io/managed-by=nfc-operator';
const PAGE = 500;
const MAX_NOTE = 1024;

export interface EventInput {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

const MERGE_PATCH = 'application/merge-patch+json';
const FIELD_MANAGER = 'nfc-operator';

export class KubeApi {
  private eventCounter = 0;

  constructor(
    private readonly conn: KubeConnection,
    private readonly identity: string,
  ) {}

  videoAnalysesPath(namespace?: string): string {
    return `/apis/${GROUP}/${VERSION}${namespace ? `/namespaces/${namespace}` : ''}/${PLURAL}`;
  }

  jobsPath(namespace?: string): string {
    return `/apis/batch/v1${namespace ? `/namespaces/${namespace}` : ''}/jobs`;
  }

  listVideoAnalyses(namespace?: string): (token?: string) => Promise<ListPage<VideoAnalysisObject>> {
    return (token) => this.list(this.videoAnalysesPath(namespace), undefined, token);
  }

  listJobs(namespace?: string): (token?: string) => Promise<ListPage<JobObject>> {
    return (token) => this.list(this.jobsPath(namespace), JOB_SELECTOR, token);
  }

  private list<T>(path: string, labelSelector: string | undefined, token: string | undefined): Promise<ListPage<T>> {
    return this.conn.request<ListPage<T>>('GET', path, {
      query: { limit: PAGE, labelSelector, continue: token },
    });
  }

  /** One VideoAnalysis as the API server has it now (not as the cache last saw it). */
  getAnalysis(namespace: string, name: string): Promise<VideoAnalysisObject> {
    return this.conn.request('GET', `${this.videoAnalysesPath(namespace)}/${name}`);
  }

  async createJob(job: V1Job): Promise<void> {
    await this.conn.request('POST', this.jobsPath(job.metadata?.namespace ?? 'default'), {
      query: { fieldManager: FIELD_MANAGER },
      body: job,
      discardBody: true,
    });
  }

  /** Merge patch of the status subresource with only the fields given; the result as cached. */
  async patchStatus(va: VideoAnalysisObject, status: Partial<VideoAnalysisStatus>): Promise<VideoAnalysisObject> {
    return slimAnalysis(
      await this.conn.request<VideoAnalysisObject>('PATCH', `${this.analysisPath(va)}/status`, {
        query: { fieldManager: FIELD_MANAGER },
        body: { status },
        contentType: MERGE_PATCH,
      }),
    );
  }

  /** Sets the finalizer list, guarded by the resourceVersion the decision was made on (409 if stale). */
  async setFinalizers(va: VideoAnalysisObject, finalizers: string[]): Promise<VideoAnalysisObject> {
    return slimAnalysis(
      await this.conn.request<VideoAnalysisObject>('PATCH', this.analysisPath(va), {
        query: { fieldManager: FIELD_MANAGER },
        body: { metadata: { finalizers, resourceVersion: va.metadata.resourceVersion } },
        contentType: MERGE_PATCH,
      }),
    );
  }

  /** An events.k8s.io/v1 Event about `va` (named as client-go names them: object name + time). */
  async createEvent(va: VideoAnalysisObject, event: EventInput): Promise<void> {
    const namespace = va.metadata.namespace ?? 'default';
    const suffix = (BigInt(Date.now()) * 1_000_000n + BigInt(this.eventCounter++ % 1_000_000)).toString(16);
    await this.conn.request('POST', `/apis/events.k8s.io/v1/namespaces/${namespace}/events`, {
      discardBody: true,
      body: {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name: `${va.metadata.name.slice(0, 200)}.${suffix}`, namespace },
        eventTime: microTime(),
        reportingController: `${GROUP}/operator`,
        reportingInstance: this.identity.slice(0, 128),
        action: 'Reconcile',
        reason: event.reason,
        note: event.message.slice(0, MAX_NOTE),
        type: event.type,
        regarding: {
          apiVersion: `${GROUP}/${VERSION}`,
          kind: 'VideoAnalysis',
          name: va.metadata.name,
          namespace,
          ...(va.metadata.uid ? { uid: va.metadata.uid } : {}),
          ...(va.metadata.resourceVersion ? { resourceVersion: va.metadata.resourceVersion } : {}),
        },
      },
    });
  }

  private analysisPath(va: VideoAnalysisObject): string {
    return `${this.videoAnalysesPath(va.metadata.namespace ?? 'default')}/${va.metadata.name}`;
  }
}
