/**
 * `nfc worker job`: the entry point of the worker container in a Kubernetes Job.
 * `nfc worker queue`: a pool of analyses fed by the BullMQ queue (the `queue` dispatch mode).
 */
import { parseArgs } from 'node:util';
import { loadWorkerJobConfig, type WorkerJobConfig } from '../worker/config.js';
import { loadWorkerQueueConfig, type WorkerQueueConfig } from '../worker/queue-config.js';
import { EXIT } from './exit-codes.js';
import { UsageError } from './usage-error.js';

export const WORKER_HELP = `Usage: nfc worker job [--namespace NS] [--name NAME]
       nfc worker queue

Runs the analysis of one VideoAnalysis resource, as the container of its Kubernetes Job does:
reads the resource, downloads spec.source.s3 to the scratch directory, analyses it, uploads
report.json, frames.csv, chart.png and thumbnails/ to spec.output, and writes status.progress,
status.summary and status.results.

Options:
  --namespace NS   the resource's namespace (default: $NFC_NAMESPACE)
  --name NAME      the resource's name (default: $NFC_NAME)
  -h, --help       show this help

Environment: KUBECONFIG (else the in-cluster service account), AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, S3_ENDPOINT, S3_REGION, NFC_SCRATCH_DIR (default: the temp dir),
NFC_BACKEND (auto | tensorflow-gpu | tensorflow | wasm), NFC_WORKERS (default: one per core),
LOG_LEVEL.

Exit codes: 0 done · 3 the video can never be analysed (corrupt, missing, unsupported: the Job
fails at once) · 1 a transient failure (S3 or API server unavailable: the Job retries) · 2 usage.

\`nfc worker queue\` takes analyses from the BullMQ queue in Redis, as many at a time as
NFC_WORKER_CONCURRENCY, until SIGTERM or SIGINT: each one is downloaded from S3, analysed, and
its outputs uploaded (the same files as the Job); progress and results go back through Redis.
A video that can never be analysed fails at once; other failures are retried with backoff; the
job of a worker that dies is taken over by another worker within 1.5 x NFC_QUEUE_LOCK_MS.
On SIGTERM, running analyses get NFC_SHUTDOWN_GRACE_MS to finish, then go back to the queue.

Environment: NFC_REDIS_HOST, NFC_REDIS_PORT, NFC_REDIS_USERNAME, NFC_REDIS_PASSWORD,
NFC_REDIS_TLS, NFC_REDIS_DB, NFC_WORKER_CONCURRENCY (default 1), NFC_QUEUE_LOCK_MS (15000),
NFC_PROGRESS_INTERVAL_MS (1000), NFC_SHUTDOWN_GRACE_MS (20000), and the S3, NFC_SCRATCH_DIR,
NFC_BACKEND, NFC_WORKERS and LOG_LEVEL settings above. Exit codes: 0 stopped · 2 usage.`;

export async function workerCommand(argv: string[]): Promise<number> {
  const [mode, ...rest] = argv;
  if (mode === undefined || mode === '--help' || mode === '-h' || mode === 'help') {
    process.stdout.write(`${WORKER_HELP}\n`);
    return mode === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (mode === 'queue') return queueWorker(rest);
  if (mode !== 'job') throw new UsageError(`unknown worker mode "${mode}" (expected: job or queue)`);
  const { values } = parseArgs({
    args: rest,
    options: {
      namespace: { type: 'string' },
      name: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${WORKER_HELP}\n`);
    return EXIT.OK;
  }
  let config: WorkerJobConfig;
  try {
    config = loadWorkerJobConfig({ namespace: values.namespace, name: values.name }, process.env);
  } catch (err) {
    if ((err as { code?: unknown }).code === 'WORKER_CONFIG') throw new UsageError((err as Error).message);
    throw err;
  }

  // Loaded here, not at startup: `nfc analyze` needs neither the S3 SDK nor the Kubernetes client.
  const [{ createLogger }, { customObjectsApi, kubeConfigFromEnv }, { ObjectStore }, { runJobMode }, termination] =
    await Promise.all([
      import('../platform/logging.js'),
      import('../platform/kube/client.js'),
      import('../platform/object-store/object-store.js'),
      import('../worker/job-mode.js'),
      import('../worker/termination-log.js'),
    ]);
  const log = createLogger(process.env, { component: 'worker' });
  const store = new ObjectStore(config.objectStore);
  // Pod deletion or the Job's deadline: stop the analysis, report a transient failure.
  const stop = new AbortController();
  const onSigterm = () => {
    log.warn({ signal: 'SIGTERM' }, 'stopping');
    stop.abort();
  };
  process.once('SIGTERM', onSigterm);
  try {
    const outcome = await runJobMode({
      config,
      log,
      kube: customObjectsApi(kubeConfigFromEnv(process.env)),
      store,
      signal: stop.signal,
    });
    await termination.writeTerminationMessage(config.terminationLogPath, outcome.message);
    if (outcome.kind === 'done') {
      log.info({ analysis: config.name, namespace: config.namespace, message: outcome.message }, 'worker done');
      return EXIT.OK;
    }
    return outcome.kind === 'permanent' ? EXIT.BAD_INPUT : EXIT.INTERNAL;
  } finally {
    process.removeListener('SIGTERM', onSigterm);
    store.destroy();
  }
}

/** `nfc worker queue`: runs until SIGTERM/SIGINT, then stops gracefully. */
async function queueWorker(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h', default: false } } });
  if (values.help) {
    process.stdout.write(`${WORKER_HELP}\n`);
    return EXIT.OK;
  }
  let config: WorkerQueueConfig;
  try {
    config = loadWorkerQueueConfig(process.env);
  } catch (err) {
    if ((err as { code?: unknown }).code === 'WORKER_CONFIG') throw new UsageError((err as Error).message);
    throw err;
  }
  const [{ createLogger }, { ObjectStore }, { startQueueWorker }] = await Promise.all([
    import('../platform/logging.js'),
    import('../platform/object-store/object-store.js'),
    import('../worker/queue-mode.js'),
  ]);
  const log = createLogger(process.env, { component: 'worker' });
  const storage = new ObjectStore(config.objectStore);
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  try {
    const pool = await startQueueWorker({ config, log, storage });
    const signal = await stopped;
    log.info({ signal }, 'stopping');
    await pool.stop();
    return EXIT.OK;
  } finally {
    storage.destroy();
  }
}
