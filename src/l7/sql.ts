// SQL statements for samples: literals become ?, comments and runs of blanks
// go, and the result is cut to a bounded length. Never throws.

export const SQL_MAX_CHARS = 200;

/**
 * Whose quoting rules apply. MySQL (its default sql_mode) reads "…" as a string, honours backslash escapes in every
 * string and has # comments; PostgreSQL keeps "…" for identifiers and escapes only in E'…'. Read wrongly, a
 * literal would be kept.
 */
export type SqlDialect = 'postgres' | 'mysql';

/** Replaces string, numeric and bit/hex literals with ?, keeps identifiers, keywords and $n parameters. */
export function normalizeSql(sql: string, dialect: SqlDialect = 'postgres', max = SQL_MAX_CHARS): string {
  let out = '';
  let i = 0;
  const n = sql.length;
  const mysql = dialect === 'mysql';
  const isIdent = (c: string) => /[A-Za-z0-9_$]/.test(c);
  while (i < n && out.length <= max) {
    const c = sql[i];
    const next = sql[i + 1];
    if ((c === '-' && next === '-') || (mysql && c === '#')) { // line comment
      while (i < n && sql[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && next === '*') { // block comment
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
      continue;
    }
    const prefixed = (c === 'E' || c === 'e' || c === 'B' || c === 'b' || c === 'X' || c === 'x' || c === 'N' || c === 'n') && next === "'" && !isIdent(sql[i - 1] ?? ' ');
    if (c === "'" || (mysql && c === '"') || prefixed) {
      const q = prefixed ? "'" : c;
      const escapes = mysql || prefixed;
      i += prefixed ? 2 : 1;
      while (i < n) {
        if (sql[i] === '\\' && escapes) { i += 2; continue; }
        if (sql[i] === q) {
          if (sql[i + 1] === q) { i += 2; continue; }
          i++;
          break;
        }
        i++;
      }
      out += '?';
      continue;
    }
    if (!mysql && c === '$' && (next === '$' || /[A-Za-z_]/.test(next ?? ''))) { // dollar-quoted string: $tag$...$tag$
      const m = /^\$[A-Za-z_0-9]*\$/.exec(sql.slice(i, i + 64));
      if (m) {
        const end = sql.indexOf(m[0], i + m[0].length);
        i = end < 0 ? n : end + m[0].length;
        out += '?';
        continue;
      }
    }
    if (c === '"' || c === '`') { // quoted identifier (MySQL's "…" is a string, above): kept
      const end = sql.indexOf(c, i + 1);
      const stop = end < 0 ? n : end + 1;
      out += sql.slice(i, stop);
      i = stop;
      continue;
    }
    if (/[0-9]/.test(c) && !isIdent(sql[i - 1] ?? ' ')) {
      if (c === '0' && (next === 'x' || next === 'X')) i += 2;
      while (i < n && /[0-9A-Fa-f._eE]/.test(sql[i])) {
        if ((sql[i] === 'e' || sql[i] === 'E') && (sql[i + 1] === '-' || sql[i + 1] === '+')) i++;
        i++;
      }
      out += '?';
      continue;
    }
    if (/\s/.test(c)) {
      if (out.length && !out.endsWith(' ')) out += ' ';
      i++;
      continue;
    }
    out += c;
    i++;
  }
  out = out.trim();
  return out.length > max ? out.slice(0, max - 1) + '…' : out;
}

/** The statement's first keyword, upper-cased (SELECT, INSERT, ...), or null. */
export function sqlVerb(sql: string): string | null {
  const m = /^\s*(?:\/\*.*?\*\/\s*)*([A-Za-z]+)/s.exec(sql);
  return m ? m[1].toUpperCase() : null;
}

/** Text of a byte range that should be SQL: printable, UTF-8; null if it is not. */
export function sqlText(buf: Buffer, start: number, end: number): string | null {
  if (start >= end || start < 0) return null;
  const nul = buf.indexOf(0, start);
  const stop = nul >= 0 && nul < end ? nul : end;
  const s = buf.toString('utf8', start, stop);
  let bad = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 9 && c !== 10 && c !== 13) || c === 0xfffd) bad++;
  }
  return s.length && bad * 10 <= s.length ? s : null;
}
