/**
 * The operator process: settings, logger, API client, metrics and health endpoints, the caches,
 * then leader election; the leader runs the reconcile workers until it is stopped (graceful:
 * finishes what it is doing, releases the Lease) or loses the Lease (stops at once, exit 1, so
 * that Kubernetes restarts it as a candidate).
 */
import type { Logger } from 'pino';
import { createLogger } from '../services/platform/logging.js';
import { type ObjectStoreConfig, objectStoreConfigFromEnv } from '../services/platform/object-store/config.js';
import { loadConfig } from './config.js';
import { startHealthServer } from './health.js';
import { LeaderElector } from './leader-election.js';
import { Controller } from './loop/controller.js';
import { type ConnectionSettings, connectionFromEnv, KubeConnection, resourceOfPath } from './loop/kube-connection.js';
import type { ArtifactStore } from './loop/reconciler.js';
import { OperatorMetrics } from './metrics.js';

export interface RunOperatorOptions {
  env: NodeJS.ProcessEnv;
  /** Aborting it stops the operator gracefully. */
  signal: AbortSignal;
  log?: Logger;
  /** Default: from KUBECONFIG, else the Pod's service account. */
  connection?: ConnectionSettings;
  store?: ArtifactStore;
}

/** Runs until `signal` aborts (resolves 0) or leadership is lost (resolves 1). */
export async function runOperator(opts: RunOperatorOptions): Promise<number> {
  const config = loadConfig(opts.env);
  const log = opts.log ?? createLogger(opts.env, { component: 'operator' });
  const connection = new KubeConnection(opts.connection ?? connectionFromEnv(opts.env));
  const store = opts.store ?? lazyObjectStore(objectStoreConfigFromEnv(opts.env));
  const startedAt = Date.now();

  let elector: LeaderElector | undefined;
  let controller: Controller | undefined;
  const metrics = new OperatorMetrics({
    queueDepth: () => controller?.queue.length ?? 0,
    phaseCounts: () => controller?.phaseCounts() ?? {},
    lastWatchEvent: () =>
      Object.fromEntries(
        (controller?.watchHealth() ?? []).map((w) => [
          w.namespace === '*' ? w.resource : `${w.resource}/${w.namespace}`,
          w.lastEventTime ? Date.parse(w.lastEventTime) / 1000 : 0,
        ]),
      ),
    isLeader: () => controller?.isLeading ?? false,
  });
  connection.onRequest = (method, watch, path) =>
    metrics.apiRequests.inc({ verb: watch ? 'WATCH' : method, resource: resourceOfPath(path) });
  controller = new Controller({ config, connection, log, metrics, store });
  const running = controller;

  const health = await startHealthServer(
    {
      registry: metrics.registry,
      watches: () => running.watchHealth(),
      ready: () => running.synced,
      leader: () => running.isLeading,
      identity: config.leaderElection.identity,
      staleAfterMs: config.watchStaleSeconds * 1000,
      startedAt,
    },
    config.metricsPort,
    config.metricsHost,
  );
  log.info(
    {
      port: health.port,
      identity: config.leaderElection.identity,
      namespaces: config.watchNamespaces.length > 0 ? config.watchNamespaces : 'all',
      maxRunning: config.job.maxRunning,
      maxRunningPerNamespace: config.job.maxRunningPerNamespace,
    },
    'operator started',
  );

  running.startInformers();
  let exitCode = 0;
  try {
    if (!config.leaderElection.enabled) {
      await running.startWorkers(opts.signal);
      await new Promise<void>((resolve) => {
        if (opts.signal.aborted) resolve();
        opts.signal.addEventListener('abort', () => resolve(), { once: true });
      });
    } else {
      const le = config.leaderElection;
      elector = new LeaderElector({
        connection,
        namespace: le.leaseNamespace,
        name: le.leaseName,
        identity: le.identity,
        leaseDurationSeconds: le.leaseDurationSeconds,
        renewDeadlineSeconds: le.renewDeadlineSeconds,
        retryPeriodSeconds: le.retryPeriodSeconds,
        log: log.child({ part: 'leader-election' }),
      });
      if (await elector.acquire(opts.signal)) {
        const lost = new AbortController();
        const onStop = () => lost.abort();
        opts.signal.addEventListener('abort', onStop, { once: true });
        const holding = elector.hold(lost.signal).then((wasLost) => {
          if (wasLost) lost.abort();
          return wasLost;
        });
        await running.startWorkers(lost.signal);
        if (await holding) exitCode = 1;
        opts.signal.removeEventListener('abort', onStop);
      }
    }
  } finally {
    log.info({ exitCode }, 'operator stopping');
    await running.stop();
    await elector?.release();
    const closed = new Promise<void>((resolve) => health.server.close(() => resolve()));
    health.server.closeAllConnections();
    await closed;
    (store as { destroy?: () => void }).destroy?.();
    await connection.close();
    log.info('operator stopped');
  }
  return exitCode;
}

/**
 * The object store, loaded on the first cleanup: the S3 SDK costs ~35 MB of resident memory,
 * and most operators never delete artifacts (cleanupPolicy Retain is the default). The settings
 * are checked at start all the same.
 */
function lazyObjectStore(config: ObjectStoreConfig): ArtifactStore & { destroy(): void } {
  let store: Promise<{ deletePrefix(bucket: string, prefix: string): Promise<number>; destroy(): void }> | undefined;
  return {
    async deletePrefix(bucket, prefix) {
      store ??= import('../services/platform/object-store/object-store.js').then((m) => new m.ObjectStore(config));
      return (await store).deletePrefix(bucket, prefix);
    },
    destroy() {
      void store?.then((s) => s.destroy());
    },
  };
}
