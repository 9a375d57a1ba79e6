/**
 * 405 Method Not Allowed (with `Allow`) for a path the API serves under other methods, instead
 * of what the router would give: a 404 (`DELETE /v1/auth/me`), or — where a static path sits
 * beside a parametric one — the parametric route's answer (`GET /v1/uploads/presign` would be
 * `GET /v1/uploads/:id` with a bad id, a 400). The client's mistake is the method (RFC 9110
 * §15.5.6). Checked in `onRequest`, before any body is parsed, so methods the router does not
 * serve at all (TRACE, QUERY…) get the same answer.
 */
import type { FastifyInstance } from 'fastify';

interface KnownPath {
  url: string;
  pattern: RegExp;
  /** Parameters and wildcards in the path: the fewest wins (`/v1/uploads/presign` over `/v1/uploads/:id`). */
  dynamic: number;
  methods: Set<string>;
}

/** Registers the hooks; call before the routes are added (it learns them through `onRoute`). */
export function answerMethodNotAllowed(app: FastifyInstance): void {
  const paths = new Map<string, KnownPath>();
  // Route URL → the more specific paths it would otherwise answer for; built on the first request.
  let shadows: Map<string, KnownPath[]> | undefined;
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    let known = paths.get(route.url);
    if (!known) {
      known = {
        url: route.url,
        pattern: patternOf(route.url),
        dynamic: dynamicSegments(route.url),
        methods: new Set(),
      };
      paths.set(route.url, known);
    }
    for (const m of methods) known.methods.add(m.toUpperCase());
    shadows = undefined;
  });

  app.addHook('onRequest', async (request, reply) => {
    // OPTIONS belongs to CORS (its preflight route answers every path when CORS is configured).
    if (request.method === 'OPTIONS') return;
    const path = request.url.split('?')[0] ?? '/';
    let owner: KnownPath | undefined;
    if (request.is404) {
      owner = mostSpecific(paths.values(), path);
    } else {
      shadows ??= shadowsOf([...paths.values()]);
      const shadowed = shadows.get(request.routeOptions.url ?? '');
      if (!shadowed) return; // the common case: one map lookup
      owner = mostSpecific(shadowed, path);
    }
    if (!owner || owner.methods.has(request.method)) return;
    const allow = [...owner.methods].sort().join(', ');
    return reply
      .code(405)
      .header('allow', allow)
      .send({
        error: { code: 'METHOD_NOT_ALLOWED', message: `${request.method} is not allowed on ${path}; use ${allow}` },
      });
  });
}

function mostSpecific(candidates: Iterable<KnownPath>, path: string): KnownPath | undefined {
  let best: KnownPath | undefined;
  for (const known of candidates) {
    if ((!best || known.dynamic < best.dynamic) && known.pattern.test(path)) best = known;
  }
  return best;
}

function shadowsOf(all: KnownPath[]): Map<string, KnownPath[]> {
  const result = new Map<string, KnownPath[]>();
  for (const route of all) {
    if (route.dynamic === 0) continue;
    const more = all.filter((other) => other.dynamic < route.dynamic && route.pattern.test(other.url));
    if (more.length > 0) result.set(route.url, more);
  }
  return result;
}

function dynamicSegments(url: string): number {
  return url.split('/').filter((s) => s === '*' || s.startsWith(':')).length;
}

/** `/v1/uploads/:id` → ^/v1/uploads/[^/]+$; `/docs/*` → ^/docs/.*$ */
function patternOf(url: string): RegExp {
  const source = url
    .split('/')
    .map((segment) => {
      if (segment === '*') return '.*';
      if (segment.startsWith(':')) return '[^/]+';
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return new RegExp(`^${source}$`);
}
