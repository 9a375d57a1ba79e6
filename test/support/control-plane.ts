/**
 * A real Kubernetes control plane for tests, started and stopped by the test itself (the way
 * controller-runtime's envtest does): etcd and kube-apiserver, and on request kube-scheduler,
 * kube-controller-manager and KWOK playing the kubelet of fake (GPU) nodes. Every binary is built
 * from its Go module by scripts/build-tools.sh into ~/.cache/nfc-tools; nothing is mocked.
 *
 *   const cp = await startControlPlane({ scheduler: true, controllerManager: true,
 *     kwokNodes: [{ name: 'gpu-0', gpus: 8 }] });
 *   const core = cp.kubeConfig().makeApiClient(CoreV1Api);
 *   ...
 *   await cp.stop();
 *
 * Everything listens on 127.0.0.1 on free ports and lives in one temporary directory (data, keys,
 * kubeconfig, one log file per process), removed by stop(). NFC_KEEP_CONTROL_PLANE=1 keeps it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, KubeConfig, type V1Node, type V1Taint } from '@kubernetes/client-node';
import { trackDir, trackProcessGroup, untrackDir } from './process-cleanup.js';
import { freePort } from './wait.js';

export interface KwokNodeSpec {
  name: string;
  /** nvidia.com/gpu capacity; 0 leaves the resource off the node. */
  gpus: number;
  /** Defaults: 32 CPUs, 128Gi, 110 pods. */
  cpu?: string;
  memory?: string;
  pods?: string;
  labels?: Record<string, string>;
  taints?: Array<Pick<V1Taint, 'key' | 'value' | 'effect'>>;
}

export interface ControlPlaneOptions {
  /** Starts kube-scheduler, so Pods get a node. */
  scheduler?: boolean;
  /** Starts kube-controller-manager with every controller (Deployments, Jobs, GC, node lifecycle…). */
  controllerManager?: boolean;
  /** Fake nodes that KWOK keeps Ready and whose Pods it runs. */
  kwokNodes?: KwokNodeSpec[];
  /** Per startup step (default 90 s; a 2-core machine under load needs it). */
  timeoutMs?: number;
}

export interface ControlPlane {
  /** The temporary directory holding data, keys, kubeconfig and logs. */
  dir: string;
  /** A kubeconfig (CA data inline, admin token) for kubectl, helm, the operator under test. */
  kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  server: string;
  /** Bearer token of a system:masters user. */
  token: string;
  /** The API server's CA bundle (PEM). */
  caPem: string;
  /** A fresh KubeConfig for @kubernetes/client-node. */
  kubeConfig(): KubeConfig;
  /** Log file of a process: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok. */
  logFile(component: Component): string;
  /** Process id of a running component (for benchmarks that read its CPU time), or undefined. */
  pid(component: Component): number | undefined;
  /** Stops kube-apiserver and starts it again on the same port, certificates and etcd. */
  restartApiServer(): Promise<void>;
  /** Kills every process (process groups) and removes the directory. */
  stop(): Promise<void>;
}

export type Component = 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kwok';

export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';
const BUILD_HINT = 'run ./scripts/build-tools.sh (builds the control plane from Go modules into ~/.cache/nfc-tools)';

/** The directory of the tool binaries: NFC_TOOLS_BIN, else <NFC_TOOLS_CACHE or ~/.cache/nfc-tools>/bin. */
export function toolsBinDir(): string {
  if (process.env.NFC_TOOLS_BIN) return process.env.NFC_TOOLS_BIN;
  return join(process.env.NFC_TOOLS_CACHE ?? join(homedir(), '.cache', 'nfc-tools'), 'bin');
}

/** Path of a built tool (etcd, kube-apiserver, kubectl, helm, kwok…), or an Error saying how to build it. */
export function toolPath(name: string): string {
  const path = join(toolsBinDir(), name);
  try {
    accessSync(path, name.endsWith('.yaml') ? constants.R_OK : constants.X_OK);
  } catch {
    throw new Error(`${name} not found: ${BUILD_HINT}`);
  }
  return path;
}

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const timeoutMs = opts.timeoutMs ?? 90_000;
  const kwokNodes = opts.kwokNodes ?? [];
  const bins = {
    etcd: toolPath('etcd'),
    apiserver: toolPath('kube-apiserver'),
    controllerManager: opts.controllerManager ? toolPath('kube-controller-manager') : '',
    scheduler: opts.scheduler ? toolPath('kube-scheduler') : '',
    kwok: kwokNodes.length > 0 ? toolPath('kwok') : '',
    kwokStages: kwokNodes.length > 0 ? toolPath('kwok-stages.yaml') : '',
  };

  const dir = await mkdtemp(join(tmpdir(), 'nfc-control-plane-'));
  const procs = new Procs(dir);
  try {
    // etcd
    const [etcdClient, etcdPeer] = [await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    const peerUrl = `http://127.0.0.1:${etcdPeer}`;
    procs.start('etcd', bins.etcd, [
      '--name=default',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=default=${peerUrl}`,
      '--unsafe-no-fsync=true', // test data: no fsync per write
      '--log-level=warn',
    ]);
    await procs.waitFor('etcd', timeoutMs, async () => {
      const r = await get(`${etcdUrl}/health`);
      return r.status === 200 && r.body.includes('"health":"true"');
    });

    // kube-apiserver: self-signed serving certificate in --cert-dir, an admin token, a
    // service-account signing key pair.
    const token = randomBytes(24).toString('hex');
    const pki = join(dir, 'pki');
    await mkdir(pki);
    await writeFile(join(pki, 'tokens.csv'), `${token},nfc-admin,nfc-admin,"system:masters"\n`, { mode: 0o600 });
    const sa = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    await writeFile(join(pki, 'sa.pub'), sa.publicKey);
    await writeFile(join(pki, 'sa.key'), sa.privateKey, { mode: 0o600 });
    const port = await freePort();
    const server = `https://127.0.0.1:${port}`;
    // Admission: the defaults, less what needs a component that is not running (the default
    // ServiceAccount comes from the controller-manager; the not-ready taint is only ever
    // lifted by its node lifecycle controller).
    const disabledAdmission = opts.controllerManager ? [] : ['ServiceAccount', 'TaintNodesByCondition'];
    const apiserverArgs = [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      // The `kubernetes` Service's endpoint may not be a loopback address: no endpoint, as nothing
      // here runs inside the cluster.
      '--endpoint-reconciler-type=none',
      `--secure-port=${port}`,
      `--cert-dir=${pki}`,
      `--token-auth-file=${join(pki, 'tokens.csv')}`,
      '--authorization-mode=Node,RBAC',
      '--service-cluster-ip-range=10.0.0.0/24',
      '--allow-privileged=true',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${join(pki, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(pki, 'sa.key')}`,
      ...(disabledAdmission.length ? [`--disable-admission-plugins=${disabledAdmission.join(',')}`] : []),
      '--profiling=false',
      '--v=1',
    ];
    const caFile = join(pki, 'apiserver.crt');
    const startApiServer = async () => {
      procs.start('kube-apiserver', bins.apiserver, apiserverArgs);
      await procs.waitFor('kube-apiserver', timeoutMs, async () => {
        if (!existsSync(caFile)) return false;
        const r = await get(`${server}/readyz`, { ca: readFileSync(caFile), token });
        return r.status === 200;
      });
    };
    await startApiServer();
    const caPem = await readFile(caFile, 'utf8');
    const kubeconfigPath = join(dir, 'kubeconfig');
    await writeFile(kubeconfigPath, kubeconfigYaml(server, caPem, token), { mode: 0o600 });
    const kubeConfig = () => {
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfigPath);
      return kc;
    };
    const core = kubeConfig().makeApiClient(CoreV1Api);
    // /readyz is green before the bootstrap controller has written the system namespaces.
    await procs.waitFor('kube-apiserver', timeoutMs, async () => {
      await core.readNamespace({ name: 'default' });
      return true;
    });

    if (opts.controllerManager) {
      procs.start('kube-controller-manager', bins.controllerManager, [
        `--kubeconfig=${kubeconfigPath}`,
        `--authentication-kubeconfig=${kubeconfigPath}`,
        `--authorization-kubeconfig=${kubeconfigPath}`,
        '--controllers=*',
        `--service-account-private-key-file=${join(pki, 'sa.key')}`,
        '--use-service-account-credentials=true',
        `--root-ca-file=${caFile}`,
        '--cluster-name=nfc-test',
        '--leader-elect=false',
        '--bind-address=127.0.0.1',
        `--secure-port=${await freePort()}`,
        `--cert-dir=${join(dir, 'kube-controller-manager')}`,
        '--v=1',
      ]);
      // Its first visible work: the default ServiceAccount every Pod needs.
      await procs.waitFor('kube-controller-manager', timeoutMs, async () => {
        await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' });
        return true;
      });
    }

    if (opts.scheduler) {
      const schedulerPort = await freePort();
      procs.start('kube-scheduler', bins.scheduler, [
        `--kubeconfig=${kubeconfigPath}`,
        `--authentication-kubeconfig=${kubeconfigPath}`,
        `--authorization-kubeconfig=${kubeconfigPath}`,
        '--leader-elect=false',
        '--bind-address=127.0.0.1',
        `--secure-port=${schedulerPort}`,
        `--cert-dir=${join(dir, 'kube-scheduler')}`,
        '--v=1',
      ]);
      // /readyz waits for the informers to sync; its certificate is its own self-signed one.
      await procs.waitFor('kube-scheduler', timeoutMs, async () => {
        const r = await get(`https://127.0.0.1:${schedulerPort}/readyz`, { insecure: true });
        return r.status === 200;
      });
    }

    if (kwokNodes.length > 0) {
      procs.start('kwok', bins.kwok, [
        `--kubeconfig=${kubeconfigPath}`,
        `--config=${bins.kwokStages}`,
        '--manage-all-nodes=false',
        `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=fake`,
        '--cidr=10.244.0.0/16',
        '--node-ip=10.240.0.1',
        `--server-address=127.0.0.1:${await freePort()}`,
      ]);
      for (const node of kwokNodes) await core.createNode({ body: kwokNode(node) });
      const names = new Set(kwokNodes.map((n) => n.name));
      await procs.waitFor('kwok', timeoutMs, async () => {
        const list = await core.listNode();
        const ready = list.items.filter(
          (n) =>
            names.has(n.metadata?.name ?? '') &&
            n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') &&
            !n.spec?.taints?.some((t) => t.key.startsWith('node.kubernetes.io/')),
        );
        return ready.length === names.size;
      });
    }

    return {
      dir,
      kubeconfigPath,
      server,
      token,
      caPem,
      kubeConfig,
      logFile: (component) => procs.logFile(component),
      pid: (component) => procs.pid(component),
      async restartApiServer() {
        await procs.kill('kube-apiserver');
        await startApiServer();
      },
      async stop() {
        await procs.dispose();
      },
    };
  } catch (err) {
    await procs.dispose();
    throw err;
  }
}

/** A Node that KWOK manages, with the capacity the scheduler sees (GPUs as nvidia.com/gpu). */
export function kwokNode(spec: KwokNodeSpec): V1Node {
  const capacity: Record<string, string> = {
    cpu: spec.cpu ?? '32',
    memory: spec.memory ?? '128Gi',
    pods: spec.pods ?? '110',
  };
  if (spec.gpus > 0) capacity['nvidia.com/gpu'] = String(spec.gpus);
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: spec.name,
      annotations: { [KWOK_NODE_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/hostname': spec.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        type: 'kwok',
        ...spec.labels,
      },
    },
    spec: { taints: spec.taints?.map((t) => ({ ...t })) },
    status: { capacity, allocatable: { ...capacity } },
  };
}

function kubeconfigYaml(server: string, caPem: string, token: string): string {
  const ca = Buffer.from(caPem).toString('base64');
  return `apiVersion: v1
kind: Config
clusters:
- name: nfc-test
  cluster:
    server: ${server}
    certificate-authority-data: ${ca}
users:
- name: nfc-admin
  user:
    token: ${token}
contexts:
- name: nfc-test
  context:
    cluster: nfc-test
    user: nfc-admin
current-context: nfc-test
`;
}

/** The control plane's processes: each in its own process group, output to <dir>/<name>.log. */
class Procs {
  private readonly running = new Map<Component, ChildProcess>();

  constructor(private readonly dir: string) {
    trackDir(dir, { keep: process.env.NFC_KEEP_CONTROL_PLANE === '1' });
  }

  logFile(name: Component): string {
    return join(this.dir, `${name}.log`);
  }

  pid(name: Component): number | undefined {
    return this.running.get(name)?.pid;
  }

  start(name: Component, bin: string, args: string[]): void {
    const fd = openSync(this.logFile(name), 'a');
    writeFileSync(fd, `\n$ ${bin} ${args.join(' ')}\n`);
    const child = spawn(bin, args, { cwd: this.dir, detached: true, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    child.on('error', () => {}); // reported through the exit code and the log
    trackProcessGroup(child);
    this.running.set(name, child);
  }

  /** Polls `ready` until it returns true; throws with the log's tail if the process dies or time runs out. */
  async waitFor(name: Component, timeoutMs: number, ready: () => Promise<boolean>): Promise<void> {
    const child = this.running.get(name);
    const deadline = Date.now() + timeoutMs;
    let lastError = '';
    for (;;) {
      if (child && (child.exitCode !== null || child.signalCode !== null)) {
        throw new Error(
          `${name} exited (${child.exitCode ?? child.signalCode}) while starting; last lines of ${this.logFile(name)}:\n${this.tail(name)}`,
        );
      }
      try {
        if (await ready()) return;
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err);
      }
      if (Date.now() > deadline) {
        throw new Error(
          `${name} not ready after ${timeoutMs / 1000} s${lastError ? ` (${lastError.slice(0, 300)})` : ''}; last lines of ${this.logFile(name)}:\n${this.tail(name)}`,
        );
      }
      await sleep(150);
    }
  }

  tail(name: Component, lines = 40): string {
    try {
      return readFileSync(this.logFile(name), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  async kill(name: Component): Promise<void> {
    const child = this.running.get(name);
    if (!child) return;
    this.running.delete(name);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    killGroup(child, 'SIGTERM');
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  /** Clients first, etcd last. */
  async stopAll(): Promise<void> {
    const order: Component[] = ['kwok', 'kube-scheduler', 'kube-controller-manager', 'kube-apiserver', 'etcd'];
    for (const name of order) await this.kill(name);
  }

  /** Stops everything, then removes the directory unless NFC_KEEP_CONTROL_PLANE=1. */
  async dispose(): Promise<void> {
    await this.stopAll();
    untrackDir(this.dir);
    if (process.env.NFC_KEEP_CONTROL_PLANE === '1') {
      process.stderr.write(`control plane kept in ${this.dir}\n`);
    } else {
      await rm(this.dir, { recursive: true, force: true });
    }
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

interface GetOptions {
  ca?: Buffer;
  token?: string;
  insecure?: boolean;
}

/** One GET with a 5 s timeout: status and body. */
function get(url: string, opts: GetOptions = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const headers: Record<string, string> = opts.token ? { authorization: `Bearer ${opts.token}` } : {};
    const options = { headers, timeout: 5000, ca: opts.ca, rejectUnauthorized: !opts.insecure, agent: false as const };
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}
