/**
 * `npm run bench:operator`: the operator at scale on a real control plane with KWOK fake GPU
 * nodes (50 × 8 GPUs by default). N VideoAnalyses are applied at once; the figures:
 * - time from the first apply to all N Jobs created, and to all N Succeeded;
 * - the operator's peak RSS;
 * - its API requests per resource (it counts its own HTTP requests, watches included);
 * then, in the same run and cluster, the same N Jobs created directly (no operator) and
 * completed the same way, for the ratio; the same VideoAnalyses applied with no operator running
 * (the applies alone: no operator can create a Job before its resource exists); and where the
 * machine's CPU went until all Jobs were created, in each run. With --repeat R both runs are repeated R times (in fresh
 * namespaces, alternating which goes first) and the medians printed.
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
 *          --until finished|created (created: each run ends once its Jobs exist, for a quick
 *          look at the creation ratio; finishing and the writes of a whole life are not measured)
 *          --repeat R (1: both runs R times, medians printed)
 * The operator runs with the image's Node.js settings (operator/node-runtime.ts).
 * Environment: BENCH_OPERATOR_NODE_OPTIONS (replaces the operator's NODE_OPTIONS, e.g.
 * "--max-semi-space-size=1 --max-old-space-size=256 --heapsnapshot-signal=SIGUSR2"),
 * BENCH_OPERATOR_HEAP_SNAPSHOT=1 (with --heapsnapshot-signal=SIGUSR2 in it: a heap snapshot of the
 * operator at the end, in the repository root). Every 15 s it prints progress, the operator's
 * peak RSS so far, its V8 heap and its queue depth.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { BatchV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { loadConfig } from '../operator/config.js';
import { buildJob } from '../operator/plan/job-spec.js';
import type { Desired } from '../operator/plan/types.js';
import { REPO_ROOT } from '../test/support/clips.js';
import { type ControlPlane, startControlPlane } from '../test/support/control-plane.js';
import { GROUP, installCrd, PLURAL, startOperator, VERSION, videoAnalysis } from '../test/support/operator-process.js';
import { type CpuUse, cpuSince, cpuSnapshot, formatCpu, processCpuSeconds } from './operator-cpu.js';
import { pool, trackJobs, trackSucceeded } from './operator-tracking.js';

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
    until: { type: 'string', default: 'finished' },
    repeat: { type: 'string', default: '1' },
  },
});
const count = Number(values.count);
const nodes = Number(values.nodes);
const gpusPerNode = Number(values.gpus);
const cap = Number(values.cap ?? values.count);
const mode = values.complete === 'patch' ? 'patch' : 'kwok';
const concurrency = Number(values.concurrency);
const compiled = values.runtime !== 'tsx';
/** `--until created`: each run ends once all its Jobs exist (a quick look at the creation ratio). */
const untilCreated = values.until === 'created';
const repeat = Math.max(1, Number(values.repeat));
const completion = { mode, concurrency } as const;

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

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mb = (bytes: number | undefined) => `${((bytes ?? 0) / 1048576).toFixed(0)} MB`;
const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

type OperatorRun = {
  /** Milliseconds from the first apply. */
  created: number;
  finished: number;
  applied: number;
  creationCpu: CpuUse;
  idleRss: number | undefined;
  rss: number | undefined;
  heapUsed: number;
  heapTotal: number;
  cpuSeconds: number;
  /** API requests over the run, "VERB resource" → count. */
  requests: Record<string, number>;
};
type DirectRun = { created: number; finished: number; creationCpu: CpuUse };
/** The same VideoAnalyses applied with no operator running: how long the applies alone take. */
type AppliesOnlyRun = { applied: number; cpu: CpuUse };
type Run = { op: OperatorRun; direct?: DirectRun; appliesOnly?: AppliesOnlyRun };

async function main(): Promise<void> {
  process.stdout.write(
    `operator bench: ${count} VideoAnalyses, ${nodes} KWOK nodes × ${gpusPerNode} GPUs, cap ${cap}, Jobs completed by ${mode}, operator ${compiled ? 'compiled (dist/)' : 'through tsx'}${repeat > 1 ? `, ${repeat} repetitions` : ''}\n`,
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
    if (compiled) execFileSync('npm', ['run', '-s', 'build'], { cwd: REPO_ROOT, stdio: 'inherit' });
    const names = Array.from({ length: count }, (_, i) => `bench-${String(i).padStart(5, '0')}`);
    const runs: Run[] = [];
    for (let i = 1; i <= repeat; i++) {
      const suffix = repeat > 1 ? `-${i}` : '';
      const [opNs, directNs, appliesNs] = [
        `bench-operator${suffix}`,
        `bench-direct${suffix}`,
        `bench-applies${suffix}`,
      ];
      await createNamespaces(kc, [opNs, directNs, appliesNs]);
      // Alternating which goes first: the second run of a pair starts while the cluster still
      // places the first run's pods.
      const direct = async () => (values['skip-direct'] ? undefined : await runDirect(cp, directNs, names));
      let run: Run;
      if (i % 2 === 1) {
        const op = await runOperator(cp, opNs, names);
        run = { op, direct: await direct() };
      } else {
        const d = await direct();
        run = { op: await runOperator(cp, opNs, names), direct: d };
      }
      if (!values['skip-direct']) run.appliesOnly = await runAppliesOnly(cp, appliesNs, names);
      runs.push(run);
      if (repeat > 1) {
        const d = run.direct?.created ?? Number.NaN;
        process.stdout.write(
          `repetition ${i}: Jobs created ${s(run.op.created)} (apply ${s(run.op.applied)}) vs direct ${s(d)}: ${(run.op.created / d).toFixed(2)}×${untilCreated ? '' : `; finished ${s(run.op.finished)} vs ${s(run.direct?.finished ?? Number.NaN)}`}\n`,
        );
      }
    }
    process.stdout.write(report(runs));
  } finally {
    await cp.stop();
  }
}

async function createNamespaces(kc: KubeConfig, namespaces: string[]): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  for (const name of namespaces) {
    await core.createNamespace({ body: { metadata: { name } } });
    // The worker's ServiceAccount (the Job controller's pods need it to exist).
    await core.createNamespacedServiceAccount({ namespace: name, body: { metadata: { name: 'nfc-worker' } } });
  }
}

/** The N VideoAnalyses applied to `namespace` with a fresh operator watching it; its figures. */
async function runOperator(cp: ControlPlane, namespace: string, names: string[]): Promise<OperatorRun> {
  const kc = cp.kubeConfig();
  const custom = kc.makeApiClient(CustomObjectsApi);
  const batch = kc.makeApiClient(BatchV1Api);
  const op = await startOperator({
    compiled,
    kubeconfigPath: cp.kubeconfigPath,
    env: {
      ...WORKER_ENV,
      NFC_WATCH_NAMESPACES: namespace,
      ...(process.env.BENCH_OPERATOR_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_OPERATOR_NODE_OPTIONS } : {}),
    },
  });
  await op.waitForLog(/became leader/);
  const requestsBefore = await apiRequests(op);
  const idleRss = op.peakRssBytes();
  const jobs = trackJobs(kc, namespace, count, batch, completion);
  const succeeded = trackSucceeded(kc, namespace, count);
  const cpuAtStart = cpuSnapshot(cp, op.pid);
  const started = performance.now();
  const ticker = setInterval(async () => {
    const m = await op.metrics().catch(() => ({}) as Record<string, number>);
    process.stderr.write(
      `  ${s(performance.now() - started)}: ${jobs.progress()}, ${succeeded.progress()}; operator peak RSS ${mb(op.peakRssBytes())}, V8 heap ${mb(m.nodejs_heap_size_used_bytes)} of ${mb(m.nodejs_heap_size_total_bytes)}, queue ${m.nfc_operator_queue_depth ?? '?'}\n`,
    );
  }, 15_000);
  await applyAll(custom, namespace, names);
  const applied = performance.now() - started;
  // An operator that dies must end the bench with its last words, not leave it waiting.
  const died = op.exited.then(({ code, signal }) => {
    throw new Error(`the operator exited (${code ?? signal}) during the bench:\n${op.logs().slice(-6000)}`);
  });
  died.catch(() => {}); // after the bench's own SIGTERM nobody waits on it
  await Promise.race([jobs.created, died]);
  const creationCpu = cpuSince(cpuAtStart, cpuSnapshot(cp, op.pid));
  const allSucceeded = untilCreated
    ? Number.NaN
    : await Promise.race([jobs.finished, died]).then(() => Promise.race([succeeded.done, died]));
  clearInterval(ticker);
  const rss = op.peakRssBytes();
  const cpuSeconds = processCpuSeconds(op.pid);
  if (process.env.BENCH_OPERATOR_HEAP_SNAPSHOT) await heapSnapshot(op.pid);
  const final = await op.metrics();
  // Events trail the status writes (sent in the background, a few at a time): the counts are
  // read once they stop moving, so that every request of each resource's life is counted.
  const requestsAfter = await settledApiRequests(op);
  await Promise.all([jobs.stop(), succeeded.stop()]);
  await op.kill('SIGTERM');
  return {
    created: (jobs.marks.created ?? 0) - started,
    finished: allSucceeded - started,
    applied,
    creationCpu,
    idleRss,
    rss,
    heapUsed: final.nodejs_heap_size_used_bytes ?? 0,
    heapTotal: final.nodejs_heap_size_total_bytes ?? 0,
    cpuSeconds,
    requests: Object.fromEntries(
      Object.entries(requestsAfter).map(([verb, n]) => [verb, n - (requestsBefore[verb] ?? 0)]),
    ),
  };
}

/** The figures: medians over the repetitions; CPU, memory and requests of the last one. */
function report(runs: Run[]): string {
  const last = runs[runs.length - 1] as Run;
  const med = (pick: (run: Run) => number | undefined) => median(runs.map((run) => pick(run) ?? Number.NaN));
  const opCreated = med((r) => r.op.created);
  const opFinished = med((r) => r.op.finished);
  const dCreated = med((r) => r.direct?.created);
  const dFinished = med((r) => r.direct?.finished);
  const createdRatio = med((r) => r.op.created / (r.direct?.created ?? Number.NaN));
  const finishedRatio = med((r) => r.op.finished / (r.direct?.finished ?? Number.NaN));
  const delta = last.op.requests;
  const totalRequests = Object.values(delta).reduce((a, b) => a + b, 0);
  const of = runs.length > 1 ? `median of ${runs.length}` : '';
  return [
    '',
    `                              operator      direct Jobs    ratio ${of}`,
    `all ${count} Jobs created        ${s(opCreated).padStart(10)}   ${s(dCreated).padStart(12)}   ${createdRatio.toFixed(2)}×`,
    ...(untilCreated
      ? []
      : [
          `all ${count} finished            ${s(opFinished).padStart(10)}   ${s(dFinished).padStart(12)}   ${finishedRatio.toFixed(2)}×   (operator: VideoAnalysis Succeeded; direct: Job Complete)`,
        ]),
    `apply of ${count} resources      ${s(med((r) => r.op.applied)).padStart(10)}`,
    ...(runs[0]?.appliesOnly
      ? [
          `applies alone, no operator   ${s(med((r) => r.appliesOnly?.applied)).padStart(10)}   ${med(
            (r) => (r.appliesOnly?.applied ?? Number.NaN) / (r.direct?.created ?? Number.NaN),
          )
            .toFixed(2)
            .padStart(19)}×   (no operator can create a Job before its resource exists)`,
        ]
      : []),
    ...(untilCreated
      ? []
      : [
          `throughput                    ${((count / opFinished) * 1000).toFixed(0).padStart(7)} /s   ${((count / dFinished) * 1000).toFixed(0).padStart(9)} /s`,
        ]),
    `${runs.length > 1 ? 'last repetition: ' : ''}CPU until all Jobs created (this machine has ${cpus().length} cores):`,
    `  operator run                ${formatCpu(last.op.creationCpu)}`,
    ...(last.direct ? [`  direct run                  ${formatCpu(last.direct.creationCpu)}`] : []),
    ...(last.appliesOnly ? [`  applies alone               ${formatCpu(last.appliesOnly.cpu)}`] : []),
    `operator peak RSS idle        ${last.op.idleRss ? mb(last.op.idleRss) : 'n/a'} (started, caches synced, leader, before the first apply)`,
    `operator peak RSS             ${last.op.rss ? mb(last.op.rss) : 'n/a'} (V8 heap at the end: ${mb(last.op.heapUsed)} used of ${mb(last.op.heapTotal)})`,
    `operator CPU time             ${last.op.cpuSeconds.toFixed(1)} s (user + system, from start)`,
    `operator API requests         ${totalRequests} (${(totalRequests / count).toFixed(2)} per resource), per resource:`,
    ...Object.entries(delta)
      .filter(([, n]) => n > 0)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([request, n]) => `  ${request.padEnd(28)}${(n / count).toFixed(2).padStart(6)}   (${n})`),
    `writes to a resource and its Job (Job creations, status patches): ${(
      writesOf(delta, /^(POST|PATCH|PUT) (jobs|videoanalyses.*)$/) / count
    ).toFixed(2)} per resource; Events ${(writesOf(delta, /^POST events$/) / count).toFixed(2)}`,
    '',
  ].join('\n');
}

/** The VideoAnalyses applied as in the operator run, with no operator running: the applies' own time and CPU. */
async function runAppliesOnly(cp: ControlPlane, namespace: string, names: string[]): Promise<AppliesOnlyRun> {
  const custom = cp.kubeConfig().makeApiClient(CustomObjectsApi);
  const before = cpuSnapshot(cp);
  const started = performance.now();
  await applyAll(custom, namespace, names);
  return { applied: performance.now() - started, cpu: cpuSince(before, cpuSnapshot(cp)) };
}

function applyAll(custom: CustomObjectsApi, namespace: string, names: string[]): Promise<void> {
  return pool(names, concurrency, (name) =>
    custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace,
      body: videoAnalysis(name, { namespace }),
    }),
  );
}

/** The same Jobs created directly (no operator) and completed the same way: times to all created and all complete. */
async function runDirect(cp: ControlPlane, namespace: string, names: string[]): Promise<DirectRun> {
  const kc = cp.kubeConfig();
  const batch = kc.makeApiClient(BatchV1Api);
  const config = loadConfig({ ...WORKER_ENV, NFC_WATCH_NAMESPACES: namespace });
  const direct = trackJobs(kc, namespace, count, batch, completion);
  const cpuAtStart = cpuSnapshot(cp);
  const directStarted = performance.now();
  const directTicker = setInterval(
    () => process.stderr.write(`  ${s(performance.now() - directStarted)}: direct ${direct.progress()}\n`),
    15_000,
  );
  await pool(names, concurrency, (name) => {
    const job = buildJob(
      {
        ...(videoAnalysis(name, { namespace }) as unknown as Desired),
        metadata: { name, namespace, uid: 'none' },
      },
      config.job,
    );
    // No owner (the garbage collector would delete Jobs of an owner that does not exist).
    delete job.metadata?.ownerReferences;
    return batch.createNamespacedJob({ namespace, body: job });
  });
  await direct.created;
  const creationCpu = cpuSince(cpuAtStart, cpuSnapshot(cp));
  const directCreated = direct.marks.created ?? performance.now();
  if (!untilCreated) await direct.finished;
  const directFinished = untilCreated ? Number.NaN : (direct.marks.finished ?? performance.now());
  clearInterval(directTicker);
  await direct.stop();
  return { created: directCreated - directStarted, finished: directFinished - directStarted, creationCpu };
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
