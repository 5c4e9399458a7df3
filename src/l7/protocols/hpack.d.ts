// Types for the parts of hpack.js (RFC 7541 decoder) used here.
declare module 'hpack.js' {
  import type { Duplex } from 'node:stream';
  interface Decompressor extends Duplex {
    write(chunk: Buffer): boolean;
    execute(cb?: (err: Error | null) => void): void;
    read(): { name: string; value: string } | null;
  }
  const hpack: { decompressor: { create(opts: { table: { size: number } }): Decompressor } };
  export default hpack;
}
