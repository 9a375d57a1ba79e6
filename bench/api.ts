/**
 * `npm run bench:api`: the API process on the production parts (real PostgreSQL, MinIO and
 * Redis, `./bin/nfc serve` as its own process, queue dispatch), measured three ways:
 *
 * 1. Upload throughput of a ~500 MB MP4 through the API (multipart POST /v1/uploads: streamed
 *    to MinIO, teed to scratch, sniffed and probed) against the same file sent straight to the
 *    same MinIO by @aws-sdk/lib-storage (multipart, the API store's part size and queue size),
 *    in interleaved rounds; medians. Target: API ≥ 0.8 × direct.
 * 2. The API process's resident memory while it takes those uploads: VmRSS sampled every 50 ms
 *    from /proc/<pid>/status, plus the kernel's own peak (VmHWM). Target: flat, under 150 MB.
 *    The API runs as bin/nfc starts `serve` (and Dockerfile.api runs it): a 1 MB V8 young
 *    generation and MALLOC_ARENA_MAX=2; the table says which settings it ran with.
 * 3. GET /v1/analyses/:id latency (p50/p90/p99) at a fixed request rate, open-loop (requests
 *    leave on schedule whatever the replies; latency counts from the scheduled time, so a stall
 *    shows), against a bare Fastify process returning a body of the same size.
 *
 * The video: a clip from ../shared/data re-encoded losslessly (a high bitrate, so 500 MB stays
 * under the 20-minute duration cap) and looped with `-c copy` — a valid MP4 the probe accepts.
 * It is kept in the temp dir between runs.
 *
 * Options: --rounds N (3)  --mb N (500)  --rate N (200 req/s)  --seconds N (10)
 *          --part-mib N (5)  --queue N (2)   (direct upload tuning, as the API's store)
 *          --node-options "…"  (NODE_OPTIONS of the API process, e.g. --max-semi-space-size=8)
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { pino } from 'pino';
import { openDatabase } from '../services/platform/db/database.js';
import { migrateToLatest } from '../services/platform/db/migrate.js';
import { clip, REPO_ROOT } from '../test/support/clips.js';
import { startMinio } from '../test/support/minio.js';
import { startPostgres } from '../test/support/postgres.js';
import { startRedis } from '../test/support/redis.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    mb: { type: 'string', default: '500' },
    rate: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '10' },
    'part-mib': { type: 'string', default: '5' },
    queue: { type: 'string', default: '2' },
    'node-options': { type: 'string' },
  },
});
const ROUNDS = Number(values.rounds);
const TARGET_MB = Number(values.mb);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const PART_SIZE = Number(values['part-mib']) * 1024 * 1024;
const QUEUE_SIZE = Number(values.queue);
const MB = 1e6;

// ---------------------------------------------------------------------------------------------
// The video

/** A valid MP4 of about `mb` megabytes (cached in the temp dir). */
function bigVideo(mb: number): string {
  const dir = join(tmpdir(), 'nfc-bench-api');
  const out = join(dir, `video-${mb}mb.mp4`);
  if (existsSync(out)) return out;
  execFileSync('mkdir', ['-p', dir]);
  const seed = join(dir, 'lossless-6s.mp4');
  if (!existsSync(seed)) {
    // Lossless H.264: ~5 MB/s of video from a 608×1080 clip, so 500 MB is ~100 s long.
    const source = clip('rohanx01_squat.mp4').path;
    execFileSync(
      'ffmpeg',
      ['-v', 'error', '-y', '-t', '6', '-i', source, '-an', '-c:v', 'libx264'].concat([
        '-preset',
        'ultrafast',
        '-qp',
        '0',
        seed,
      ]),
    );
  }
  const loops = Math.max(0, Math.round((mb * MB) / statSync(seed).size) - 1);
  const partial = `${out}.partial.mp4`;
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-stream_loop', String(loops), '-i', seed, '-c', 'copy', partial]);
  execFileSync('mv', [partial, out]);
  return out;
}

// ---------------------------------------------------------------------------------------------
// The API process and its memory

interface ApiProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

async function startApiProcess(env: Record<string, string>): Promise<ApiProcess> {
  const child = spawn(join(REPO_ROOT, 'bin/nfc'), ['serve'], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`nfc serve did not start in 60 s:\n${output}`)), 60_000);
    child.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(output);
      if (m?.[1]) {
        clearTimeout(timer);
        resolveUrl(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`nfc serve exited (${code}):\n${output}`));
    });
  });
  child.stdout?.resume();
  return {
    url,
    pid: child.pid ?? 0,
    child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await Promise.race([new Promise((r) => child.once('exit', r)), sleep(10_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** VmRSS and VmHWM of a process, in bytes. */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** The memory settings a process runs with: its Node.js flags (bin/nfc's for `serve`) and MALLOC_ARENA_MAX. */
function runtimeSettings(pid: number): string {
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  const flags = argv.slice(1, argv.indexOf('--import')).join(' ');
  const arenas = /(?:^|\0)MALLOC_ARENA_MAX=([^\0]*)/.exec(readFileSync(`/proc/${pid}/environ`, 'utf8'))?.[1];
  return `node ${flags || '(no flags)'}, MALLOC_ARENA_MAX=${arenas ?? 'unset'}`;
}

/** CPU time (user + system) a process has used, in ms (from /proc/<pid>/stat; clock ticks of 10 ms). */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Samples VmRSS every `ms` until stopped; returns the samples. */
function sampleRss(pid: number, ms = 50): { stop(): number[] } {
  const samples: number[] = [];
  const timer = setInterval(() => {
    try {
      samples.push(memoryOf(pid).rss);
    } catch {
      // the process is gone; the caller notices
    }
  }, ms);
  return {
    stop() {
      clearInterval(timer);
      return samples;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Uploads

/** Multipart POST /v1/uploads of a file, streamed from disk with a Content-Length. */
function apiUpload(
  url: string,
  token: string,
  path: string,
  filename: string,
): Promise<{ status: number; body: string }> {
  const boundary = `----nfc-bench-${randomBytes(8).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\n` +
      'Content-Type: video/mp4\r\n\r\n',
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const length = head.length + statSync(path).size + tail.length;
  return new Promise((resolveReply, reject) => {
    const req = httpRequest(
      `${url}/v1/uploads`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': String(length),
        },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolveReply({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.write(head);
    const file = createReadStream(path, { highWaterMark: 1024 * 1024 });
    file.on('error', reject);
    file.on('end', () => req.end(tail));
    file.pipe(req, { end: false });
  });
}

// ---------------------------------------------------------------------------------------------
// Latency

/** Open-loop GETs at `rate`/s for `seconds`; latencies in ms from each request's scheduled time. */
async function openLoop(url: string, headers: Record<string, string>, rate: number, seconds: number) {
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const latencies: number[] = [];
  let errors = 0;
  const inFlight: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    inFlight.push(
      fetch(url, { headers })
        .then(async (res) => {
          await res.arrayBuffer();
          if (res.status !== 200) errors++;
          latencies.push(performance.now() - due);
        })
        .catch(() => {
          errors++;
        }),
    );
  }
  await Promise.all(inFlight);
  const achieved = total / ((performance.now() - start) / 1000);
  latencies.sort((a, b) => a - b);
  return { latencies, errors, achieved };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/** A bare Fastify process: one GET route returning `body`, nothing else (no hooks, no auth, no DB). */
async function startBareServer(body: unknown): Promise<{ url: string; pid: number; stop(): void }> {
  const code = `
    import Fastify from 'fastify';
    const body = JSON.parse(process.env.BODY);
    const app = Fastify({ logger: false });
    app.get('/v1/analyses/:id', async () => body);
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    process.stdout.write('listening on ' + address + '\\n');`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    cwd: REPO_ROOT,
    env: { ...process.env, BODY: JSON.stringify(body) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolveUrl, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m?.[1]) resolveUrl(m[1]);
    });
    child.once('exit', (c) => reject(new Error(`bare server exited (${c})`)));
  });
  return { url, pid: child.pid ?? 0, stop: () => child.kill('SIGTERM') };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const log = pino({ level: 'warn' });
  process.stdout.write(`preparing a ~${TARGET_MB} MB MP4…\n`);
  const video = bigVideo(TARGET_MB);
  const videoBytes = statSync(video).size;

  const [postgres, minio, redis] = await Promise.all([startPostgres(), startMinio(), startRedis()]);
  const scratch = await mkdtemp(join(tmpdir(), 'nfc-bench-api-scratch-'));
  let api: ApiProcess | undefined;
  let bare: { url: string; pid: number; stop(): void } | undefined;
  try {
    const dbConfig = await postgres.createDatabase('bench_api');
    const db = await openDatabase(dbConfig, log);
    await migrateToLatest(db);
    await db.destroy();
    const env: Record<string, string> = {
      ...minio.env,
      ...redis.env,
      NFC_DATABASE_HOST: dbConfig.host,
      NFC_DATABASE_PORT: String(dbConfig.port),
      NFC_DATABASE_NAME: dbConfig.database,
      NFC_DATABASE_USER: dbConfig.user,
      NFC_DATABASE_PASSWORD: dbConfig.password ?? '',
      NFC_DATABASE_SSLMODE: 'disable',
      NFC_STORAGE: 's3',
      NFC_DISPATCH: 'queue',
      NFC_JWT_SECRET: randomBytes(32).toString('hex'),
      NFC_HTTP_PORT: '0',
      NFC_SCRATCH_DIR: scratch,
      NFC_RATE_LIMIT_PER_MINUTE: '1000000',
      LOG_LEVEL: 'warn',
      ...(values['node-options'] ? { NODE_OPTIONS: values['node-options'] } : {}),
    };
    api = await startApiProcess(env);
    const apiUrl = api.url;
    const s3 = minio.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'bench-direct' })).catch(() => undefined);

    const email = `bench-${randomBytes(4).toString('hex')}@example.com`;
    const password = 'bench password 123';
    const post = (path: string, body: unknown, token?: string) =>
      fetch(`${apiUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
    await post('/v1/auth/register', { email, password });
    const { accessToken: token } = (await (await post('/v1/auth/login', { email, password })).json()) as {
      accessToken: string;
    };
    await sleep(2000); // settle after start (JIT, pools) before the idle reading
    const idle = memoryOf(api.pid);

    // 1 + 2: uploads, interleaved, with the API's memory sampled throughout.
    const apiSeconds: number[] = [];
    const directSeconds: number[] = [];
    const peaks: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const sampler = sampleRss(api.pid);
      let started = performance.now();
      const res = await apiUpload(apiUrl, token, video, 'bench.mp4');
      const apiTime = (performance.now() - started) / 1000;
      const samples = sampler.stop();
      if (res.status !== 201) throw new Error(`API upload: ${res.status} ${res.body}`);
      const upload = JSON.parse(res.body) as { id: string };
      await fetch(`${apiUrl}/v1/uploads/${upload.id}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${token}` },
      });
      apiSeconds.push(apiTime);
      peaks.push(Math.max(...samples));

      started = performance.now();
      const key = `direct/${round}.mp4`;
      await new Upload({
        client: s3,
        params: { Bucket: 'bench-direct', Key: key, Body: createReadStream(video), ContentType: 'video/mp4' },
        partSize: PART_SIZE,
        queueSize: QUEUE_SIZE,
      }).done();
      const directTime = (performance.now() - started) / 1000;
      await s3.send(new DeleteObjectCommand({ Bucket: 'bench-direct', Key: key }));
      directSeconds.push(directTime);
      process.stdout.write(
        `round ${round}: API ${(videoBytes / MB / apiTime).toFixed(0)} MB/s, direct ${(videoBytes / MB / directTime).toFixed(0)} MB/s, API peak RSS ${(Math.max(...samples) / MB).toFixed(0)} MB\n`,
      );
    }
    const afterUploads = memoryOf(api.pid);

    // 3: latency of GET /v1/analyses/:id vs a bare Fastify route with a body of the same size.
    const small = clip('formfit_squat.mp4');
    const form = new FormData();
    form.append('file', new Blob([readFileSync(small.path)]), small.file);
    const smallUpload = (await (
      await fetch(`${apiUrl}/v1/uploads`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form })
    ).json()) as { id: string };
    const analysis = (await (await post('/v1/analyses', { uploadId: smallUpload.id }, token)).json()) as {
      id: string;
    };
    if (!analysis.id) throw new Error(`could not create an analysis: ${JSON.stringify(analysis)}`);
    const apiGet = `${apiUrl}/v1/analyses/${analysis.id}`;
    const auth = { authorization: `Bearer ${token}` };
    const sample = await (await fetch(apiGet, { headers: auth })).json();
    bare = await startBareServer(sample);
    const bareGet = `${bare.url}/v1/analyses/${analysis.id}`;
    await openLoop(apiGet, auth, RATE, 2); // warm-up
    await openLoop(bareGet, auth, RATE, 2);
    const measure = async (url: string, pid: number) => {
      const cpuBefore = cpuMsOf(pid);
      const result = await openLoop(url, auth, RATE, SECONDS);
      return { ...result, cpuPerRequest: (cpuMsOf(pid) - cpuBefore) / (RATE * SECONDS) };
    };
    const apiLatency = await measure(apiGet, api.pid);
    const bareLatency = await measure(bareGet, bare.pid);
    const final = memoryOf(api.pid);

    // The table.
    const mbps = (s: number) => videoBytes / MB / s;
    const apiMedian = median(apiSeconds);
    const directMedian = median(directSeconds);
    const ratio = mbps(apiMedian) / mbps(directMedian);
    const peak = Math.max(...peaks);
    const row = (cells: string[]) =>
      `${cells[0]?.padEnd(44)}${cells
        .slice(1)
        .map((c) => c.padStart(14))
        .join('')}\n`;
    const ms = (v: number) => `${v.toFixed(2)} ms`;
    let out = '\n';
    out += `API upload benchmark — ${(videoBytes / MB).toFixed(0)} MB MP4, ${ROUNDS} interleaved rounds (medians)\n`;
    out += row(['', 'API', 'direct S3', 'ratio']);
    out += row([
      'upload throughput',
      `${mbps(apiMedian).toFixed(1)} MB/s`,
      `${mbps(directMedian).toFixed(1)} MB/s`,
      `${ratio.toFixed(2)}×`,
    ]);
    out += row(['upload time', `${apiMedian.toFixed(2)} s`, `${directMedian.toFixed(2)} s`, '']);
    out += `  (target ≥ 0.80×: ${ratio >= 0.8 ? 'met' : 'NOT met'}; direct = @aws-sdk/lib-storage, ${PART_SIZE / 1024 / 1024} MiB parts, ${QUEUE_SIZE} at once)\n\n`;
    out += `API process memory (nfc serve, pid ${api.pid}, ${runtimeSettings(api.pid)}${values['node-options'] ? `, NODE_OPTIONS=${values['node-options']}` : ''})\n`;
    out += row(['RSS idle before uploads', `${(idle.rss / MB).toFixed(0)} MB`]);
    out += row(['RSS peak during each upload (sampled 50 ms)', ...peaks.map((p) => `${(p / MB).toFixed(0)} MB`)]);
    out += row([
      'RSS after uploads / at the end',
      `${(afterUploads.rss / MB).toFixed(0)} MB`,
      `${(final.rss / MB).toFixed(0)} MB`,
    ]);
    out += row(['VmHWM (kernel peak, whole run)', `${(final.hwm / MB).toFixed(0)} MB`]);
    out += `  (target: flat, under 150 MB: ${peak < 150 * MB && final.hwm < 150 * MB ? 'met' : 'NOT met'}; growth over idle ${((peak - idle.rss) / MB).toFixed(0)} MB)\n\n`;
    out += `GET /v1/analyses/:id, open loop at ${RATE} req/s for ${SECONDS} s (latency from the scheduled send time)\n`;
    out += row(['', 'p50', 'p90', 'p99', 'max', 'achieved', 'errors', 'CPU/request']);
    for (const [name, r] of [
      ['API (auth, PostgreSQL, serialisation)', apiLatency],
      ['bare Fastify (same body)', bareLatency],
    ] as const) {
      out += row([
        name,
        ms(percentile(r.latencies, 50)),
        ms(percentile(r.latencies, 90)),
        ms(percentile(r.latencies, 99)),
        ms(r.latencies.at(-1) ?? Number.NaN),
        `${r.achieved.toFixed(0)}/s`,
        String(r.errors),
        `${r.cpuPerRequest.toFixed(2)} ms`,
      ]);
    }
    out += `  (CPU/request: the server process's user + system time over the run, per request; load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on ${cpus().length} CPUs at the end)\n`;
    process.stdout.write(out);
  } finally {
    bare?.stop();
    await api?.stop();
    await Promise.all([minio.stop(), postgres.stop(), redis.stop()]);
    await rm(scratch, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:api failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
