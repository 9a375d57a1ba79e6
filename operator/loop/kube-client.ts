/**
 * The operator's KubeConfig: every request to the API server (API clients and watches alike go
 * through `applySecurityAuthentication`) is counted, and all of them share one connection pool.
 *
 * client-node 2.x builds a new undici Agent for every request, so each one pays a TCP and TLS
 * handshake: on a local API server that is 5× the time and 6× the CPU of reusing connections.
 * Here the Agent is kept while the TLS settings it was made for (CA, client certificate and
 * key, as read for this request) stay the same, so a rotated certificate still gets a new one.
 * Should a later client-node stop calling `createDispatcher`, requests simply go unpooled.
 */
import { createHash } from 'node:crypto';
import { type Cluster, KubeConfig, type RequestContext } from '@kubernetes/client-node';

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;
type CreateDispatcher = (cluster: Cluster | null, agentOptions: object) => Dispatcher | undefined;

export class OperatorKubeConfig extends KubeConfig {
  /** Called once per HTTP request with its method (GET, POST…) and whether it is a watch. */
  onRequest?: (method: string, watch: boolean) => void;
  private pool?: { key: string; dispatcher: Dispatcher | undefined };

  constructor() {
    super();
    const create = (KubeConfig.prototype as unknown as { createDispatcher?: CreateDispatcher }).createDispatcher;
    if (typeof create !== 'function') return;
    const pooled: CreateDispatcher = (cluster, agentOptions) => {
      const options = this.createDispatcherOptions(cluster, agentOptions);
      const key = createHash('sha256').update(JSON.stringify(options)).digest('hex');
      if (this.pool?.key === key) return this.pool.dispatcher;
      const previous = this.pool?.dispatcher as { close?: () => Promise<void> } | undefined;
      this.pool = { key, dispatcher: create.call(this, cluster, agentOptions) };
      // Requests in flight on the old pool (watches) finish there.
      void previous?.close?.().catch(() => {});
      return this.pool.dispatcher;
    };
    Object.defineProperty(this, 'createDispatcher', { value: pooled });
  }

  /** A copy of `source` (clusters, users, contexts) that counts and pools its requests. */
  static from(source: KubeConfig): OperatorKubeConfig {
    const kc = new OperatorKubeConfig();
    kc.loadFromOptions({
      clusters: source.clusters,
      users: source.users,
      contexts: source.contexts,
      currentContext: source.currentContext,
    });
    return kc;
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    this.onRequest?.(String(context.getHttpMethod()), context.getUrl().includes('watch=true'));
    await super.applySecurityAuthentication(context);
  }

  /** Drops the pooled connections (requests in flight on them fail); the next request opens new ones. */
  async resetConnections(): Promise<void> {
    await this.close();
  }

  /** Closes the pooled connections. */
  async close(): Promise<void> {
    const d = this.pool?.dispatcher as { destroy?: () => Promise<void> } | undefined;
    this.pool = undefined;
    await d?.destroy?.().catch(() => {});
  }
}
