// MySQL command of a sample: COM_QUERY / COM_STMT_PREPARE statements
// normalised, COM_STMT_EXECUTE by statement id, other commands by name.
import type { RequestDescription } from '../types.js';
import { normalizeSql, sqlText, sqlVerb } from '../sql.js';

const COMMANDS: Record<number, string> = {
  0x02: 'INIT_DB', 0x04: 'FIELD_LIST', 0x08: 'SHUTDOWN', 0x09: 'STATISTICS', 0x0e: 'PING', 0x11: 'CHANGE_USER',
  0x16: 'PREPARE', 0x17: 'EXECUTE', 0x1a: 'STMT_RESET', 0x1b: 'SET_OPTION', 0x1c: 'STMT_FETCH', 0x1f: 'RESET_CONNECTION',
};

/** The text is a whole packet, or (when the server read the 4-byte header apart) its payload only. */
export function describeMysql(text: Buffer): RequestDescription | null {
  if (text.length >= 5 && text[3] === 0 && (text[0] | (text[1] << 8) | (text[2] << 16)) >= 1 && (text[4] in COMMANDS || text[4] === 0x03)) {
    const len = text[0] | (text[1] << 8) | (text[2] << 16);
    return command(text, 4, Math.min(text.length, 4 + len));
  }
  // payload only: a statement, an EXECUTE with its id, or a one-byte command
  const cmd = text[0];
  if (cmd === 0x03 || cmd === 0x16 || (cmd === 0x17 && text.length >= 5) || (text.length === 1 && cmd in COMMANDS)) return command(text, 0, text.length);
  return null;
}

function command(text: Buffer, at: number, end: number): RequestDescription | null {
  const cmd = text[at];
  if (cmd === 0x03 || cmd === 0x16) {
    const sql = sqlText(text, at + 1, end);
    const verb = sql ? sqlVerb(sql) : null;
    if (!sql || !verb) return null;
    return { method: cmd === 0x03 ? verb : 'PREPARE', target: normalizeSql(sql, 'mysql') };
  }
  if (cmd === 0x17) return end >= at + 5 ? { method: 'EXECUTE', target: `statement ${text.readUInt32LE(at + 1)}` } : { method: 'EXECUTE' };
  const name = COMMANDS[cmd];
  return name ? { method: name } : null;
}
