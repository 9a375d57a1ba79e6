/**
 * The operator's HTTP endpoints, on the metrics port:
 * - /healthz (liveness): 200 while every watch has seen an event, a bookmark or a list within
 *   the stale limit; the body has the time of each watch's last event either way;
 * - /readyz: 200 once the caches hold their first list;
 * - /metrics: Prometheus text.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { WatchHealth } from './loop/controller.js';

export interface HealthSources {
  registry: Registry;
  watches(): WatchHealth[];
  ready(): boolean;
  leader(): boolean;
  identity: string;
  /** A watch with nothing for longer than this fails liveness. */
  staleAfterMs: number;
  /** Time the process started (a watch that never had an event is judged from there). */
  startedAt: number;
}

export interface HealthReport {
  status: 'ok' | 'stale';
  leader: boolean;
  identity: string;
  lastWatchEventTime: string | null;
  watches: Array<WatchHealth & { stale: boolean }>;
}

export function healthReport(
  s: Pick<HealthSources, 'watches' | 'leader' | 'identity' | 'staleAfterMs' | 'startedAt'>,
  now = Date.now(),
): HealthReport {
  const watches = s.watches().map((w) => {
    const last = w.lastEventTime ? Date.parse(w.lastEventTime) : s.startedAt;
    return { ...w, stale: now - last > s.staleAfterMs };
  });
  const times = watches.map((w) => w.lastEventTime).filter((t): t is string => t !== null);
  return {
    status: watches.some((w) => w.stale) ? 'stale' : 'ok',
    leader: s.leader(),
    identity: s.identity,
    // The oldest of the watches' last events: the one that says most about a stuck watch.
    lastWatchEventTime: times.length === watches.length && times.length > 0 ? (times.sort()[0] ?? null) : null,
    watches,
  };
}

export async function startHealthServer(
  s: HealthSources,
  port: number,
  host: string,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'method not allowed\n');
    if (path === '/healthz' || path === '/livez') {
      const report = healthReport(s);
      return send(report.status === 'ok' ? 200 : 503, 'application/json', `${JSON.stringify(report)}\n`);
    }
    if (path === '/readyz') {
      const ready = s.ready();
      return send(ready ? 200 : 503, 'application/json', `${JSON.stringify({ ready, leader: s.leader() })}\n`);
    }
    if (path === '/metrics') {
      s.registry.metrics().then(
        (text) => send(200, s.registry.contentType, text),
        (err: unknown) => send(500, 'text/plain', `${String(err)}\n`),
      );
      return;
    }
    send(404, 'text/plain', 'not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
