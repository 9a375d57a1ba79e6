/**
 * `nfc serve` as the README's first command runs it: on a terminal, beside `nfc submit`, it logs
 * warnings and errors only (its banner says how to get more); piped (a container, a log
 * collector) it logs every request at info. The terminal is a real pseudo-terminal (script(1)).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from './support/clips.js';
import { trackProcessGroup } from './support/process-cleanup.js';
import { eventually, freePort } from './support/wait.js';

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'nfc-serve-logs-'));
});
after(() => rm(work, { recursive: true, force: true }));

/** Starts `nfc serve` (through `script` when `terminal`), makes two requests, stops it; its output. */
async function serveOutput(terminal: boolean): Promise<string> {
  const port = await freePort();
  const serve = [join(REPO_ROOT, 'bin/nfc'), 'serve', '--port', String(port), '--data', join(work, String(port))];
  const env = { ...process.env };
  delete env.LOG_LEVEL;
  const child: ChildProcess = terminal
    ? spawn('script', ['-qfec', serve.join(' '), '/dev/null'], { cwd: REPO_ROOT, env, detached: true })
    : spawn(serve[0] as string, serve.slice(1), { cwd: REPO_ROOT, env, detached: true });
  trackProcessGroup(child);
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => {
    output += c;
  });
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    output += c;
  });
  try {
    await eventually('nfc serve is listening', 90_000, async () => output.includes('listening on') || undefined);
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${port}/v1/no-such-route`)).status, 404);
    await new Promise((r) => setTimeout(r, 500));
    return output;
  } finally {
    process.kill(-(child.pid as number), 'SIGTERM');
    await new Promise((r) => child.once('close', r));
  }
}

describe('nfc serve logs', () => {
  it('on a terminal: the banner, no JSON line per request, and how to get them', async () => {
    const output = await serveOutput(true);
    assert.match(output, /NutriFitCoach API listening on http:\/\/127\.0\.0\.1:\d+/);
    assert.match(output, /logs: +warnings and errors only on a terminal \(LOG_LEVEL=info for every request\)/);
    assert.doesNotMatch(output, /"msg":"(incoming request|request completed)"/, output);
  });

  it('piped: every request logged as JSON at info, for the log collector', async () => {
    const output = await serveOutput(false);
    assert.match(output, /"msg":"incoming request"/);
    assert.match(output, /"url":"\/healthz"/);
    assert.doesNotMatch(output, /warnings and errors only/);
  });
});
