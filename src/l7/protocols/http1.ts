// HTTP/1.x request line of a sample: method and path, without query string or fragment.
import type { RequestDescription } from '../types.js';

const METHODS = new Set(['GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE']);
export const PATH_MAX_CHARS = 200;

export function describeHttp1(text: Buffer): RequestDescription | null {
  const lineEnd = text.indexOf(0x0a);
  const line = text.toString('latin1', 0, lineEnd < 0 ? text.length : lineEnd);
  const m = /^([A-Z]+) (\S+)(?: HTTP\/1\.[01]\r?$|$)/.exec(line);
  if (!m || !METHODS.has(m[1])) return null;
  let target = m[2];
  const cut = target.search(/[?#]/);
  if (cut >= 0) target = target.slice(0, cut);
  if (/[\x00-\x1f\x7f]/.test(target)) return null;
  if (target.length > PATH_MAX_CHARS) target = target.slice(0, PATH_MAX_CHARS - 1) + '…';
  return { method: m[1], target };
}
