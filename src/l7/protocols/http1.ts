// HTTP/1.x request line of a sample: method and path, without query string or fragment.
import type { RequestDescription } from '../types.js';

const METHODS = new Set(['GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE']);
export const PATH_MAX_CHARS = 200;

export function describeHttp1(text: Buffer): RequestDescription | null {
  const lineEnd = text.indexOf(0x0a);
  const line = text.toString('latin1', 0, lineEnd < 0 ? text.length : lineEnd);
  const m = /^([A-Z]+) (\S+)(?: HTTP\/1\.[01]\r?$|$)/.exec(line);
  if (!m || !METHODS.has(m[1])) return null;
  if (/[\x00-\x1f\x7f]/.test(m[2])) return null;
  return { method: m[1], target: keptPath(m[2]) };
}

/**
 * What is kept of a request target: the path without query string, fragment or path parameters (`;jsessionid=…`,
 * which carry sessions as a query does), and without the credentials of an absolute-form target, cut to
 * PATH_MAX_CHARS. Shared by HTTP/1 and HTTP/2 samples.
 */
export function keptPath(target: string): string {
  target = target.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1'); // an absolute-form target's user:password (a proxy's request)
  const cut = target.search(/[?#]/);
  let path = (cut >= 0 ? target.slice(0, cut) : target).replace(/;[^/]*/g, '');
  if (path.length > PATH_MAX_CHARS) path = path.slice(0, PATH_MAX_CHARS - 1) + '…';
  return path;
}
