/**
 * The operator's own connection to the API server: where it is, how to authenticate (client
 * certificate, bearer token or the Pod's service-account token, re-read as kubelet rotates it),
 * one pooled keep-alive connection set, and a counter of every request.
 *
 * Why not client-node's KubeConfig and generated API classes: importing them loads the whole
 * generated client (every model and API group), about 90 MB of resident memory before the first
 * object is cached — most of the operator's memory budget. The operator makes a handful of
 * calls (list, get, create, merge patch, Leases, Events), which are plain JSON over HTTPS here.
 * client-node's Watch (light on its own) still streams watches: `asWatchConfig()` gives it the
 * two things it asks of a KubeConfig.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { KubeConfig, RequestContext } from '@kubernetes/client-node';
import { Agent, request } from 'undici';
import { parse as parseYaml } from 'yaml';

/** Where the API server is and who we are to it. */
export interface ConnectionSettings {
  server: string;
  ca?: string;
  cert?: string;
  key?: string;
  token?: string;
  /** Re-read (every minute at most) so a rotated service-account token is picked up. */
  tokenFile?: string;
  insecureSkipTlsVerify?: boolean;
}

/** An API call answered with an error status; `code` is the HTTP status (as client-node's ApiException). */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  constructor(
    readonly code: number,
    readonly body: unknown,
    method: string,
    path: string,
  ) {
    super(`${method} ${path}: HTTP ${code}: ${(body as { message?: string } | null)?.message ?? ''}`);
  }
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  /** Not queued behind the work: Lease renewals, which must not wait for a burst of writes. */
  priority?: boolean;
  /** The answer is not needed (creations): not parsed unless it is an error. */
  discardBody?: boolean;
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/**
 * Connections for ordinary requests; more requests than this wait for one (a burst of thousands
 * would otherwise open thousands of TLS connections: memory here, handshakes on the server).
 * Watches hold theirs for minutes, so they get their own pool, not counted here; so do Lease
 * renewals, which must never queue behind a burst of writes (a leader that cannot renew in time
 * stops leading).
 */
const REQUEST_CONNECTIONS = 32;
const TOKEN_REREAD_MS = 60_000;

export class KubeConnection {
  /** Called once per HTTP request with its method (GET, POST…), whether it is a watch, and its path. */
  onRequest?: (method: string, watch: boolean, path: string) => void;
  private requestAgent?: Agent;
  private watchAgent?: Agent;
  private priorityAgent?: Agent;
  private token?: { value: string; readAt: number };

  constructor(readonly settings: ConnectionSettings) {}

  /** JSON in, JSON out; a non-2xx answer throws KubeApiError, a transport failure its own error. */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const url = new URL(this.settings.server.replace(/\/+$/, '') + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    this.onRequest?.(method, false, path);
    const headers: Record<string, string> = { accept: 'application/json', ...this.authHeader() };
    if (opts.body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
    const res = await request(url, {
      method: method as 'GET',
      headers,
      dispatcher: this.dispatcher(opts.priority ? 'priority' : 'request'),
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    if (opts.discardBody && res.statusCode < 300) {
      await res.body.dump();
      return undefined as T;
    }
    const text = await res.body.text();
    const parsed: unknown = text ? safeJson(text) : undefined;
    if (res.statusCode >= 300) throw new KubeApiError(res.statusCode, parsed ?? text, method, url.pathname);
    return parsed as T;
  }

  /** What client-node's Watch uses of a KubeConfig: the server, and authentication on our pool. */
  asWatchConfig(): KubeConfig {
    const watchConfig = {
      getCurrentCluster: () => ({ server: this.settings.server, name: 'operator', skipTLSVerify: false }),
      applySecurityAuthentication: async (context: RequestContext) => {
        this.onRequest?.('GET', true, new URL(context.getUrl()).pathname);
        for (const [k, v] of Object.entries(this.authHeader())) context.setHeaderParam(k, v);
        context.setDispatcher(this.dispatcher('watch') as Parameters<RequestContext['setDispatcher']>[0]);
      },
    };
    return watchConfig as unknown as KubeConfig;
  }

  /** Drops the pooled connections (requests in flight on them fail); the next request opens new ones. */
  async resetConnections(): Promise<void> {
    const old = [this.requestAgent, this.watchAgent, this.priorityAgent];
    this.requestAgent = undefined;
    this.watchAgent = undefined;
    this.priorityAgent = undefined;
    await Promise.all(old.map((a) => a?.destroy().catch(() => {})));
  }

  async close(): Promise<void> {
    await this.resetConnections();
  }

  private dispatcher(kind: 'request' | 'watch' | 'priority'): Agent {
    if (kind === 'watch') {
      this.watchAgent ??= this.newAgent();
      return this.watchAgent;
    }
    if (kind === 'priority') {
      this.priorityAgent ??= this.newAgent(2);
      return this.priorityAgent;
    }
    this.requestAgent ??= this.newAgent(REQUEST_CONNECTIONS);
    return this.requestAgent;
  }

  private newAgent(connections?: number): Agent {
    const s = this.settings;
    return new Agent({
      keepAliveTimeout: 30_000,
      ...(connections ? { connections } : {}),
      connect: {
        ...(s.ca ? { ca: s.ca } : {}),
        ...(s.cert ? { cert: s.cert } : {}),
        ...(s.key ? { key: s.key } : {}),
        rejectUnauthorized: !s.insecureSkipTlsVerify,
      },
    });
  }

  private authHeader(): Record<string, string> {
    const { token, tokenFile } = this.settings;
    if (tokenFile) {
      if (!this.token || Date.now() - this.token.readAt > TOKEN_REREAD_MS) {
        this.token = { value: readFileSync(tokenFile, 'utf8').trim(), readAt: Date.now() };
      }
      return { authorization: `Bearer ${this.token.value}` };
    }
    return token ? { authorization: `Bearer ${token}` } : {};
  }
}

/**
 * `KUBECONFIG` (its first file) when set, else the Pod's service account when running in a
 * cluster, else ~/.kube/config — the order client-node's `loadFromDefault` uses.
 */
export function connectionFromEnv(env: NodeJS.ProcessEnv): ConnectionSettings {
  const file = env.KUBECONFIG?.split(':').find((f) => f.trim() !== '');
  if (file) return connectionFromKubeconfig(readFileSync(file, 'utf8'), dirname(resolve(file)));
  if (env.KUBERNETES_SERVICE_HOST) {
    const host = env.KUBERNETES_SERVICE_HOST.includes(':')
      ? `[${env.KUBERNETES_SERVICE_HOST}]`
      : env.KUBERNETES_SERVICE_HOST;
    return {
      server: `https://${host}:${env.KUBERNETES_SERVICE_PORT ?? '443'}`,
      ca: readFileSync(`${SA_DIR}/ca.crt`, 'utf8'),
      tokenFile: `${SA_DIR}/token`,
    };
  }
  const home = resolve(homedir(), '.kube/config');
  return connectionFromKubeconfig(readFileSync(home, 'utf8'), dirname(home));
}

interface KubeconfigFile {
  'current-context'?: string;
  contexts?: Array<{ name: string; context: { cluster: string; user: string } }>;
  clusters?: Array<{ name: string; cluster: Record<string, unknown> }>;
  users?: Array<{ name: string; user?: Record<string, unknown> }>;
}

/** The current context of a kubeconfig; relative file paths are relative to `baseDir`. */
export function connectionFromKubeconfig(text: string, baseDir: string): ConnectionSettings {
  const doc = parseYaml(text) as KubeconfigFile;
  const contextName = doc['current-context'] ?? doc.contexts?.[0]?.name;
  const context = doc.contexts?.find((c) => c.name === contextName)?.context;
  if (!context) throw new Error(`kubeconfig: no context ${contextName ?? '(none)'}`);
  const cluster = doc.clusters?.find((c) => c.name === context.cluster)?.cluster;
  if (!cluster || typeof cluster.server !== 'string') {
    throw new Error(`kubeconfig: cluster ${context.cluster} has no server`);
  }
  const user = doc.users?.find((u) => u.name === context.user)?.user ?? {};
  const unsupported = ['exec', 'auth-provider', 'username'].filter((k) => k in user);
  if (unsupported.length > 0) {
    throw new Error(
      `kubeconfig: user ${context.user} authenticates with ${unsupported.join(', ')}, which the operator does not support (use a client certificate or a token)`,
    );
  }
  const material = (from: Record<string, unknown>, dataKey: string, fileKey: string): string | undefined => {
    const data = from[dataKey];
    if (typeof data === 'string') return Buffer.from(data, 'base64').toString('utf8');
    const file = from[fileKey];
    return typeof file === 'string' ? readFileSync(resolve(baseDir, file), 'utf8') : undefined;
  };
  const settings: ConnectionSettings = { server: cluster.server };
  const ca = material(cluster, 'certificate-authority-data', 'certificate-authority');
  const cert = material(user, 'client-certificate-data', 'client-certificate');
  const key = material(user, 'client-key-data', 'client-key');
  if (ca) settings.ca = ca;
  if (cert) settings.cert = cert;
  if (key) settings.key = key;
  if (typeof user.token === 'string') settings.token = user.token;
  if (typeof user.tokenFile === 'string') settings.tokenFile = resolve(baseDir, user.tokenFile);
  if (cluster['insecure-skip-tls-verify'] === true) settings.insecureSkipTlsVerify = true;
  return settings;
}

/**
 * What a request is about, for metrics: the resource's plural and subresource
 * ("jobs", "videoanalyses/status", "events", "leases"), namespaced or not.
 */
export function resourceOfPath(path: string): string {
  const parts = path.split('?')[0]?.split('/').filter(Boolean) ?? [];
  // /api/v1/… or /apis/<group>/<version>/…, then namespaces/<ns>/ when namespaced.
  let rest = parts.slice(parts[0] === 'api' ? 2 : 3);
  if (rest[0] === 'namespaces' && rest.length > 2) rest = rest.slice(2);
  const [plural, , subresource] = rest;
  return subresource ? `${plural}/${subresource}` : (plural ?? 'other');
}

/** The HTTP status of a failed API call, or undefined when the API server was not reached. */
export function apiErrorStatus(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' && code >= 100 && code < 600 ? code : undefined;
}

/** "2026-11-29T10:00:00.123000Z": the RFC 3339 microsecond time Leases and Events want. */
export function microTime(ms = Date.now()): string {
  return new Date(ms).toISOString().replace('Z', '000Z');
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
