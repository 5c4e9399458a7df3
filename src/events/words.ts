// Kernel records read as 32-bit words in place, through a Uint32Array over the batch's memory.
// A number above 2^31 (a network namespace inode, a boot-time nanosecond count) returned from a
// read helper that V8 does not inline is a new heap number; an element load from a typed array in
// the decoding function is not, and reads a word in one step instead of four byte loads.
// Words are in the kernel's host order, and every layout is read as little-endian: the kernel side
// builds for x86-64 and arm64 only (src/kernel/syscall_buf.h).

export const TWO32 = 4294967296;

const NONE = new Uint32Array(0);

export class WordView {
  /** The words of the memory of the Buffer last given to index(). */
  words: Uint32Array = NONE;
  private of: ArrayBufferLike | null = null;
  /**
   * The last Buffer given, and its byteOffset: the loader hands over the same Buffer batch after batch,
   * and reading a Buffer's `buffer` or `byteOffset` is a call into the runtime each time (7 a connection).
   */
  private last: Buffer | null = null;
  private base = 0;

  /**
   * The index in `words` of the word at b[at], or -1 when b[at] does not start one. The view is made
   * again whenever b's memory is another (the loader makes a new Buffer when it moves its batch memory).
   */
  index(b: Buffer, at: number): number {
    if (b !== this.last) {
      this.last = b;
      this.base = b.byteOffset;
      if (this.of !== b.buffer) {
        this.of = b.buffer;
        this.words = new Uint32Array(b.buffer, 0, b.buffer.byteLength >>> 2);
      }
    }
    const x = this.base + at;
    return x & 3 ? -1 : x >>> 2;
  }
}
