/**
 * Wires the loop together: informers for VideoAnalyses and our Jobs feed the work queue; N
 * workers take keys from it and reconcile; admission is recomputed from the caches when they
 * change, and when a slot frees up the resources that can now take it are queued, in queue
 * order. Caches run on every replica (a standby is warm); workers only on the leader.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { OperatorMetrics } from '../metrics.js';
import { jobNameFor } from '../plan/job-spec.js';
import { AdmissionIndex, affectsAdmission, isFinished, isWaiting } from './admission.js';
import { EventRecorder } from './events.js';
import { errorSummary, Informer, type WatchEnd } from './informer.js';
import { InformerSet } from './informer-set.js';
import { JOB_SELECTOR, KubeApi } from './kube-api.js';
import type { KubeConnection } from './kube-connection.js';
import { Mutex } from './mutex.js';
import {
  type CachedObject,
  type JobObject,
  keyOf,
  objectKey,
  slimAnalysis,
  slimJob,
  splitKey,
  type VideoAnalysisObject,
} from './objects.js';
import { ownerOf } from './observe.js';
import { OwnWrites } from './own-writes.js';
import { type ArtifactStore, Reconciler } from './reconciler.js';
import { WorkQueue } from './work-queue.js';

const WATCH_BACKOFF = { baseMs: 500, maxMs: 30_000 };

export interface ControllerOptions {
  config: Readonly<Config>;
  connection: KubeConnection;
  log: Logger;
  metrics?: OperatorMetrics;
  store?: ArtifactStore;
  clock?: () => Date;
}

export interface WatchHealth {
  resource: string;
  namespace: string;
  synced: boolean;
  lastEventTime: string | null;
  failures: number;
}

export class Controller {
  readonly analyses: InformerSet<VideoAnalysisObject>;
  readonly jobs: InformerSet<JobObject>;
  readonly queue: WorkQueue;
  private readonly admission: AdmissionIndex;
  private readonly writes = new OwnWrites();
  private readonly events: EventRecorder;
  private readonly reconciler: Reconciler;
  private readonly log: Logger;
  private workers: Promise<void>[] = [];
  private leading = false;
  private admitScheduled = false;

  constructor(private readonly opts: ControllerOptions) {
    const { config, connection, log, metrics } = opts;
    const kubeConfig = connection.asWatchConfig();
    this.log = log;
    const api = new KubeApi(connection, config.leaderElection.identity);
    this.queue = new WorkQueue({ baseMs: config.retryBaseMilliseconds, maxMs: config.retryMaxSeconds * 1000 });
    const namespaces = config.watchNamespaces.length > 0 ? config.watchNamespaces : [''];
    const informers = <T extends CachedObject>(
      resource: string,
      path: (namespace?: string) => string,
      listPage: (namespace?: string) => (token?: string) => Promise<{ items: T[] }>,
      transform: (obj: T) => T,
      labelSelector?: string,
    ) =>
      new InformerSet<T>(
        new Map(
          namespaces.map((ns) => [
            ns,
            new Informer<T>({
              resource,
              path: path(ns || undefined),
              listPage: listPage(ns || undefined),
              transform,
              ...(labelSelector ? { labelSelector } : {}),
              kubeConfig,
              resyncMs: config.resyncSeconds * 1000,
              inactivityMs: config.watchInactivitySeconds * 1000,
              backoffBaseMs: WATCH_BACKOFF.baseMs,
              backoffMaxMs: WATCH_BACKOFF.maxMs,
              log: log.child({ watch: resource, ...(ns ? { namespace: ns } : {}) }),
              onWatchEnd: (reason: WatchEnd) => {
                metrics?.watchRestarts.inc({ resource, reason });
                // Silence may be a connection that died without a word: later requests get new ones.
                if (reason === 'timeout') {
                  log.warn({ watch: resource, namespace: ns || undefined }, 'watch went silent; renewing connections');
                  void connection.resetConnections();
                }
              },
            }),
          ]),
        ),
      );
    this.analyses = informers<VideoAnalysisObject>(
      'videoanalyses',
      (ns) => api.videoAnalysesPath(ns),
      (ns) => api.listVideoAnalyses(ns),
      slimAnalysis,
    );
    this.jobs = informers<JobObject>(
      'jobs',
      (ns) => api.jobsPath(ns),
      (ns) => api.listJobs(ns),
      slimJob,
      JOB_SELECTOR,
    );

    this.admission = new AdmissionIndex(
      {
        analyses: () => this.analyses.list(),
        jobs: () => this.allJobs(),
        jobOf: (va) => this.jobOf(va.metadata.namespace ?? '', jobNameFor(va.metadata.name)),
      },
      { maxRunning: config.job.maxRunning, maxRunningPerNamespace: config.job.maxRunningPerNamespace },
    );
    // Events wait while Jobs are being created (bounded: see EventRecorder).
    this.events = new EventRecorder(api, log.child({ part: 'events' }), () => this.queue.busy);
    this.reconciler = new Reconciler({
      config: config.job,
      api,
      analysis: (ns, name) => this.analyses.get(ns, name),
      job: (ns, name) => this.jobOf(ns, name),
      admission: this.admission,
      admissionLock: new Mutex(),
      writes: this.writes,
      events: this.events,
      ...(opts.store ? { store: opts.store } : {}),
      clock: opts.clock ?? (() => new Date()),
      log: log.child({ part: 'reconciler' }),
      ...(config.failpoint === 'exit-after-create-job'
        ? {
            afterCreateJob: () => {
              log.warn({ failpoint: config.failpoint }, 'failpoint: killing the process');
              process.kill(process.pid, 'SIGKILL');
            },
          }
        : {}),
    });
    this.wire();
  }

  /** Starts the caches (every replica). */
  startInformers(): void {
    this.analyses.start();
    this.jobs.start();
  }

  async waitForSync(signal?: AbortSignal): Promise<void> {
    await this.analyses.waitForSync(signal);
    await this.jobs.waitForSync(signal);
  }

  get synced(): boolean {
    return this.analyses.synced && this.jobs.synced;
  }

  /** Becomes the one that reconciles: queues everything (those that can take a slot first), starts the workers. */
  async startWorkers(signal?: AbortSignal): Promise<void> {
    await this.waitForSync(signal);
    if (signal?.aborted || this.leading) return;
    this.leading = true;
    this.admission.invalidate();
    for (const key of this.admission.admissible()) this.queue.add(key, true);
    for (const va of this.analyses.list()) this.queue.add(keyOf(va));
    this.log.info({ analyses: this.queue.length }, 'reconciling');
    for (let i = 0; i < this.opts.config.concurrency; i++) this.workers.push(this.work());
  }

  get isLeading(): boolean {
    return this.leading;
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all(this.workers);
    await this.events.flush();
    await Promise.all([this.analyses.stop(), this.jobs.stop()]);
  }

  watchHealth(): WatchHealth[] {
    const health = <T extends CachedObject>([namespace, i]: [string, Informer<T>]): WatchHealth => ({
      resource: i.resource,
      namespace: namespace || '*',
      synced: i.synced,
      lastEventTime: i.lastEventAt ? new Date(i.lastEventAt).toISOString() : null,
      failures: i.failures,
    });
    return [...this.analyses.entries().map(health), ...this.jobs.entries().map(health)];
  }

  phaseCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const va of this.analyses.list()) {
      const phase = va.status?.phase ?? 'Pending';
      counts[phase] = (counts[phase] ?? 0) + 1;
    }
    return counts;
  }

  private async work(): Promise<void> {
    const { metrics } = this.opts;
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      const { namespace, name } = splitKey(key);
      const started = process.hrtime.bigint();
      try {
        const result = await this.reconciler.reconcile(namespace, name);
        this.queue.forget(key);
        metrics?.reconciles.inc({ result: 'success' });
        if (result.requeueAfterMs !== undefined) this.queue.addAfter(key, result.requeueAfterMs);
      } catch (err) {
        metrics?.reconciles.inc({ result: 'error' });
        metrics?.reconcileErrors.inc();
        const retryInMs = this.queue.addRateLimited(key);
        this.log.warn(
          { analysis: name, namespace, err: errorSummary(err), retryInMs, retries: this.queue.retries(key) },
          'reconcile failed; will retry',
        );
      } finally {
        metrics?.reconcileDuration.observe(Number(process.hrtime.bigint() - started) / 1e9);
        this.queue.done(key);
      }
    }
  }

  private wire(): void {
    this.analyses.on({
      add: (va) => {
        this.admission.analysisAdded(va);
        // A new resource is about to get its Job (or its place in the queue): before status-only work.
        if (this.leading) this.queue.add(keyOf(va), isWaiting(va));
      },
      update: (va, old) => {
        if (affectsAdmission(va, old)) {
          // Waiting again (its status cleared by hand) adds demand; anything else can only free slots.
          if (isWaiting(va) && !isWaiting(old)) this.admission.invalidate();
          else this.admission.released();
          this.admitSoon();
        }
        if (this.leading) this.queue.add(keyOf(va));
      },
      delete: (va) => {
        this.writes.forgetAnalysis(keyOf(va));
        this.admission.released();
        this.admitSoon();
      },
      relisted: () => {
        this.admission.invalidate();
        if (this.leading) for (const va of this.analyses.list()) this.queue.add(keyOf(va));
      },
    });
    this.jobs.on({
      add: (job) => {
        this.writes.dropPendingJob(job.metadata.namespace ?? '', job.metadata.name);
        this.admission.jobAdded(job);
        this.enqueueOwner(job);
      },
      update: (job, old) => {
        if (isFinished(job) !== isFinished(old)) {
          this.admission.released();
          this.admitSoon();
        }
        this.enqueueOwner(job);
      },
      delete: (job) => {
        this.admission.released();
        this.enqueueOwner(job);
        this.admitSoon();
      },
      relisted: () => {
        this.admission.invalidate();
        this.admitSoon();
      },
    });
  }

  private enqueueOwner(job: JobObject): void {
    const owner = ownerOf(job);
    if (owner && this.leading) this.queue.add(objectKey(owner.namespace, owner.name));
  }

  /** Queues (once per tick however many events) the waiting resources that can take a slot now. */
  private admitSoon(): void {
    if (!this.leading || this.admitScheduled) return;
    this.admitScheduled = true;
    setImmediate(() => {
      this.admitScheduled = false;
      try {
        for (const key of this.admission.admissible()) this.queue.add(key, true);
      } catch (err) {
        this.log.error({ err }, 'admission failed');
      }
    });
  }

  private jobOf(namespace: string, name: string): JobObject | undefined {
    return this.jobs.get(namespace, name) ?? this.writes.pendingJob(namespace, name);
  }

  private *allJobs(): IterableIterator<JobObject> {
    yield* this.jobs.list();
    for (const job of this.writes.pending()) {
      if (!this.jobs.get(job.metadata.namespace ?? '', job.metadata.name)) yield job;
    }
  }
}
