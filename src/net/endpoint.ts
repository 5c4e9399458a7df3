// An HTTP endpoint named on the command line (--prometheus, --remote-write,
// --otlp-endpoint). A user and password in it (https://user:key@host, as curl
// takes them) become a Basic Authorization header and leave the URL, so no
// message, log line or API answer that names the endpoint ever carries them;
// fetch would refuse such a URL anyway. The command line is visible in ps: each
// flag also reads an environment variable, the place for a password.

export interface Endpoint {
  /** The URL without its credentials: safe to show. */
  url: string;
  /** Authorization from the URL's credentials, if it had any. */
  headers: Record<string, string>;
}

/** The text of a URL with any credentials masked (all before its last @: a password may hold / # ? or @), for a message
 *  about a URL that did not parse. */
export function maskCredentials(v: string): string {
  return v.replace(/^([a-z][a-z0-9+.-]*:\/\/)\S*@/i, '$1***@');
}

const decoded = (s: string) => { try { return decodeURIComponent(s); } catch { return s; } };

/** `v` checked as an http(s) URL; `adjust` may complete it (a default path). */
export function httpEndpoint(v: string, flag: string, example: string, adjust?: (u: URL) => void): Endpoint {
  let u: URL;
  try { u = new URL(v); } catch { throw new Error(`${flag} must be a URL such as ${example}, got "${maskCredentials(v)}"`); }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`${flag} must be http(s), got "${maskCredentials(v)}"`);
  const headers: Record<string, string> = {};
  if (u.username || u.password) {
    const user = decoded(u.username), pass = decoded(u.password);
    headers.Authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    u.username = '';
    u.password = '';
  }
  adjust?.(u);
  return { url: u.toString(), headers };
}
