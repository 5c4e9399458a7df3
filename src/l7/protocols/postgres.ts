// PostgreSQL request of a sample: the Query or Parse statement, normalised;
// Bind/Execute of an already prepared statement shows its name; a startup
// message (sampled only when the server refused it) its database and user.
import type { RequestDescription } from '../types.js';
import { normalizeSql, sqlText, sqlVerb } from '../sql.js';

const PROTOCOL_3 = 196608;

export function describePostgres(text: Buffer): RequestDescription | null {
  if (text.length >= 8 && text[0] === 0 && text.readUInt32BE(4) === PROTOCOL_3) return startup(text);
  if (text.length < 5) return null;
  const type = String.fromCharCode(text[0]);
  const len = text.readUInt32BE(1);
  if (len < 4) return null;
  const end = Math.min(text.length, 1 + len);
  if (type === 'Q') return statement(text, 5, end);
  if (type === 'P') { // Parse: name\0 query\0 ...
    const nameEnd = text.indexOf(0, 5);
    if (nameEnd < 0 || nameEnd >= end) return null;
    return statement(text, nameEnd + 1, end);
  }
  if (type === 'B') { // Bind: portal\0 statement\0 ...
    const portalEnd = text.indexOf(0, 5);
    const stmtEnd = portalEnd >= 0 ? text.indexOf(0, portalEnd + 1) : -1;
    if (stmtEnd < 0 || stmtEnd > end) return { method: 'EXECUTE' };
    const name = text.toString('latin1', portalEnd + 1, stmtEnd);
    return { method: 'EXECUTE', target: /^[\x20-\x7e]{0,64}$/.test(name) ? name || '(unnamed)' : undefined };
  }
  if (type === 'E' || type === 'D' || type === 'C' || type === 'H') return { method: 'EXECUTE' };
  if (type === 'S') return { method: 'SYNC' };
  if (type === 'F') return { method: 'FUNCTION CALL' };
  return null;
}

/** A startup message: [length][protocol 3.0] then name\0value\0 pairs up to an empty name. Only the database and the
 *  user are shown (`STARTUP db=tenant_b user=app`); other parameters (options, application_name) never. Without a
 *  database the server takes the user's name, and so does this; a name cut off by the end of the kept bytes is `?`. */
function startup(text: Buffer): RequestDescription {
  const len = text.readUInt32BE(0);
  const end = Math.min(text.length, len);
  const params = new Map<string, string>();
  let at = 8;
  while (at < end && text[at] !== 0) {
    const k = text.indexOf(0, at);
    const v = k >= 0 ? text.indexOf(0, k + 1) : -1;
    if (v < 0 || v >= end) break;
    params.set(text.toString('latin1', at, k), text.toString('utf8', k + 1, v));
    at = v + 1;
  }
  const whole = at < end && text[at] === 0; // reached the list's end within the kept bytes
  const name = (s: string | undefined) => (s !== undefined && /^[^\x00-\x1f\x7f]{1,63}$/.test(s) ? s : '?');
  const user = params.get('user');
  const db = params.get('database') || (whole ? user : undefined);
  return { method: 'STARTUP', target: `db=${name(db)} user=${name(user)}` };
}

function statement(text: Buffer, start: number, end: number): RequestDescription | null {
  const sql = sqlText(text, start, end);
  if (!sql) return null;
  const verb = sqlVerb(sql);
  return verb ? { method: verb, target: normalizeSql(sql) } : null;
}

/** A PostgreSQL error's status as the kernel packs it (l7/postgres.c pg_sqlstate): a flag bit, then the
 *  SQLSTATE's five characters of [0-9A-Z], 6 bits each. */
const SQLSTATE_FLAG = 0x80000000;
const SQLSTATE_CHARS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** The SQLSTATE ('42P01') of a packed error status, or null when the status is not one. */
export function sqlstateOf(status: number): string | null {
  if (!(status & SQLSTATE_FLAG)) return null;
  let s = '';
  for (let k = 4; k >= 0; k--) {
    const d = Math.floor(status / 2 ** (6 * k)) & 63;
    if (d >= SQLSTATE_CHARS.length) return null;
    s += SQLSTATE_CHARS[d];
  }
  return s;
}
