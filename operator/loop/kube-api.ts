/**
 * The API calls the operator makes, in one place: lists for the informers (raw JSON through
 * CustomObjectsApi, which also serves built-in groups such as batch/v1), Job creation, merge
 * patches of finalizers and status, and events.k8s.io Events.
 */
import {
  BatchV1Api,
  CustomObjectsApi,
  EventsV1Api,
  type KubeConfig,
  type V1Job,
  V1MicroTime,
} from '@kubernetes/client-node';
import { MERGE_PATCH } from '../../services/platform/kube/client.js';
import { GROUP, PLURAL, VERSION, type VideoAnalysisStatus } from '../../services/platform/kube/video-analysis.js';
import type { ListPage } from './informer.js';
import type { JobObject, VideoAnalysisObject } from './objects.js';

/** Label on every worker Job (set by the plan's Job builder): the Job informer watches only these. */
export const JOB_SELECTOR = 'app.kubernetes.io/managed-by=nfc-operator';
const PAGE = 500;
const MAX_NOTE = 1024;

export interface EventInput {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export class KubeApi {
  readonly custom: CustomObjectsApi;
  readonly batch: BatchV1Api;
  readonly events: EventsV1Api;
  private eventCounter = 0;

  constructor(
    kc: KubeConfig,
    private readonly identity: string,
  ) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.batch = kc.makeApiClient(BatchV1Api);
    this.events = kc.makeApiClient(EventsV1Api);
  }

  videoAnalysesPath(namespace?: string): string {
    return `/apis/${GROUP}/${VERSION}${namespace ? `/namespaces/${namespace}` : ''}/${PLURAL}`;
  }

  jobsPath(namespace?: string): string {
    return `/apis/batch/v1${namespace ? `/namespaces/${namespace}` : ''}/jobs`;
  }

  listVideoAnalyses(namespace?: string): (token?: string) => Promise<ListPage<VideoAnalysisObject>> {
    return (token) => this.list(GROUP, VERSION, PLURAL, namespace, undefined, token);
  }

  listJobs(namespace?: string): (token?: string) => Promise<ListPage<JobObject>> {
    return (token) => this.list('batch', 'v1', 'jobs', namespace, JOB_SELECTOR, token);
  }

  private async list<T>(
    group: string,
    version: string,
    plural: string,
    namespace: string | undefined,
    labelSelector: string | undefined,
    token: string | undefined,
  ): Promise<ListPage<T>> {
    const common = {
      group,
      version,
      plural,
      limit: PAGE,
      ...(labelSelector ? { labelSelector } : {}),
      ...(token ? { _continue: token } : {}),
    };
    return (await (namespace
      ? this.custom.listNamespacedCustomObject({ ...common, namespace })
      : this.custom.listClusterCustomObject(common))) as ListPage<T>;
  }

  /** One VideoAnalysis as the API server has it now (not as the cache last saw it). */
  async getAnalysis(namespace: string, name: string): Promise<VideoAnalysisObject> {
    return (await this.custom.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace,
      name,
    })) as VideoAnalysisObject;
  }

  async createJob(job: V1Job): Promise<void> {
    await this.batch.createNamespacedJob({ namespace: job.metadata?.namespace ?? 'default', body: job });
  }

  /** Merge patch of the status subresource with only the fields given. */
  async patchStatus(va: VideoAnalysisObject, status: Partial<VideoAnalysisStatus>): Promise<VideoAnalysisObject> {
    return (await this.custom.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        namespace: va.metadata.namespace ?? 'default',
        name: va.metadata.name,
        body: { status },
        fieldManager: 'nfc-operator',
      },
      MERGE_PATCH,
    )) as VideoAnalysisObject;
  }

  /** Sets the finalizer list, guarded by the resourceVersion the decision was made on (409 if stale). */
  async setFinalizers(va: VideoAnalysisObject, finalizers: string[]): Promise<VideoAnalysisObject> {
    return (await this.custom.patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        namespace: va.metadata.namespace ?? 'default',
        name: va.metadata.name,
        body: { metadata: { finalizers, resourceVersion: va.metadata.resourceVersion } },
        fieldManager: 'nfc-operator',
      },
      MERGE_PATCH,
    )) as VideoAnalysisObject;
  }

  /** An events.k8s.io/v1 Event about `va` (named as client-go names them: object name + time). */
  async createEvent(va: VideoAnalysisObject, event: EventInput): Promise<void> {
    const namespace = va.metadata.namespace ?? 'default';
    const suffix = (BigInt(Date.now()) * 1_000_000n + BigInt(this.eventCounter++ % 1_000_000)).toString(16);
    await this.events.createNamespacedEvent({
      namespace,
      body: {
        metadata: { name: `${va.metadata.name.slice(0, 200)}.${suffix}`, namespace },
        eventTime: new V1MicroTime(),
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
}
