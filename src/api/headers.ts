// Security headers on every answer, UI and API alike: the UI loads only its own
// scripts and styles, talks only to its own origin, and is never framed; API
// answers are never sniffed as another type, cached, or read by another site.
import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';

/** Cytoscape adds this one <style> element to the page; the CSP allows it by its hash and no other inline style. */
const CYTOSCAPE_STYLE = '.__________cytoscape_container { position: relative; }';
const styleHash = (css: string) => `'sha256-${crypto.createHash('sha256').update(css).digest('base64')}'`;

/** The built UI is a module script and a stylesheet from its own origin; the favicon is a data: URL. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  `style-src 'self' ${styleHash(CYTOSCAPE_STYLE)}`,
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const ALWAYS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  // The page's URL may carry ?token=: never pass it on.
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

export function installSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (_req, reply, payload) => {
    for (const [k, v] of Object.entries(ALWAYS)) if (!reply.hasHeader(k)) reply.header(k, v);
    if (!reply.hasHeader('Cache-Control')) reply.header('Cache-Control', 'no-store'); // static files set their own
    return payload;
  });
}

/** The same headers for answers written straight to a socket (malformed requests, before fastify). */
export function rawSecurityHeaders(): string {
  return Object.entries(ALWAYS).map(([k, v]) => `${k}: ${v}\r\n`).join('');
}
