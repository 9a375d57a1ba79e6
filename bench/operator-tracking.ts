/**
 * What bench:operator watches: the Jobs of a namespace (created, complete; in patch mode it
 * completes them) and its VideoAnalyses (Succeeded), through the operator's own informer.
 */
import { type BatchV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Informer, type ListPage } from '../operator/loop/informer.js';
import type { CachedObject, JobObject, VideoAnalysisObject } from '../operator/loop/objects.js';
import { GROUP, MERGE_PATCH, PLURAL, VERSION } from '../test/support/operator-process.js';

/** Runs `fn` over `items`, at most `limit` at once. */
export async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

/**
 * Follows the Jobs of a namespace (through the operator's own resilient informer): `created`
 * resolves when `expected` exist, `finished` when all are Complete; in patch mode each one is
 * completed as it appears.
 */
export function trackJobs(
  kc: KubeConfig,
  namespace: string,
  expected: number,
  batch: BatchV1Api,
  completion: { mode: 'kwok' | 'patch'; concurrency: number },
) {
  const { mode, concurrency } = completion;
  const marks: { created?: number; finished?: number } = {};
  let resolveCreated!: () => void;
  let resolveFinished!: () => void;
  const created = new Promise<void>((r) => {
    resolveCreated = r;
  });
  const finished = new Promise<void>((r) => {
    resolveFinished = r;
  });
  const seen = new Set<string>();
  const done = new Set<string>();
  const queue: string[] = [];
  let inFlight = 0;
  const complete = (name: string) => {
    const now = new Date().toISOString();
    const conditions = ['SuccessCriteriaMet', 'Complete'].map((type) => ({
      type,
      status: 'True',
      reason: 'CompletionsReached',
      message: 'Reached expected number of succeeded pods',
      lastTransitionTime: now,
      lastProbeTime: now,
    }));
    return batch.patchNamespacedJobStatus(
      {
        name,
        namespace,
        body: { status: { startTime: now, completionTime: now, succeeded: 1, active: 0, conditions } },
      },
      MERGE_PATCH,
    );
  };
  const pump = () => {
    while (inFlight < concurrency && queue.length > 0) {
      const name = queue.shift() as string;
      inFlight++;
      complete(name)
        .catch((err: unknown) => process.stderr.write(`complete ${name}: ${String(err).slice(0, 200)}\n`))
        .finally(() => {
          inFlight--;
          pump();
        });
    }
  };
  const onJob = (job: JobObject) => {
    const name = job.metadata.name;
    if (!seen.has(name)) {
      seen.add(name);
      if (mode === 'patch') {
        queue.push(name);
        pump();
      }
      if (seen.size === expected) {
        marks.created = performance.now();
        resolveCreated();
      }
    }
    if (job.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') && !done.has(name)) {
      done.add(name);
      if (done.size === expected) {
        marks.finished = performance.now();
        resolveFinished();
      }
    }
  };
  const informer = follow<JobObject>(
    kc,
    `/apis/batch/v1/namespaces/${namespace}/jobs`,
    'batch',
    'v1',
    'jobs',
    namespace,
  );
  informer.on({ add: onJob, update: onJob });
  informer.start();
  return {
    created,
    finished,
    marks,
    progress: () => `${seen.size} created, ${done.size} complete`,
    stop: () => informer.stop(),
  };
}

/** Resolves `done` with the time when `expected` VideoAnalyses of `namespace` are Succeeded. */
export function trackSucceeded(kc: KubeConfig, namespace: string, expected: number) {
  const succeeded = new Set<string>();
  let resolve!: (at: number) => void;
  const done = new Promise<number>((r) => {
    resolve = r;
  });
  const onChange = (va: VideoAnalysisObject) => {
    if (va.status?.phase === 'Succeeded' && !succeeded.has(va.metadata.name)) {
      succeeded.add(va.metadata.name);
      if (succeeded.size === expected) resolve(performance.now());
    }
  };
  const informer = follow<VideoAnalysisObject>(
    kc,
    `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`,
    GROUP,
    VERSION,
    PLURAL,
    namespace,
  );
  informer.on({ add: onChange, update: onChange });
  informer.start();
  return { done, progress: () => `${succeeded.size} Succeeded`, stop: () => informer.stop() };
}

function follow<T extends CachedObject>(
  kc: KubeConfig,
  path: string,
  group: string,
  version: string,
  plural: string,
  namespace: string,
): Informer<T> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  return new Informer<T>({
    resource: plural,
    path,
    listPage: async (token) =>
      (await custom.listNamespacedCustomObject({
        group,
        version,
        plural,
        namespace,
        limit: 500,
        ...(token ? { _continue: token } : {}),
      })) as ListPage<T>,
    kubeConfig: kc,
    resyncMs: 3_600_000,
    inactivityMs: 180_000,
    backoffBaseMs: 200,
    backoffMaxMs: 5_000,
    log: pino({ level: 'warn' }),
  });
}
