/**
 * `npm run bench:operator`: the operator at scale on a real control plane with KWOK fake GPU
 * nodes (50 × 8 GPUs by default). N VideoAnalyses are applied at once; the figures:
 * - time from the first apply to all N Jobs created, and to all N Succeeded;
 * - the operator's peak RSS;
 * - its API requests per resource (it counts its own HTTP requests, watches included);
 * then, in the same run and cluster, the same N Jobs created directly (no operator) and
 * completed the same way, for the ratio.
 *
 * Jobs complete either by KWOK (`--complete kwok`, the default: kube-scheduler places each pod
 * on a fake GPU node, KWOK runs it to completion and the Job controller marks the Job Complete,
 * as on a cluster; its API rate limit, 20 requests/s by default, paces both runs, ~5 min each at
 * 1,000) or by the bench patching each Job's status as the Job controller would, the moment it
 * appears (`--complete patch`: a stress test of the operator itself, where the 2 runs share a
 * saturated kube-apiserver and the operator's route costs ~3× the direct route's writes).
 *
 * Options: --count N (1000)  --nodes N (50)  --gpus N (8 per node)  --cap N (count)
 *          --complete patch|kwok  --concurrency N (32 applies in flight)
 *          --operator-concurrency N (4 reconciles at once, the operator's default)
 *          --skip-direct (only the operator: for memory at 10,000, where the direct run adds minutes)
 *          --runtime compiled|tsx (compiled: `npm run build` first, then dist/ as the image runs it)
 * The operator runs with the image's Node.js settings (operator/node-runtime.ts).
 * Environment: BENCH_OPERATOR_NODE_OPTIONS (replaces the operator's NODE_OPTIONS, e.g.
 * "--max-semi-space-size=1 --max-old-space-size=256 --heapsnapshot-signal=SIGUSR2"),
 * BENCH_OPERATOR_HEAP_SNAPSHOT=1 (with --heapsnapshot-signal=SIGUSR2 in it: a heap snapshot of the
 * operator at the end, in the repository root). Every 15 s it prints progress, the operator's
 * peak RSS so far, its V8 heap and its queue depth.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { BatchV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { loadConfig } from '../operator/config.js';
import { Informer, type ListPage } from '../operator/loop/informer.js';
import type { CachedObject, JobObject, VideoAnalysisObject } from '../operator/loop/objects.js';
import { buildJob } from '../operator/plan/job-spec.js';
import type { Desired } from '../operator/plan/types.js';
import { REPO_ROOT } from '../test/support/clips.js';
import { startControlPlane } from '../test/support/control-plane.js';
import {
  GROUP,
  installCrd,
  MERGE_PATCH,
  PLURAL,
  startOperator,
  VERSION,
  videoAnalysis,
} from '../test/support/operator-process.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '1000' },
    nodes: { type: 'string', default: '50' },
    gpus: { type: 'string', default: '8' },
    cap: { type: 'string' },
    complete: { type: 'string', default: 'kwok' },
    concurrency: { type: 'string', default: '32' },
    // The operator's own default (NFC_OPERATOR_CONCURRENCY, the chart's operator.concurrency).
    'operator-concurrency': { type: 'string', default: '4' },
    'skip-direct': { type: 'boolean', default: false },
    runtime: { type: 'string', default: 'compiled' },
  },
});
const count = Number(values.count);
const nodes = Number(values.nodes);
const gpusPerNode = Number(values.gpus);
const cap = Number(values.cap ?? values.count);
const mode = values.complete === 'patch' ? 'patch' : 'kwok';
const concurrency = Number(values.concurrency);
const compiled = values.runtime !== 'tsx';

const WORKER_ENV = {
  NFC_MAX_RUNNING: String(cap),
  NFC_MAX_RUNNING_PER_NAMESPACE: String(cap),
  NFC_GPU_NODE_SELECTOR: '{}',
  NFC_GPU_TOLERATIONS: '[]',
  NFC_RUNTIME_CLASS_NAME: '',
  NFC_WORKER_CPU: '{"request":"10m","limit":"100m"}',
  NFC_WORKER_MEMORY: '{"request":"16Mi","limit":"64Mi"}',
  NFC_OPERATOR_CONCURRENCY: values['operator-concurrency'],
  // The chart's Lease timings (the tests' 4 s lease is for fast failover tests, too tight for a
  // machine this busy).
  NFC_OPERATOR_LEASE_DURATION_SECONDS: '15',
  NFC_OPERATOR_RENEW_DEADLINE_SECONDS: '10',
  NFC_OPERATOR_RETRY_PERIOD_SECONDS: '2',
};

/** Runs `fn` over `items`, at most `limit` at once. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
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
function trackJobs(kc: KubeConfig, namespace: string, expected: number, batch: BatchV1Api) {
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
function trackSucceeded(kc: KubeConfig, namespace: string, expected: number) {
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

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function main(): Promise<void> {
  process.stdout.write(
    `operator bench: ${count} VideoAnalyses, ${nodes} KWOK nodes × ${gpusPerNode} GPUs, cap ${cap}, Jobs completed by ${mode}, operator ${compiled ? 'compiled (dist/)' : 'through tsx'}\n`,
  );
  const cpStarted = performance.now();
  const cp = await startControlPlane({
    scheduler: mode === 'kwok',
    controllerManager: mode === 'kwok',
    kwokNodes: Array.from({ length: nodes }, (_, i) => ({
      name: `gpu-${String(i).padStart(3, '0')}`,
      gpus: gpusPerNode,
    })),
    timeoutMs: 180_000,
  });
  try {
    process.stdout.write(`control plane up in ${((performance.now() - cpStarted) / 1000).toFixed(1)} s\n`);
    const kc = cp.kubeConfig();
    await installCrd(kc);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const batch = kc.makeApiClient(BatchV1Api);
    const core = kc.makeApiClient(CoreV1Api);
    for (const name of ['bench-operator', 'bench-direct']) {
      await core.createNamespace({ body: { metadata: { name } } });
      // The worker's ServiceAccount (the Job controller's pods need it to exist).
      await core.createNamespacedServiceAccount({ namespace: name, body: { metadata: { name: 'nfc-worker' } } });
    }

    // 1. Through the operator.
    if (compiled) execFileSync('npm', ['run', '-s', 'build'], { cwd: REPO_ROOT, stdio: 'inherit' });
    const op = await startOperator({
      compiled,
      kubeconfigPath: cp.kubeconfigPath,
      env: {
        ...WORKER_ENV,
        NFC_WATCH_NAMESPACES: 'bench-operator',
        ...(process.env.BENCH_OPERATOR_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_OPERATOR_NODE_OPTIONS } : {}),
      },
    });
    await op.waitForLog(/became leader/);
    const requestsBefore = await apiRequests(op);
    const idleRss = op.peakRssBytes();
    const names = Array.from({ length: count }, (_, i) => `bench-${String(i).padStart(5, '0')}`);
    const jobs = trackJobs(kc, 'bench-operator', count, batch);
    const succeeded = trackSucceeded(kc, 'bench-operator', count);
    const started = performance.now();
    const ticker = setInterval(async () => {
      const m = await op.metrics().catch(() => ({}) as Record<string, number>);
      const mb = (bytes: number | undefined) => ((bytes ?? 0) / 1048576).toFixed(0);
      process.stderr.write(
        `  ${s(performance.now() - started)}: ${jobs.progress()}, ${succeeded.progress()}; operator peak RSS ${mb(op.peakRssBytes())} MB, V8 heap ${mb(m.nodejs_heap_size_used_bytes)}/${mb(m.nodejs_heap_size_total_bytes)} MB, queue ${m.nfc_operator_queue_depth ?? '?'}\n`,
      );
    }, 15_000);
    await pool(names, concurrency, (name) =>
      custom.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        namespace: 'bench-operator',
        body: videoAnalysis(name, { namespace: 'bench-operator' }),
      }),
    );
    const applied = performance.now();
    // An operator that dies must end the bench with its last words, not leave it waiting.
    const died = op.exited.then(({ code, signal }) => {
      throw new Error(`the operator exited (${code ?? signal}) during the bench:\n${op.logs().slice(-6000)}`);
    });
    died.catch(() => {}); // after the bench's own SIGTERM nobody waits on it
    await Promise.race([jobs.created, died]);
    await Promise.race([jobs.finished, died]);
    const allSucceeded = await Promise.race([succeeded.done, died]);
    clearInterval(ticker);
    const rss = op.peakRssBytes();
    const cpuSeconds = processCpuSeconds(op.pid);
    if (process.env.BENCH_OPERATOR_HEAP_SNAPSHOT) await heapSnapshot(op.pid);
    const final = await op.metrics();
    const heapUsed = final.nodejs_heap_size_used_bytes ?? 0;
    const heapTotal = final.nodejs_heap_size_total_bytes ?? 0;
    // Events trail the status writes (sent in the background, a few at a time): the counts are
    // read once they stop moving, so that every request of each resource's life is counted.
    const requestsAfter = await settledApiRequests(op);
    await Promise.all([jobs.stop(), succeeded.stop()]);
    await op.kill('SIGTERM');

    // 2. The same Jobs created directly, completed the same way.
    const direct = values['skip-direct']
      ? { created: Number.NaN, finished: Number.NaN }
      : await runDirect(kc, batch, names);

    const opCreated = (jobs.marks.created ?? 0) - started;
    const opFinished = allSucceeded - started;
    const dCreated = direct.created;
    const dFinished = direct.finished;
    const delta = Object.fromEntries(
      Object.entries(requestsAfter).map(([verb, n]) => [verb, n - (requestsBefore[verb] ?? 0)]),
    );
    const totalRequests = Object.values(delta).reduce((a, b) => a + b, 0);
    const lines = [
      '',
      `                              operator      direct Jobs    ratio`,
      `all ${count} Jobs created        ${s(opCreated).padStart(10)}   ${s(dCreated).padStart(12)}   ${(opCreated / dCreated).toFixed(2)}×`,
      `all ${count} finished            ${s(opFinished).padStart(10)}   ${s(dFinished).padStart(12)}   ${(opFinished / dFinished).toFixed(2)}×   (operator: VideoAnalysis Succeeded; direct: Job Complete)`,
      `apply of ${count} resources      ${s(applied - started).padStart(10)}`,
      `throughput                    ${((count / opFinished) * 1000).toFixed(0).padStart(7)} /s   ${((count / dFinished) * 1000).toFixed(0).padStart(9)} /s`,
      `operator peak RSS idle        ${idleRss ? `${(idleRss / 1024 / 1024).toFixed(0)} MB` : 'n/a'} (started, caches synced, leader, before the first apply)`,
      `operator peak RSS             ${rss ? `${(rss / 1024 / 1024).toFixed(0)} MB` : 'n/a'} (V8 heap at the end: ${(heapUsed / 1024 / 1024).toFixed(0)} MB used of ${(heapTotal / 1024 / 1024).toFixed(0)} MB)`,
      `operator CPU time             ${cpuSeconds.toFixed(1)} s (user + system, from start)`,
      `operator API requests         ${totalRequests} (${(totalRequests / count).toFixed(2)} per resource), per resource:`,
      ...Object.entries(delta)
        .filter(([, n]) => n > 0)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([request, n]) => `  ${request.padEnd(28)}${(n / count).toFixed(2).padStart(6)}   (${n})`),
      `writes to a resource and its Job (Job creations, status patches): ${(
        writesOf(delta, /^(POST|PATCH|PUT) (jobs|videoanalyses.*)$/) / count
      ).toFixed(2)} per resource; Events ${(writesOf(delta, /^POST events$/) / count).toFixed(2)}`,
      '',
    ];
    process.stdout.write(lines.join('\n'));
  } finally {
    await cp.stop();
  }
}

/** The same Jobs created directly (no operator) and completed the same way: times to all created and all complete. */
async function runDirect(
  kc: KubeConfig,
  batch: BatchV1Api,
  names: string[],
): Promise<{ created: number; finished: number }> {
  const config = loadConfig({ ...WORKER_ENV, NFC_WATCH_NAMESPACES: 'bench-direct' });
  const direct = trackJobs(kc, 'bench-direct', count, batch);
  const directStarted = performance.now();
  const directTicker = setInterval(
    () => process.stderr.write(`  ${s(performance.now() - directStarted)}: direct ${direct.progress()}\n`),
    15_000,
  );
  await pool(names, concurrency, (name) => {
    const job = buildJob(
      {
        ...(videoAnalysis(name, { namespace: 'bench-direct' }) as unknown as Desired),
        metadata: { name, namespace: 'bench-direct', uid: 'none' },
      },
      config.job,
    );
    // No owner (the garbage collector would delete Jobs of an owner that does not exist).
    delete job.metadata?.ownerReferences;
    return batch.createNamespacedJob({ namespace: 'bench-direct', body: job });
  });
  await direct.created;
  const directCreated = direct.marks.created ?? performance.now();
  await direct.finished;
  const directFinished = direct.marks.finished ?? performance.now();
  clearInterval(directTicker);
  await direct.stop();
  return { created: directCreated - directStarted, finished: directFinished - directStarted };
}

/** User + system CPU time of a process so far (/proc/PID/stat, in clock ticks of 1/100 s). */
function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/**
 * Asks the operator (started with --heapsnapshot-signal=SIGUSR2) for a heap snapshot, which it
 * writes in its working directory (the repository root); waits for it.
 */
async function heapSnapshot(pid: number): Promise<void> {
  const before = new Set(readdirSync(REPO_ROOT));
  process.kill(pid, 'SIGUSR2');
  let last = -1;
  for (;;) {
    await sleep(1000);
    const file = readdirSync(REPO_ROOT).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    const size = file ? statSync(join(REPO_ROOT, file)).size : -1;
    if (file && size === last && size > 0) {
      process.stderr.write(`heap snapshot: ${file} (${(size / 1e6).toFixed(0)} MB)\n`);
      return;
    }
    last = size;
  }
}

/** The operator's API requests so far, as "VERB resource" → count. */
async function apiRequests(op: { metrics(): Promise<Record<string, number>> }): Promise<Record<string, number>> {
  const m = await op.metrics();
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(m)) {
    const match = /^nfc_operator_api_requests_total\{verb="(\w+)",resource="([\w./-]+)"\}$/.exec(key);
    if (match) out[`${match[1]} ${match[2]}`] = value;
  }
  return out;
}

/** apiRequests once no write (POST, PATCH) has been added for 2 s (at most 60 s). */
async function settledApiRequests(op: { metrics(): Promise<Record<string, number>> }) {
  const writes = (r: Record<string, number>) => writesOf(r, /^(POST|PATCH) /);
  let last = await apiRequests(op);
  for (let waited = 0; waited < 60_000; waited += 2_000) {
    await sleep(2_000);
    const now = await apiRequests(op);
    const moved = writes(now) !== writes(last);
    last = now;
    if (!moved) break;
  }
  return last;
}

function writesOf(delta: Record<string, number>, pattern: RegExp): number {
  return Object.entries(delta)
    .filter(([request]) => pattern.test(request))
    .reduce((sum, [, n]) => sum + n, 0);
}

await main();
