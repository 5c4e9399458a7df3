// Who may use the API, checked on every request (HTTP and WebSocket upgrade) in this order:
// 1. Host: a name of this agent, so a DNS-rebinding page cannot reach it under its own name;
// 2. Origin, when a browser sends one: this page's own origin or one given by --allow-origin;
// 3. the token, when one is set: deny by default. Only routes registered as public skip it, and
//    that is read from the route the router MATCHED (after it decoded the path), never from the
//    raw URL, so /%61pi/v1/graph is the graph route and needs the token like /api/v1/graph.
//    A path that matches no route is not public either: without the token it answers 401.
import crypto from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface AccessOptions {
  /** Address the API listens on. */
  host: string;
  token?: string;
  /** Extra names (or name:port) accepted in the Host header, e.g. the name a reverse proxy forwards. */
  allowHosts?: string[];
  /** Other origins (scheme://host[:port]) whose pages may use the API and the stream. */
  allowOrigins?: string[];
  /** The command's own flags that widen access, named in refusals: the hub has neither --allow-host nor --allow-origin. */
  remedies?: Remedies;
}

/** How a refusal tells the user to let a request through, in the flags of the command that serves the API. */
export interface Remedies { token: string; allowHost?: string; allowOrigin?: string }
export const AGENT_REMEDIES: Remedies = { token: 'pass --token-file <path> or set DHRISHTI_TOKEN', allowHost: '--allow-host', allowOrigin: '--allow-origin' };

/** Route option that lets a route skip the token: set only on the UI's static files and /api/v1/health. */
export const PUBLIC_ROUTE = { public: true } as const;

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::ffff:127.0.0.1';
}

const isWildcard = (host: string) => host === '0.0.0.0' || host === '::' || host === '[::]';

/** Refuses an API reachable beyond this host without a token. Run before anything else starts. */
export function checkExposure(host: string, token: string | undefined, remedies: Remedies = AGENT_REMEDIES): void {
  if (!isLoopbackHost(host) && !token) {
    throw new Error(`refusing to listen on ${host} without a token: anyone who can reach it would see this host's traffic; ${remedies.token}`);
  }
}

function tokenOf(req: FastifyRequest): string | null {
  const m = /^bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  if (m) return m[1].trim();
  const q = (req.query as Record<string, unknown> | undefined)?.token;
  return typeof q === 'string' ? q : null;
}

export function tokenMatches(req: FastifyRequest, token: string): boolean {
  const got = tokenOf(req);
  if (!got) return false;
  const a = crypto.createHash('sha256').update(got).digest();
  const b = crypto.createHash('sha256').update(token).digest();
  return crypto.timingSafeEqual(a, b);
}

/** "Name:port", "[v6]:port" or "name" -> lower-case name without brackets, and the port if any. */
export function splitHost(v: string): { name: string; port: string | null } {
  const s = v.trim().toLowerCase();
  const v6 = /^\[([^\]]*)\](?::(\d*))?$/.exec(s);
  if (v6) return { name: v6[1], port: v6[2] || null };
  const i = s.lastIndexOf(':');
  if (i > 0 && s.indexOf(':') === i) return { name: s.slice(0, i).replace(/\.$/, ''), port: s.slice(i + 1) || null };
  return { name: s.replace(/\.$/, ''), port: null };
}

/** A --allow-host value: a DNS name or an address, optionally with :port. */
export function parseAllowHost(v: string): string {
  const { name, port } = splitHost(v);
  if (!name || v.includes('*') || v.includes('/') || !/^[a-z0-9.\-_:]+$/.test(name) || (port !== null && !/^\d{1,5}$/.test(port))) {
    throw new Error(`--allow-host takes a host name or address, optionally with :port (no wildcards), got "${v}"`);
  }
  return port ? `${name}:${port}` : name;
}

/** An --allow-origin value: scheme://host[:port], nothing else; never a wildcard. */
export function parseAllowOrigin(v: string): string {
  let u: URL;
  try { u = new URL(v); } catch { u = null as unknown as URL; }
  if (!u || v.includes('*') || !['http:', 'https:'].includes(u.protocol) || (u.pathname !== '/' && u.pathname !== '') || u.search || u.hash || u.username) {
    throw new Error(`--allow-origin takes an origin such as https://dashboard.example:8443 (scheme, host and port; no path, no wildcard), got "${v}"`);
  }
  return u.origin;
}

/** Which Host headers this agent answers to. IP literals never come from a rebinding page, names may. */
export function hostPolicy(bind: string, allowHosts: string[] = []): (hostHeader: string) => boolean {
  const bound = splitHost(bind.includes(':') && !bind.startsWith('[') ? `[${bind}]` : bind).name;
  const loopback = isLoopbackHost(bound);
  const wildcard = isWildcard(bind);
  const machine = os.hostname().toLowerCase();
  const extra = new Set(allowHosts.map((h) => h.toLowerCase()));
  return (hostHeader) => {
    const { name, port } = splitHost(hostHeader);
    if (!name) return false;
    if (extra.has(name) || (port && extra.has(`${name}:${port}`))) return true;
    if (net.isIP(name)) return wildcard || name === bound || (loopback && isLoopbackHost(name));
    if (name === 'localhost') return loopback || wildcard;
    return name === machine && !loopback;
  };
}

/** A browser's Origin: the page's own (same host as the request), or one given by --allow-origin. */
export function originPolicy(allowOrigins: string[] = []): (origin: string, hostHeader: string) => 'same' | 'allowed' | false {
  const allowed = new Set(allowOrigins);
  return (origin, hostHeader) => {
    let u: URL;
    try { u = new URL(origin); } catch { return false; }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return false;
    // Same origin: same name and port (a Host without a port means the scheme's default one).
    const dflt = u.protocol === 'https:' ? '443' : '80';
    const a = splitHost(u.host), b = splitHost(hostHeader);
    if (a.name === b.name && (a.port ?? dflt) === (b.port ?? dflt)) return 'same';
    return allowed.has(u.origin) ? 'allowed' : false;
  };
}

function deny(reply: FastifyReply, code: number, error: string, message: string): FastifyReply {
  return reply.code(code).send({ error, message });
}

const shown = (v: string) => JSON.stringify(v.length > 100 ? `${v.slice(0, 100)}…` : v);

/** Installs the three checks as the app's first onRequest hook; register before any route. */
export function installAccess(app: FastifyInstance, opts: AccessOptions): void {
  const hostOk = hostPolicy(opts.host, opts.allowHosts);
  const originOk = originPolicy(opts.allowOrigins);
  const token = opts.token || undefined;
  const remedies = opts.remedies ?? AGENT_REMEDIES;
  app.addHook('onRequest', async (req, reply) => {
    const host = req.headers.host ?? '';
    if (!hostOk(host)) {
      return deny(reply, 403, 'host_not_allowed', `this server does not answer to Host ${shown(host)}${remedies.allowHost ? `; if that is a name it really has, add ${remedies.allowHost}` : '; use the address it listens on'}`);
    }
    const origin = req.headers.origin;
    if (origin !== undefined) {
      const kind = originOk(origin, host);
      if (!kind) return deny(reply, 403, 'origin_not_allowed', `pages from ${shown(origin)} may not use this API${remedies.allowOrigin ? `; add ${remedies.allowOrigin} to let them` : ''}`);
      if (kind === 'allowed') {
        reply.header('Access-Control-Allow-Origin', new URL(origin).origin).header('Vary', 'Origin');
        if (req.method === 'OPTIONS') {
          // A CORS preflight never carries the token; it reveals nothing but what is allowed.
          return reply.code(204).header('Access-Control-Allow-Methods', 'GET, HEAD')
            .header('Access-Control-Allow-Headers', 'Authorization').header('Access-Control-Max-Age', '600').send();
        }
      }
    }
    if (!token) return;
    const isPublic = !req.is404 && (req.routeOptions.config as { public?: boolean } | undefined)?.public === true;
    if (!isPublic && !tokenMatches(req, token)) return deny(reply, 401, 'unauthorized', 'missing or wrong token: send Authorization: Bearer <token> or ?token=');
  });
}
