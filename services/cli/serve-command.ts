/** `nfc serve`: the API, by default embedded (PGlite + objects on disk + inline analyses). */
import { parseArgs } from 'node:util';
import { API_ENV } from '../api/config.js';
import { startApiServer } from '../api/server.js';
import { createLogger } from '../platform/logging.js';
import { EXIT } from './exit-codes.js';
import { UsageError } from './usage-error.js';

export const DEFAULT_DATA_DIR = '.nfc-data';

export const SERVE_HELP = `Usage: nfc serve [--port N] [--host H] [--data DIR] [--dispatch inline|queue|kubernetes]

Starts the API. With no settings it needs nothing else: the database (PGlite), the uploaded
videos and the reports live in DIR (default ./${DEFAULT_DATA_DIR}, kept between restarts) and
analyses run in this process. Then, from another terminal:

  nfc submit video.mp4                  upload, analyse, follow progress, print the report
  open http://127.0.0.1:8080/docs       the API (OpenAPI, Swagger UI)

On a cluster the chart sets NFC_DISPATCH=kubernetes or queue, PostgreSQL (NFC_DATABASE_*),
S3 (S3_ENDPOINT, AWS_*) and Redis (NFC_REDIS_*). Settings:

${API_ENV.map(([path, variable]) => `  ${variable.padEnd(28)} ${path.slice(1)}`).join('\n')}

Exit codes: 0 stopped by a signal · 1 failed · 2 invalid settings.`;

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      data: { type: 'string' },
      dispatch: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${SERVE_HELP}\n`);
    return EXIT.OK;
  }
  if (values.port !== undefined && !/^\d{1,5}$/.test(values.port)) throw new UsageError('--port must be a number');
  const env = { ...process.env };
  // The embedded default needs a home when nothing else is configured.
  if (!env.NFC_DATA_DIR && values.data === undefined) env.NFC_DATA_DIR = DEFAULT_DATA_DIR;
  // On a terminal (someone trying it, `nfc submit` printing beside it) a JSON line per request
  // drowns what matters: warnings and errors only, unless LOG_LEVEL says otherwise. Piped or in
  // a container the logs stay at info for the log collector.
  const quietTerminal = !env.LOG_LEVEL && process.stdout.isTTY === true;
  if (quietTerminal) env.LOG_LEVEL = 'warn';
  const overrides: Record<string, unknown> = {
    ...(values.port !== undefined ? { '/http/port': Number(values.port) } : {}),
    ...(values.host !== undefined ? { '/http/host': values.host } : {}),
    ...(values.data !== undefined ? { '/dataDir': values.data } : {}),
    ...(values.dispatch !== undefined ? { '/dispatch': values.dispatch } : {}),
  };
  const log = createLogger(env, { component: 'api' });
  let server: Awaited<ReturnType<typeof startApiServer>>;
  try {
    server = await startApiServer(env, log, overrides);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'INVALID_CONFIG' || code === 'DATABASE_CONFIG' || code === 'REDIS_CONFIG') {
      process.stderr.write(`nfc serve: ${(err as Error).message}\n`);
      return EXIT.USAGE;
    }
    process.stderr.write(`nfc serve: ${(err as Error).message}\n`);
    return EXIT.INTERNAL;
  }
  process.stdout.write(
    `NutriFitCoach API listening on ${server.url} (dispatch ${server.config.dispatch})\n` +
      `  API docs:  ${server.url}/docs\n` +
      (server.config.dataDir ? `  data:      ${server.config.dataDir}\n` : '') +
      `  try:       ./bin/nfc submit ../shared/data/formfit_squat.mp4 --server ${server.url}\n` +
      (quietTerminal ? '  logs:      warnings and errors only on a terminal (LOG_LEVEL=info for every request)\n' : ''),
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  log.info('shutting down');
  await server.close();
  return EXIT.OK;
}
