/**
 * `nfc`: the command line. Commands sit on top of every other part of the project.
 */
import { createRequire } from 'node:module';
import { EXIT } from './exit-codes.js';
import { UsageError } from './usage-error.js';

// Each command is imported when it runs: `nfc operator` must not carry the engine, the API
// server and their dependencies (together ~140 MB of resident memory it would never use).

const help = (analyzeHelp: string) => `nfc — NutriFitCoach video analysis

Usage:
  nfc analyze <video> [options]   analyse an exercise video on this machine
  nfc serve [--port N] [--data DIR]
                                  start the API (embedded by default: no servers needed)
  nfc submit <video> [--server URL]
                                  upload a video to the API, follow the analysis, print the report
  nfc worker job --namespace NS --name NAME
                                  run one VideoAnalysis in a Kubernetes Job (the operator starts these)
  nfc worker queue                run a pool of analyses fed by the Redis queue (dispatch mode "queue")
  nfc operator                    run the VideoAnalysis operator (configured by NFC_* environment variables)
  nfc migrate [up|down [--steps N]|status] [--data DIR]
                                  apply, revert or list the API's database migrations
  nfc --version                   print the version
  nfc --help                      this help

${analyzeHelp.split('\n').slice(2).join('\n')}`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'analyze':
      return (await import('./analyze-command.js')).analyzeCommand(rest);
    case 'migrate':
      return (await import('./migrate-command.js')).migrateCommand(rest);
    case 'operator':
      return (await import('./operator-command.js')).operatorCommand(rest);
    case 'serve':
      return (await import('./serve-command.js')).serveCommand(rest);
    case 'submit':
      return (await import('./submit-command.js')).submitCommand(rest);
    case 'worker':
      return (await import('./worker-command.js')).workerCommand(rest);
    case '--version':
    case '-v':
      process.stdout.write(`${packageVersion()}\n`);
      return EXIT.OK;
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(`${help((await import('./analyze-command.js')).ANALYZE_HELP)}\n`);
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

/** The version in package.json: two levels up from services/cli, three from dist/services/cli (`npm run build`). */
function packageVersion(): string {
  const require = createRequire(import.meta.url);
  for (const path of ['../../package.json', '../../../package.json']) {
    try {
      return (require(path) as { version: string }).version;
    } catch {}
  }
  return 'unknown';
}
