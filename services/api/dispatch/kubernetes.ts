/**
 * `kubernetes` dispatch: an analysis is a VideoAnalysis in the analysis namespace. submit()
 * creates it (named after the analysis, so a retry is a no-op), cancel() deletes it (the
 * operator's finalizer removes the artifacts when cleanupPolicy is Delete), and a list-watch of
 * the namespace mirrors every status the operator and the worker write back as updates. Every
 * API replica runs its own watch, so each sees every update. Resources applied with kubectl
 * (no analysis-id label) are reported as `discovered`, with their uid as the analysis id.
 *
 * The watch is the shared Informer: it resumes from the last resourceVersion, relists on 410
 * Gone, retries with jittered backoff while the API server is away and relists in full every
 * `resyncSeconds`; after every list the current state of every resource is emitted again, so an
 * update missed while disconnected (or one the API failed to store) is delivered later.
 */
import type { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { apiErrorStatus, customObjectsApi } from '../../platform/kube/client.js';
import { Informer, type ListPage } from '../../platform/kube/informer.js';
import { GROUP, PLURAL, VERSION } from '../../platform/kube/video-analysis.js';
import type { AnalysisListing, AnalysisTask, AnalysisUpdate, Dispatcher } from './dispatcher.js';
import { KubernetesDispatchError, kubernetesError } from './kubernetes-errors.js';
import {
  analysisIdOf,
  buildVideoAnalysis,
  type ResourceDefaults,
  resourceName,
  type WatchedAnalysis,
} from './kubernetes-resource.js';
import { updateFromDeletion, updateFromResource } from './kubernetes-status.js';

export interface KubernetesDispatcherOptions {
  /** Where VideoAnalyses are created and watched (NFC_ANALYSIS_NAMESPACE). */
  namespace: string;
  /** The API server and credentials (services/platform/kube/client.ts kubeConfigFromEnv). */
  kubeConfig: KubeConfig;
  log: Logger;
  /** GPUs per analysis when the task does not say (NFC_ANALYSIS_GPU; 0 runs on CPU). */
  gpu: number;
  /** Job active deadline; default: the CRD's (900 s). */
  deadlineSeconds?: number;
  /** Default Delete: deleting an analysis removes its artifacts from the bucket. */
  cleanupPolicy?: ResourceDefaults['cleanupPolicy'];
  /** Full relist period (default 300 s). */
  resyncSeconds?: number;
  /** A watch silent this long (no event, no bookmark) is reopened (default 180 s). */
  watchInactivitySeconds?: number;
  /** Retry delays of list/watch while the API server is away (default 500 ms doubling to 30 s). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** How long start() waits for the first list before returning anyway (default 10 s). */
  syncTimeoutMs?: number;
  /** ready() gives up after this long (default 5 s). */
  readyTimeoutMs?: number;
}

const PAGE = 500;

export class KubernetesDispatcher implements Dispatcher {
  readonly mode = 'kubernetes' as const;
  private readonly api: CustomObjectsApi;
  private readonly defaults: ResourceDefaults;
  private readonly server: string;
  private informer?: Informer<WatchedAnalysis>;
  /** Start of the list in progress (its first page), reported with the listing. */
  private listStartedAt = new Date(0);

  constructor(private readonly opts: KubernetesDispatcherOptions) {
    this.api = customObjectsApi(opts.kubeConfig);
    this.server = opts.kubeConfig.getCurrentCluster()?.server ?? '(no cluster in the kubeconfig)';
    this.defaults = {
      gpu: opts.gpu,
      cleanupPolicy: opts.cleanupPolicy ?? 'Delete',
      ...(opts.deadlineSeconds !== undefined ? { deadlineSeconds: opts.deadlineSeconds } : {}),
    };
  }

  async start(
    onUpdate: (update: AnalysisUpdate) => void,
    onListed?: (listing: AnalysisListing) => void,
  ): Promise<void> {
    if (this.informer) throw new Error('the Kubernetes dispatcher is already started');
    const { namespace, log } = this.opts;
    const emit = (update: AnalysisUpdate) => {
      try {
        // The API's handler may be async: its failure is logged, never an unhandled rejection.
        const result = onUpdate(update) as unknown;
        if (result instanceof Promise) {
          result.catch((err: unknown) => log.error({ err, analysis: update.analysisId }, 'analysis update failed'));
        }
      } catch (err) {
        log.error({ err, analysis: update.analysisId }, 'analysis update failed');
      }
    };
    const informer = new Informer<WatchedAnalysis>({
      resource: PLURAL,
      path: `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`,
      listPage: (token) => this.listPage(token),
      transform: slim,
      kubeConfig: this.opts.kubeConfig,
      resyncMs: (this.opts.resyncSeconds ?? 300) * 1000,
      inactivityMs: (this.opts.watchInactivitySeconds ?? 180) * 1000,
      backoffBaseMs: this.opts.backoffBaseMs ?? 500,
      backoffMaxMs: this.opts.backoffMaxMs ?? 30_000,
      log: log.child({ watch: PLURAL, namespace }),
    });

    // Changes are collected and sent after the current synchronous run: a relist reports its
    // changes and then `relisted` in one run, and sends every resource anyway, so a changed
    // resource is sent once, not twice. Several watch events for one resource coalesce too.
    const pending = new Map<string, WatchedAnalysis>();
    let flushQueued = false;
    const flush = () => {
      flushQueued = false;
      const batch = [...pending.values()];
      pending.clear();
      for (const va of batch) emit(updateFromResource(va));
    };
    const changed = (va: WatchedAnalysis) => {
      if (!va.metadata.uid) return;
      pending.set(va.metadata.uid, va);
      if (!flushQueued) {
        flushQueued = true;
        queueMicrotask(flush);
      }
    };
    informer.on({
      add: changed,
      update: changed,
      delete: (va) => {
        if (va.metadata.uid) pending.delete(va.metadata.uid);
        const update = updateFromDeletion(va, new Date());
        if (update) emit(update);
      },
      relisted: () => {
        pending.clear();
        const ids = new Set<string>();
        for (const va of informer.list()) {
          const update = updateFromResource(va);
          ids.add(update.analysisId);
          emit(update);
        }
        try {
          onListed?.({ resourcePrefix: `${namespace}/`, ids, listStartedAt: this.listStartedAt });
        } catch (err) {
          log.error({ err }, 'analysis listing failed');
        }
      },
    });
    this.informer = informer;
    informer.start();

    const timeoutMs = this.opts.syncTimeoutMs ?? 10_000;
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), timeoutMs);
    await informer.waitForSync(timeout.signal);
    clearTimeout(timer);
    if (!informer.synced) {
      log.warn(
        { namespace, server: this.server, waitedMs: timeoutMs },
        'VideoAnalysis watch not synced yet; it keeps retrying in the background',
      );
    }
  }

  async submit(task: AnalysisTask): Promise<void> {
    const { namespace, log } = this.opts;
    const body = buildVideoAnalysis(task, namespace, this.defaults);
    const name = body.metadata.name;
    try {
      await this.api.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        namespace,
        body,
        fieldManager: 'nfc-api',
      });
      log.info({ analysis: task.analysisId, resource: `${namespace}/${name}` }, 'VideoAnalysis created');
    } catch (err) {
      // The same name means the same analysis: an earlier attempt got there first.
      if (apiErrorStatus(err) === 409) return;
      throw kubernetesError(err, `create VideoAnalysis ${namespace}/${name}`, this.server);
    }
  }

  async cancel(analysisId: string): Promise<void> {
    const { namespace, log } = this.opts;
    const name = this.resourceNameOf(analysisId);
    try {
      await this.api.deleteNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        namespace,
        name,
        propagationPolicy: 'Background',
      });
      log.info({ analysis: analysisId, resource: `${namespace}/${name}` }, 'VideoAnalysis deleted');
    } catch (err) {
      if (apiErrorStatus(err) === 404) return;
      throw kubernetesError(err, `delete VideoAnalysis ${namespace}/${name}`, this.server);
    }
  }

  async ready(): Promise<void> {
    const { namespace } = this.opts;
    const timeoutMs = this.opts.readyTimeoutMs ?? 5000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new KubernetesDispatchError(
              'KUBERNETES_UNAVAILABLE',
              `the Kubernetes API server at ${this.server} did not answer within ${timeoutMs} ms`,
              undefined,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      await Promise.race([
        this.api.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace, limit: 1 }),
        timedOut,
      ]);
    } catch (err) {
      if (err instanceof KubernetesDispatchError) throw err;
      throw kubernetesError(err, `list VideoAnalyses in ${namespace}`, this.server);
    } finally {
      clearTimeout(timer);
    }
  }

  async stop(): Promise<void> {
    await this.informer?.stop();
  }

  /** `namespace/name` of the VideoAnalysis submit() creates for the analysis (its row's `resource`). */
  resourceOf(analysisId: string): string {
    return `${this.opts.namespace}/${resourceName(analysisId)}`;
  }

  /** True once the watch has listed the namespace at least once. */
  get synced(): boolean {
    return this.informer?.synced ?? false;
  }

  /** The resource of an analysis: the watched one that stands for it (kubectl ones have their own names), else ours. */
  private resourceNameOf(analysisId: string): string {
    for (const va of this.informer?.list() ?? []) {
      if (analysisIdOf(va).id === analysisId) return va.metadata.name;
    }
    return resourceName(analysisId);
  }

  private async listPage(token: string | undefined): Promise<ListPage<WatchedAnalysis>> {
    if (!token) this.listStartedAt = new Date();
    return (await this.api.listNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace: this.opts.namespace,
      limit: PAGE,
      ...(token ? { _continue: token } : {}),
    })) as ListPage<WatchedAnalysis>;
  }
}

/** The cache keeps no managedFields (often the largest part of an object, never read). */
function slim(va: WatchedAnalysis): WatchedAnalysis {
  const { managedFields: _, ...metadata } = va.metadata as WatchedAnalysis['metadata'] & { managedFields?: unknown };
  return { ...va, metadata };
}
