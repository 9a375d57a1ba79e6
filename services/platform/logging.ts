/**
 * The process's logger: pino, created once in `main` and handed down as child loggers
 * (`log.child({ analysis, namespace })`). Libraries take a logger, never create one.
 *
 * Logs are JSON lines on stderr, so stdout stays free for a command's own output. Writes are
 * synchronous: a worker that exits right after logging its failure loses nothing.
 */
import { type Logger, pino } from 'pino';

export type { Logger };

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * `LOG_LEVEL` (fatal…trace, silent; default info) picks the level; an unknown level is an error,
 * not a silent default.
 */
export function createLogger(env: NodeJS.ProcessEnv, bindings: Record<string, unknown> = {}): Logger {
  const level = env.LOG_LEVEL?.trim().toLowerCase() || 'info';
  if (!(LEVELS as readonly string[]).includes(level)) {
    throw new Error(`LOG_LEVEL must be one of ${LEVELS.join(', ')} (got "${env.LOG_LEVEL}")`);
  }
  return pino(
    {
      level,
      base: { pid: process.pid, ...bindings },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ fd: 2, sync: true }),
  );
}
