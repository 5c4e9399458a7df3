// PostgreSQL request of a sample: the Query or Parse statement, normalised;
// Bind/Execute of an already prepared statement shows its name.
import type { RequestDescription } from '../types.js';
import { normalizeSql, sqlText, sqlVerb } from '../sql.js';

export function describePostgres(text: Buffer): RequestDescription | null {
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
