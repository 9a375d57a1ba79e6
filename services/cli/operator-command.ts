/** `nfc operator`: runs the VideoAnalysis operator until SIGTERM or SIGINT. */
import { parseArgs } from 'node:util';
import { ENV } from '../../operator/config.js';
import { runOperator } from '../../operator/main.js';
import { EXIT } from './exit-codes.js';

export const OPERATOR_HELP = `Usage: nfc operator

Runs the operator: turns VideoAnalysis resources into worker Jobs, with admission caps,
leader election on a Lease, /metrics, /healthz and /readyz. The cluster comes from
KUBECONFIG, else the in-cluster service account, else ~/.kube/config. Settings come from
the environment (JSON for node selector, tolerations, cpu and memory):

${ENV.map(([path, variable]) => `  ${variable.padEnd(38)} ${path.slice(1)}`).join('\n')}

S3 settings for the cleanup of cleanupPolicy Delete: S3_ENDPOINT, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, S3_REGION. LOG_LEVEL sets the log level.

Exit codes: 0 stopped by a signal · 1 leadership lost or internal failure · 2 invalid settings.`;

export async function operatorCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h', default: false } } });
  if (values.help) {
    process.stdout.write(`${OPERATOR_HELP}\n`);
    return EXIT.OK;
  }
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) {
      process.stderr.write(`nfc operator: ${signal} again, exiting now\n`);
      process.exit(EXIT.INTERNAL);
    }
    stop.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const code = await runOperator({ env: process.env, signal: stop.signal });
    // Sockets kept alive by the HTTP client must not hold the process once the operator is done.
    setTimeout(() => process.exit(code), 1000).unref();
    return code;
  } catch (err) {
    if ((err as { code?: unknown }).code === 'INVALID_CONFIG') {
      process.stderr.write(`nfc operator: ${(err as Error).message}\n`);
      return EXIT.USAGE;
    }
    throw err;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
