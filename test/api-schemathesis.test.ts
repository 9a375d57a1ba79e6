/**
 * The API against its own OpenAPI document, fuzzed by Schemathesis (PyPI; installed by
 * scripts/setup.sh): a live server on the production parts (PostgreSQL, MinIO, Redis with the
 * queue dispatcher), a signed-in user, every check Schemathesis has (no server errors, statuses,
 * content types, headers and bodies as documented, invalid input refused, valid input accepted,
 * 405 for undeclared methods…). The statuses a schema cannot predict are in schemathesis.toml,
 * each with its reason.
 *
 * So that the routes under /{id} are tested past their 404, the run is given real ids: a real
 * clip uploaded, an analysis of it (queued: no worker runs, so it stays put), and a cancelled
 * one (its event stream sends the current state and ends, so the SSE route is fuzzed too). The
 * DELETE routes keep generated ids, so they do not remove what the others read.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { openAsBlob } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestApi, type TestApi, type UserClient } from './support/api.js';
import { clip, REPO_ROOT } from './support/clips.js';
import { type Minio, startMinio } from './support/minio.js';
import { type Postgres, startPostgres } from './support/postgres.js';
import { type RedisServer, startRedis } from './support/redis.js';

/** The version scripts/setup.sh installs. */
const SCHEMATHESIS_VERSION = '4.32.5';
const INSTALL = `pip install schemathesis==${SCHEMATHESIS_VERSION} (or run ./scripts/setup.sh)`;
/** Test cases per operation and phase: about a minute and a half on two cores. */
const MAX_EXAMPLES = Number(process.env.NFC_SCHEMATHESIS_EXAMPLES ?? 60);
/** Fixed, so a failure here is reproducible; NFC_SCHEMATHESIS_SEED explores other inputs. */
const SEED = process.env.NFC_SCHEMATHESIS_SEED ?? '20261129';

function schemathesisVersion(): string {
  const probe = spawnSync('schemathesis', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    assert.fail(`schemathesis is not installed (${probe.error?.message ?? probe.stderr.trim()}): ${INSTALL}`);
  }
  return probe.stdout.trim().replace(/^schemathesis, version /, '');
}

/** Runs a command without blocking this process (the API under test lives in it). */
function run(command: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), output }));
  });
}

/** Extra [[operations]] sections: fixed path ids for the routes that read a resource. */
function idSections(ids: { upload: string; queued: string; cancelled: string }): string {
  const section = (name: string, id: string) =>
    `\n[[operations]]\ninclude-name = "${name}"\nparameters = { "path.id" = "${id}" }\n`;
  return [
    section('GET /v1/uploads/{id}', ids.upload),
    section('POST /v1/uploads/{id}/complete', ids.upload),
    section('GET /v1/analyses/{id}', ids.queued),
    section('GET /v1/analyses/{id}/report', ids.queued),
    section('GET /v1/analyses/{id}/artifacts', ids.queued),
    section('POST /v1/analyses/{id}/cancel', ids.cancelled),
    section('GET /v1/analyses/{id}/events', ids.cancelled),
  ].join('');
}

describe('the API conforms to its OpenAPI document (Schemathesis)', { timeout: 600_000 }, () => {
  let postgres: Postgres;
  let minio: Minio;
  let redis: RedisServer;
  let t: TestApi;
  let user: UserClient;
  let workDir: string;

  before(async () => {
    [postgres, minio, redis] = await Promise.all([startPostgres(), startMinio(), startRedis()]);
    t = await startTestApi({ postgres, minio, redis, dispatch: 'queue' });
    user = await t.signUp();
    workDir = await mkdtemp(join(tmpdir(), 'nfc-schemathesis-'));
  });

  after(async () => {
    await t?.close();
    await Promise.all([minio?.stop(), postgres?.stop(), redis?.stop()]);
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('passes every Schemathesis check on every documented operation', async () => {
    const version = schemathesisVersion();
    assert.match(version, /^4\./, `schemathesis ${version} is installed; these options are for 4.x: ${INSTALL}`);

    const video = clip('formfit_squat.mp4');
    const uploaded = await user.upload(await openAsBlob(video.path), video.file);
    assert.equal(uploaded.status, 201, JSON.stringify(uploaded.body));
    const queued = await user.json('POST', '/v1/analyses', { uploadId: uploaded.body.id, exercise: 'squat' });
    assert.equal(queued.status, 201, JSON.stringify(queued.body));
    const second = await user.json('POST', '/v1/analyses', { uploadId: uploaded.body.id });
    assert.equal(second.status, 201, JSON.stringify(second.body));
    const cancelled = await user.json('POST', `/v1/analyses/${second.body.id}/cancel`);
    assert.equal(cancelled.body.status, 'cancelled', JSON.stringify(cancelled.body));

    const document = (await (await fetch(`${t.url}/docs/json`)).json()) as { paths: Record<string, object> };
    const operations = Object.values(document.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);

    const config = join(workDir, 'schemathesis.toml');
    const shared = await readFile(join(REPO_ROOT, 'schemathesis.toml'), 'utf8');
    await writeFile(
      config,
      shared + idSections({ upload: uploaded.body.id, queued: queued.body.id, cancelled: second.body.id }),
    );
    const args = [
      '--config-file',
      config,
      '--no-color',
      'run',
      `${t.url}/docs/json`,
      '--url',
      t.url,
      '--header',
      `Authorization: Bearer ${user.token}`,
      '--max-examples',
      String(MAX_EXAMPLES),
      '--seed',
      SEED,
      // One worker: with threads, CPython 3.11 before 3.11.8 can fail hypothesis' ast.parse
      // ("AST constructor recursion depth mismatch").
      '--workers',
      '1',
      '--request-timeout',
      '20',
      '--report',
      'junit',
      '--report-dir',
      workDir,
    ];
    const started = Date.now();
    // Run in the temp dir: its own files (the replay cache, the report) stay out of the checkout.
    const result = await run('schemathesis', args, workDir);
    const seconds = Math.round((Date.now() - started) / 1000);
    assert.equal(
      result.code,
      0,
      `schemathesis found problems (exit ${result.code}, ${seconds} s); its report:\n${result.output}`,
    );
    const tested = /Tested:\s+(\d+)/.exec(result.output)?.[1];
    assert.equal(Number(tested), operations, `every documented operation is tested:\n${result.output}`);
    assert.match(result.output, /\d+ passed/, result.output);
    console.log(result.output.split('\n').slice(-20).join('\n'));
  });
});
