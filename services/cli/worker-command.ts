/** `nfc worker job`: the entry point of the worker container in a Kubernetes Job. */
import { parseArgs } from 'node:util';
import { loadWorkerJobConfig, type WorkerJobConfig } from '../worker/config.js';
import { EXIT } from './exit-codes.js';
import { UsageError } from './usage-error.js';

export const WORKER_HELP = `Usage: nfc worker job [--namespace NS] [--name NAME]

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
fails at once) · 1 a transient failure (S3 or API server unavailable: the Job retries) · 2 usage.`;

export async function workerCommand(argv: string[]): Promise<number> {
  const [mode, ...rest] = argv;
  if (mode === undefined || mode === '--help' || mode === '-h' || mode === 'help') {
    process.stdout.write(`${WORKER_HELP}\n`);
    return mode === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (mode !== 'job') throw new UsageError(`unknown worker mode "${mode}" (expected: job)`);
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
