/**
 * `nfc`: the command line. Commands sit on top of every other part of the project; today
 * `analyze` runs the engine locally (later: `serve`, `worker`, `migrate`).
 */
import { createRequire } from 'node:module';
import { ANALYZE_HELP, analyzeCommand } from './analyze-command.js';
import { EXIT } from './exit-codes.js';
import { migrateCommand } from './migrate-command.js';
import { operatorCommand } from './operator-command.js';
import { UsageError } from './usage-error.js';
import { workerCommand } from './worker-command.js';

const HELP = `nfc — NutriFitCoach video analysis

Usage:
  nfc analyze <video> [options]   analyse an exercise video on this machine
  nfc worker job --namespace NS --name NAME
                                  run one VideoAnalysis in a Kubernetes Job (the operator starts these)
  nfc operator                    run the VideoAnalysis operator (configured by NFC_* environment variables)
  nfc migrate [up|down [--steps N]|status] [--data DIR]
                                  apply, revert or list the API's database migrations
  nfc --version                   print the version
  nfc --help                      this help

${ANALYZE_HELP.split('\n').slice(2).join('\n')}`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'analyze':
      return analyzeCommand(rest);
    case 'migrate':
      return migrateCommand(rest);
    case 'operator':
      return operatorCommand(rest);
    case 'worker':
      return workerCommand(rest);
    case '--version':
    case '-v':
      process.stdout.write(
        `${(createRequire(import.meta.url)('../../package.json') as { version: string }).version}\n`,
      );
      return EXIT.OK;
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(`${HELP}\n`);
      return command === undefined ? EXIT.USAGE : EXIT.OK;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`nfc: ${(error as Error).message}\nRun "nfc --help" for usage.\n`);
    process.exitCode = EXIT.USAGE;
  } else {
    process.stderr.write(
      `nfc: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = EXIT.INTERNAL;
  }
}
