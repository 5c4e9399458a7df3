// A process names itself (its command name, its arguments): never trust the
// bytes. Printable ASCII is kept and anything else becomes '?', so a name can
// neither drive a terminal (`trace`) nor break a line of DOT, Mermaid or logs.

export const printableByte = (c: number): number => (c >= 0x20 && c < 0x7f ? c : 0x3f);

/** Bytes [o, o+max) up to the first NUL, as printable text. */
export function printableAt(b: Uint8Array, o: number, max: number): string {
  let s = '';
  for (let i = 0; i < max; i++) {
    const c = b[o + i];
    if (c === 0 || c === undefined) break;
    s += String.fromCharCode(printableByte(c));
  }
  return s;
}

/** The same for text read from /proc: each byte of its UTF-8 as above, so both sources give one name. */
export function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[^\x20-\x7e]/.test(s)) return s;
  const b = Buffer.from(s, 'utf8');
  return printableAt(b, 0, b.length);
}
