/**
 * `nfc submit <video>`: what a coach's app does, from the command line — sign in, upload the
 * video, start the analysis, show its progress live, print the report's summary and where its
 * files are. Without --email/--password it uses a local account kept in
 * ~/.config/nfc/credentials.json (created on first use, one per server).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Report } from '../analysis/report/schema.js';
import { type AnalysisState, ApiClient, ApiClientError } from './api-client.js';
import { EXIT } from './exit-codes.js';
import { formatSummary } from './summary.js';
import { UsageError } from './usage-error.js';

export const SUBMIT_HELP = `Usage: nfc submit <video> [--server URL] [--exercise E] [--fps N] [--email E --password P] [--json]

Uploads the video to a running API (nfc serve, or a cluster's ingress), starts its analysis,
follows the progress live and prints the report. Exit codes: 0 done · 1 failed on our side ·
2 usage · 3 the video cannot be analysed.`;

export async function submitCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      server: { type: 'string', default: process.env.NFC_SERVER ?? 'http://127.0.0.1:8080' },
      exercise: { type: 'string', default: 'auto' },
      fps: { type: 'string', default: '15' },
      email: { type: 'string' },
      password: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${SUBMIT_HELP}\n`);
    return EXIT.OK;
  }
  const video = positionals[0];
  if (!video || positionals.length > 1) throw new UsageError('give exactly one video file');
  const fps = Number(values.fps);
  if (!Number.isInteger(fps) || fps < 1 || fps > 60) throw new UsageError('--fps must be an integer from 1 to 60');
  const server = values.server.replace(/\/+$/, '');
  const say = (line: string) => process.stderr.write(`${line}\n`);

  const client = new ApiClient(server);
  try {
    await client.waitUntilUp(60_000);
    const credentials =
      values.email && values.password
        ? { email: values.email, password: values.password }
        : await localCredentials(server);
    await client.signIn(credentials.email, credentials.password);
    say(`uploading ${video} to ${server} …`);
    const upload = await client.upload(video);
    const analysis = await client.createAnalysis(upload.id, values.exercise, fps);
    say(`analysis ${analysis.id} queued`);
    const final = await client.follow(analysis.id, (state) => showProgress(state));
    process.stderr.write('\n');
    if (final.status !== 'succeeded') {
      say(`analysis ${final.status}: ${final.message ?? ''} ${final.errorCode ? `(${final.errorCode})` : ''}`);
      return final.errorCode && final.errorCode !== 'INTERNAL' ? EXIT.BAD_INPUT : EXIT.INTERNAL;
    }
    const report = (await client.report(final.id)) as unknown as Report;
    const files = await client.artifacts(final.id);
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ analysis: final, report, files }, null, 2)}\n`);
    } else {
      const shown: Report = {
        ...report,
        video: { ...report.video, file: video },
        // The chart and the annotated video are in the bucket but not among the shared links.
        files: {
          ...report.files,
          report: files.report,
          framesCsv: files.framesCsv,
          thumbnails: files.thumbnails,
          chart: null,
          annotatedVideo: null,
        },
      };
      process.stdout.write(`${formatSummary(shown)}\n`);
    }
    return EXIT.OK;
  } catch (err) {
    if (err instanceof ApiClientError) {
      say(`nfc submit: ${err.message} (${err.code})`);
      return err.status === 413 || err.status === 415 || err.status === 422 ? EXIT.BAD_INPUT : EXIT.INTERNAL;
    }
    throw err;
  }
}

function showProgress(state: AnalysisState): void {
  const p = state.progress;
  const text = p ? `${state.status} ${p.percent.toFixed(0)}% (${p.framesDone}/${p.framesTotal} frames)` : state.status;
  process.stderr.write(`\r  ${text.padEnd(60)}`);
}

/** A generated account per server, kept with mode 0600 so later submits see the same analyses. */
async function localCredentials(server: string): Promise<{ email: string; password: string }> {
  const file = join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'nfc', 'credentials.json');
  let all: Record<string, { email: string; password: string }> = {};
  try {
    all = JSON.parse(await readFile(file, 'utf8')) as typeof all;
  } catch {
    // first use
  }
  const existing = all[server];
  if (existing) return existing;
  const created = {
    email: `local-${randomBytes(4).toString('hex')}@example.com`,
    password: randomBytes(18).toString('base64url'),
  };
  all[server] = created;
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
  return created;
}
