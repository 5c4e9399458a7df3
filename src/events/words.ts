// Kernel records read as 32-bit words in place, through a Uint32Array over the batch's memory.
// A number above 2^31 (a network namespace inode, a boot-time nanosecond count) returned from a
// read helper that V8 does not inline is a new heap number; an element load from a typed array in
// the decoding function is not, and reads a word in one step instead of four byte loads.
// Words are in the kernel's host order, and every layout is read as little-endian: the kernel side
// builds for x86-64 and arm64 only (src/kernel/syscall_buf.h).

export const TWO32 = 4294967296;

export class WordView {
  private of: ArrayBufferLike | null = null;
  private words: Uint32Array | null = null;

  /**
   * The words of b's memory when b[at] starts one, else null; the word at
   * b[at + k] is `[(b.byteOffset + at + k) >>> 2]`. The view is made again whenever b's memory is
   * another (the loader makes a new Buffer when it moves its batch memory): an old one is never read.
   */
  at(b: Buffer, at: number): Uint32Array | null {
    if ((b.byteOffset + at) & 3) return null;
    if (this.of !== b.buffer) {
      this.of = b.buffer;
      this.words = new Uint32Array(b.buffer, 0, b.buffer.byteLength >>> 2);
    }
    return this.words;
  }
}
