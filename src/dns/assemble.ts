// Puts DNS messages back together from captured segments. UDP: a datagram is
// usually one segment; one spread over several iovec entries arrives as
// several, joined here. TCP: a stream of 2-byte length prefixes and messages,
// read or written in any pieces (glibc writes [length, message] with writev
// and reads the length, then the message). The kernel copies at most a few
// hundred bytes of each piece: a message with a missing tail is still
// returned (incomplete) so its question and first answers count; a missing
// length prefix loses the stream's framing, which is counted and the stream
// dropped. Everything held here is bounded.
import { LRUCache } from 'lru-cache';
import type { DnsSegment } from '../events/dns-decode.js';
import { DNS_DEFAULTS } from '../config/defaults.js';

/** Passed to `out` and reused for the next message: read it during the call, keep only what you copy. */
export interface WireMessage {
  /** The segment that started the message: time, socket, process, peer (reused like the message). */
  seg: DnsSegment;
  /** The captured bytes are buf[off, off + captured): possibly a view into a batch, valid during the call. */
  buf: Buffer;
  off: number;
  captured: number;
  /** Length of the message on the wire. */
  length: number;
  /** Every byte of it was captured. */
  complete: boolean;
}

export interface AssemblerLimits { maxTcpStreams: number; maxMessageBytes: number; maxPartialMessages: number }

/** What a kept segment points to instead of its batch (its bytes are copied into chunks). */
const EMPTY = Buffer.alloc(0);

interface PartialMessage { seg: DnsSegment; chunks: Buffer[]; captured: number; complete: boolean }

interface Stream {
  /** Bytes of the length prefix seen so far (0-2) and its first byte. */
  prefixBytes: number;
  prefixHigh: number;
  /** Message bytes still to come, 0 between messages. */
  need: number;
  length: number;
  msg: PartialMessage | null;
  broken: boolean;
}

export class MessageAssembler {
  /** Streams whose framing was lost, and partial messages or streams pushed out by the bounds. */
  desync = 0;
  evicted = 0;
  private partials: LRUCache<string, PartialMessage>;
  private wire = {} as WireMessage;
  private streams: LRUCache<string, Stream>;

  constructor(private readonly limits: AssemblerLimits = DNS_DEFAULTS) {
    const onEvict = (_v: unknown, _k: string, reason: LRUCache.DisposeReason) => { if (reason === 'evict') this.evicted++; };
    this.partials = new LRUCache<string, PartialMessage>({ max: limits.maxPartialMessages, dispose: onEvict });
    this.streams = new LRUCache<string, Stream>({ max: limits.maxTcpStreams, dispose: onEvict });
  }

  /** Feeds one segment; calls `out` for each message it completes. */
  push(seg: DnsSegment, out: (m: WireMessage) => void): void {
    if (seg.tcp) this.pushStream(seg, out);
    else this.pushDatagram(seg, out);
  }

  private pushDatagram(seg: DnsSegment, out: (m: WireMessage) => void): void {
    const whole = seg.cap === seg.segLen && !seg.readFault;
    if (seg.segOff === 0 && seg.last) {
      const w = this.wire;
      w.seg = seg; w.buf = seg.buf; w.off = seg.dataOff; w.captured = seg.cap; w.length = seg.msgLen; w.complete = whole && seg.segLen === seg.msgLen;
      out(w);
      return;
    }
    const key = `${seg.cookie}:${seg.tid}:${seg.dir}:${seg.msgIndex}`;
    let p = this.partials.get(key);
    if (seg.segOff === 0 || !p) {
      if (seg.segOff !== 0) return; // its first segment was lost: nothing to join it to
      p = { seg: { ...seg, buf: EMPTY }, chunks: [], captured: 0, complete: true };
      this.partials.set(key, p);
    }
    this.append(p, seg.buf.subarray(seg.dataOff, seg.dataOff + seg.cap), seg.segLen, whole);
    if (seg.last) {
      this.partials.delete(key);
      this.emit(p, seg.msgLen, out);
    }
  }

  /** Copies what fits of data into the message (segments are views into a batch). */
  private append(p: PartialMessage, data: Buffer, wireLen: number, whole: boolean): void {
    const room = this.limits.maxMessageBytes - p.captured;
    const take = Math.min(room, data.length);
    if (take > 0) { p.chunks.push(Buffer.from(data.subarray(0, take))); p.captured += take; }
    if (!whole || take < wireLen) p.complete = false;
  }

  private emit(p: PartialMessage, length: number, out: (m: WireMessage) => void): void {
    const data = p.chunks.length === 1 ? p.chunks[0] : Buffer.concat(p.chunks);
    const w = this.wire;
    w.seg = p.seg; w.buf = data; w.off = 0; w.captured = data.length; w.length = length; w.complete = p.complete && p.captured === length;
    out(w);
  }

  private pushStream(seg: DnsSegment, out: (m: WireMessage) => void): void {
    const key = `${seg.cookie}:${seg.dir}`;
    let s = this.streams.get(key);
    if (!s) { s = { prefixBytes: 0, prefixHigh: 0, need: 0, length: 0, msg: null, broken: false }; this.streams.set(key, s); }
    if (s.broken) return;
    const known = seg.readFault ? 0 : seg.cap;
    const data = seg.buf.subarray(seg.dataOff, seg.dataOff + known);
    let i = 0;
    while (i < seg.segLen) {
      if (s.need === 0) {
        if (i >= known) { s.broken = true; this.desync++; return; } // a length prefix we did not see
        const byte = data[i++];
        if (s.prefixBytes === 0) { s.prefixHigh = byte; s.prefixBytes = 1; continue; }
        s.prefixBytes = 0;
        s.need = s.length = (s.prefixHigh << 8) | byte;
        s.msg = { seg: { ...seg, buf: EMPTY }, chunks: [], captured: 0, complete: true };
        continue;
      }
      const take = Math.min(s.need, seg.segLen - i);
      const have = Math.max(0, Math.min(take, known - i));
      this.append(s.msg!, data.subarray(i, i + have), take, have === take);
      s.need -= take;
      i += take;
      if (s.need === 0) {
        const m = s.msg!;
        s.msg = null;
        this.emit(m, s.length, out);
      }
    }
  }

  get size(): { partials: number; streams: number } {
    return { partials: this.partials.size, streams: this.streams.size };
  }
}
