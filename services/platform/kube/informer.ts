/**
 * A list-watch cache of one kind of object that survives the ways watches fail:
 * - a watch that goes silent (no event, not even a bookmark, for `inactivityMs`) is dropped and
 *   reopened from the last resourceVersion;
 * - 410 Gone (history compacted) relists;
 * - errors (API server down, 429 while its cache warms up, 5xx) retry with jittered exponential
 *   backoff instead of stopping as the client's own ListWatch does;
 * - a full relist every `resyncMs` whatever happened, diffed against the cache, so an object
 *   is never lost (nor kept after its deletion) because a watch dropped an event.
 * Lists and watch events are both raw JSON (see cached-object.ts); the watch is client-node's Watch.
 */
import type { KubeConfig } from '@kubernetes/client-node';
// The Watch module alone: the package's index loads the whole generated client (~90 MB resident).
import { Watch } from '@kubernetes/client-node/dist/watch.js';
import type { Logger } from 'pino';
import { backoffDelay, jittered, sleep } from './backoff.js';
import { type CachedObject, keyOf, objectKey } from './cached-object.js';

export interface ListPage<T> {
  items: T[];
  metadata?: { resourceVersion?: string; continue?: string };
}

export interface InformerOptions<T> {
  /** For logs and metrics, e.g. "videoanalyses". */
  resource: string;
  /** Watch path, e.g. /apis/batch/v1/namespaces/ns/jobs or /apis/batch/v1/jobs. */
  path: string;
  /** One page of the list (raw JSON), from `continueToken`. */
  listPage: (continueToken: string | undefined) => Promise<ListPage<T>>;
  labelSelector?: string;
  /** Applied to every object before it is cached: drop what is never read (memory). */
  transform?: (obj: T) => T;
  kubeConfig: KubeConfig;
  resyncMs: number;
  inactivityMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  log: Logger;
  onWatchEnd?: (reason: WatchEnd) => void;
}

export interface InformerHandlers<T> {
  add?(obj: T): void;
  update?(obj: T, old: T): void;
  delete?(obj: T): void;
  /** After every full list (the first one included). */
  relisted?(): void;
}

/** Why a watch ended: closed by the server, silent too long, history gone, failed, or relist due. */
export type WatchEnd = 'closed' | 'timeout' | 'expired' | 'error' | 'resync';

/** The minimum time a watch must stay open for its end not to count as a failure. */
const HEALTHY_WATCH_MS = 1000;

export class Informer<T extends CachedObject> {
  private readonly objects = new Map<string, T>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private resourceVersion = '';
  private readonly stopController = new AbortController();
  private watchAbort?: AbortController;
  private abortReason?: WatchEnd;
  private running?: Promise<void>;
  private syncedResolve?: () => void;
  private readonly syncedPromise = new Promise<void>((resolve) => {
    this.syncedResolve = resolve;
  });
  /** True once the first list has filled the cache. */
  synced = false;
  /** Time (ms) of the last watch event, bookmark or list; 0 before the first. */
  lastEventAt = 0;
  /** Consecutive failures of list or watch (0 when healthy). */
  failures = 0;

  constructor(private readonly opts: InformerOptions<T>) {}

  on(handlers: InformerHandlers<T>): void {
    this.handlers.push(handlers);
  }

  get resource(): string {
    return this.opts.resource;
  }

  get(namespace: string, name: string): T | undefined {
    return this.objects.get(objectKey(namespace, name));
  }

  list(): IterableIterator<T> {
    return this.objects.values();
  }

  get size(): number {
    return this.objects.size;
  }

  start(): void {
    this.running ??= this.run().catch((err: unknown) => {
      this.opts.log.fatal({ err, resource: this.opts.resource }, 'informer loop crashed');
    });
  }

  /** Resolves when the first list is in the cache, or when `signal` aborts. */
  async waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.synced || signal?.aborted) return;
    // No timer: a wait that is never aborted must not keep the process alive once synced.
    await new Promise<void>((resolve) => {
      const done = () => {
        signal?.removeEventListener('abort', done);
        resolve();
      };
      signal?.addEventListener('abort', done, { once: true });
      void this.syncedPromise.then(done);
    });
  }

  async stop(): Promise<void> {
    this.stopController.abort();
    this.abortWatch('resync');
    await this.running;
  }

  private get stopped(): boolean {
    return this.stopController.signal.aborted;
  }

  private async run(): Promise<void> {
    const { log, resource } = this.opts;
    let needList = true;
    let nextResync = 0;
    while (!this.stopped) {
      try {
        if (needList || Date.now() >= nextResync) {
          await this.relist();
          needList = false;
          nextResync = Date.now() + jittered(this.opts.resyncMs);
        }
        if (this.stopped) break;
        const started = Date.now();
        const end = await this.watchOnce(nextResync);
        if (this.stopped) break;
        this.opts.onWatchEnd?.(end);
        if (end === 'expired' || end === 'resync') needList = true;
        if (end === 'expired') log.info({ resource }, 'watch history expired (410 Gone): relisting');
        // A watch the server closes at once, again and again, must not spin.
        if (end === 'closed' && Date.now() - started < HEALTHY_WATCH_MS) {
          this.failures++;
          await sleep(backoffDelay(this.failures, this.opts.backoffBaseMs, this.opts.backoffMaxMs), this.stopSignal);
        } else {
          this.failures = 0;
        }
      } catch (err) {
        if (this.stopped) break;
        this.failures++;
        this.opts.onWatchEnd?.('error');
        const delay = backoffDelay(this.failures, this.opts.backoffBaseMs, this.opts.backoffMaxMs);
        const status =
          (err as { code?: unknown; statusCode?: unknown }).code ?? (err as { statusCode?: unknown }).statusCode;
        if (status === 410) {
          needList = true;
          continue;
        }
        log.warn(
          { resource, err: errorSummary(err), failures: this.failures, retryInMs: delay },
          'list/watch failed; retrying',
        );
        await sleep(delay, this.stopSignal);
      }
    }
  }

  private get stopSignal(): AbortSignal {
    return this.stopController.signal;
  }

  /** Lists everything (paged) and makes the cache exactly that, telling handlers what changed. */
  private async relist(): Promise<void> {
    const items: T[] = [];
    let resourceVersion = '';
    let token: string | undefined;
    do {
      const page = await this.opts.listPage(token);
      const transform = this.opts.transform;
      for (const item of page.items) items.push(transform ? transform(item) : item);
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      token = page.metadata?.continue || undefined;
    } while (token);

    const fresh = new Map(items.map((o) => [keyOf(o), o]));
    for (const [key, old] of this.objects) {
      if (!fresh.has(key)) {
        this.objects.delete(key);
        this.emit('delete', old);
      }
    }
    for (const [key, obj] of fresh) {
      const old = this.objects.get(key);
      this.objects.set(key, obj);
      if (!old) this.emit('add', obj);
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.emit('update', obj, old);
    }
    this.resourceVersion = resourceVersion;
    this.lastEventAt = Date.now();
    this.failures = 0;
    if (!this.synced) {
      this.synced = true;
      this.syncedResolve?.();
    }
    for (const h of this.handlers) h.relisted?.();
  }

  /** One watch from the current resourceVersion, until it ends; resolves with why it ended. */
  private watchOnce(resyncAt: number): Promise<WatchEnd> {
    return new Promise<WatchEnd>((resolve, reject) => {
      const watch = new Watch(this.opts.kubeConfig);
      // client-node drops a watch after 30 s without data; bookmarks come about once a minute.
      (watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs = this.opts.inactivityMs;
      const params: Record<string, string | number | boolean> = {
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        // Server-side end of the watch, spread so that replicas do not reconnect together.
        timeoutSeconds: Math.round(300 + Math.random() * 300),
      };
      if (this.opts.labelSelector) params.labelSelector = this.opts.labelSelector;
      let statusError: { code?: number; message?: string } | undefined;
      const resyncTimer = setTimeout(() => this.abortWatch('resync'), Math.max(0, resyncAt - Date.now()));
      this.abortReason = undefined;
      const controller = new AbortController();
      this.watchAbort = controller;

      const onEvent = (type: string, raw: T & { code?: number; message?: string }) => {
        this.lastEventAt = Date.now();
        const obj =
          this.opts.transform && (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED')
            ? this.opts.transform(raw)
            : raw;
        switch (type) {
          case 'ADDED':
          case 'MODIFIED': {
            const key = keyOf(obj);
            const old = this.objects.get(key);
            this.objects.set(key, obj);
            if (!old) this.emit('add', obj);
            else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.emit('update', obj, old);
            break;
          }
          case 'DELETED': {
            const key = keyOf(obj);
            const old = this.objects.get(key);
            this.objects.delete(key);
            this.emit('delete', old ?? obj);
            break;
          }
          case 'BOOKMARK':
            break;
          case 'ERROR':
            statusError = raw;
            return;
        }
        if (obj.metadata?.resourceVersion) this.resourceVersion = obj.metadata.resourceVersion;
      };
      const onDone = (err: unknown) => {
        clearTimeout(resyncTimer);
        if (this.watchAbort === controller) this.watchAbort = undefined;
        if (this.abortReason) return resolve(this.abortReason);
        if (statusError?.code === 410) return resolve('expired');
        if (statusError) {
          return reject(Object.assign(new Error(statusError.message ?? 'watch error'), { code: statusError.code }));
        }
        if ((err as { name?: string } | null)?.name === 'TimeoutError') return resolve('timeout');
        if (err) return reject(err);
        resolve('closed');
      };
      watch.watch(this.opts.path, params, onEvent, onDone).then(
        (requestController) => {
          // Our controller aborts the request's; a stop or resync that came while connecting applies now.
          controller.signal.addEventListener('abort', () => requestController.abort(), { once: true });
          if (controller.signal.aborted || this.stopped) requestController.abort();
        },
        (err: unknown) => onDone(err),
      );
    });
  }

  private abortWatch(reason: WatchEnd): void {
    if (!this.watchAbort) return;
    this.abortReason = reason;
    this.watchAbort.abort();
  }

  private emit(kind: 'add' | 'update' | 'delete', obj: T, old?: T): void {
    for (const h of this.handlers) {
      try {
        if (kind === 'add') h.add?.(obj);
        else if (kind === 'update') h.update?.(obj, old as T);
        else h.delete?.(obj);
      } catch (err) {
        this.opts.log.error({ err, resource: this.opts.resource }, 'informer handler failed');
      }
    }
  }
}

/** A short description of a list/watch error for logs (client errors carry whole HTTP bodies). */
export function errorSummary(err: unknown): Record<string, unknown> {
  const e = err as {
    name?: string;
    message?: string;
    code?: unknown;
    statusCode?: unknown;
    cause?: { code?: unknown };
  };
  return {
    name: e?.name,
    code: e?.code ?? e?.statusCode ?? e?.cause?.code,
    message: String(e?.message ?? err)
      .split('\n')[0]
      ?.slice(0, 300),
  };
}
