// The DNS collector: turns the kernel's DNS records into query/answer
// transactions, a per-namespace name map and per-client health. It shares
// the probe engine's BPF object (engine.use(collector)); the graph asks it
// for names of remote addresses and for client -> resolver edges.
//
//   records -> segments -> messages (assemble) -> parse -> match -> transactions
//                                                                  -> name map, health, listeners
import type { EngineExtension, KernelAccess } from '../native/capture.js';
import { DnsRecordDecoder, type DnsSegment } from '../events/dns-decode.js';
import { DNS_CONFIG, DNS_CONFIG_PORTS, DNS_CONFIG_SIZE, DNS_DATA_MAX, DNS_EVENT_SIZE, DnsLoss } from '../events/dns-layout.js';
import { perCpuSum, type Clock } from '../events/decode.js';
import { CAPTURE_PROGRAMS, CAPTURE_SWITCHES, DNS_DEFAULTS } from '../config/defaults.js';
import { MessageAssembler, type WireMessage } from './assemble.js';
import { parseDnsMessage, isMalformed, emptyMessage, type DnsMessage } from './parse.js';
import { QueryMatcher } from './matcher.js';
import { NameMap, type ClientHint } from './name-map.js';
import { HealthTable, defaultClientKey, type ClientKey } from './health.js';
import type { DnsCollectorStats, DnsHealth, DnsNameBinding, DnsTransaction } from './types.js';

export type DnsOptions = typeof DNS_DEFAULTS;

export interface DnsCollectorOptions extends Partial<DnsOptions> {
  /** Groups health by client: the graph passes its node id; default: cgroup, netns and command. */
  clientKey?: ClientKey;
  /** How often timeouts are swept (ms). */
  sweepIntervalMs?: number;
}

export class DnsCollector implements EngineExtension {
  readonly programs = CAPTURE_PROGRAMS.dns;
  readonly kernelSwitch = CAPTURE_SWITCHES.dns;
  /** Answers are read before the connections that follow them, so those are placed named. */
  readonly leadingRings = ['dns_events'];
  readonly options: DnsOptions;
  private kernel: KernelAccess | null = null;
  private clock: Clock | null = null;
  private decoder: DnsRecordDecoder | null = null;
  private decoderClock: Clock | null = null;
  /** Every record is decoded into this one object (the assembler copies what it keeps). */
  private segment = {} as DnsSegment;
  private readonly assembler: MessageAssembler;
  private readonly matcher: QueryMatcher;
  private readonly names: NameMap;
  private readonly health: HealthTable;
  private listeners = new Set<(t: DnsTransaction) => void>();
  private timer: NodeJS.Timeout | null = null;
  private available = false;
  private reason: string | null = 'not attached';
  private finalLosses: number[] | null = null;
  private finalLoaderMalformed = 0;
  private counts = { records: 0, queries: 0, responses: 0, transactions: 0, unmatched: 0, timeouts: 0, consumerErrors: 0 };
  private malformed = new Map<string, number>();
  private lastErrorLog = 0;
  private processingNs = 0n;

  constructor(private readonly opts: DnsCollectorOptions = {}) {
    this.options = { ...DNS_DEFAULTS, ...opts };
    if (this.options.ports.length < 1 || this.options.ports.length > DNS_CONFIG_PORTS) throw new Error(`DNS ports: give 1 to ${DNS_CONFIG_PORTS} ports`);
    if (this.options.captureBytes < 12 || this.options.captureBytes > DNS_DATA_MAX) throw new Error(`DNS capture bytes must be 12 to ${DNS_DATA_MAX}`);
    this.assembler = new MessageAssembler(this.options);
    this.matcher = new QueryMatcher((t) => this.onTransaction(t), this.options);
    this.names = new NameMap(this.options);
    this.health = new HealthTable(opts.clientKey ?? defaultClientKey, this.options);
  }

  // ---- kernel side (EngineExtension) ----

  mapSizes(): Record<string, number> {
    return { dns_events: this.options.ringbufBytes, dns_peers: this.options.peerMapEntries, dns_mmsg: this.options.mmsgMapEntries };
  }

  /** Loaded is attached: the capture runs inside the connection probes' send and receive programs
   *  (src/kernel/sock_io.c), which the engine requires. */
  attach(kernel: KernelAccess): void {
    this.kernel = kernel;
    this.clock = kernel.clock;
    // Batches in one reused Buffer (no copy, no allocation per batch): ingest reads records during the call, and
    // the assembler copies the bytes of a message it must keep for a later record.
    kernel.native.poll(kernel.handle, 'dns_events', DNS_EVENT_SIZE, (buf, count) => {
      const t0 = process.hrtime.bigint();
      this.ingest(buf, count);
      this.processingNs += process.hrtime.bigint() - t0;
    }, kernel.drainDelayMs, true);
    kernel.native.updateMap(kernel.handle, 'dns_config', Buffer.alloc(4), this.configValue(true));
    this.available = true;
    this.reason = null;
    this.startSweeping();
  }

  unavailable(reason: string): void {
    this.reason = reason;
  }

  detach(): void {
    if (!this.kernel) return;
    try {
      this.finalLosses = this.kernelLosses();
      this.finalLoaderMalformed = this.loaderMalformed();
      this.kernel.native.updateMap(this.kernel.handle, 'dns_config', Buffer.alloc(4), this.configValue(false));
    } catch { /* closing anyway */ }
    this.kernel = null;
    this.stopSweeping();
  }

  private configValue(enabled: boolean): Buffer {
    const v = Buffer.alloc(DNS_CONFIG_SIZE);
    v.writeUInt32LE(enabled ? 1 : 0, DNS_CONFIG.enabled);
    v.writeUInt32LE(this.options.captureBytes, DNS_CONFIG.capture_bytes);
    v.writeUInt32LE(this.options.maxRecordsPerSecPerCpu, DNS_CONFIG.max_records_per_sec);
    this.options.ports.forEach((p, i) => v.writeUInt16LE(p, DNS_CONFIG.ports + 2 * i));
    return v;
  }

  private kernelLosses(): number[] {
    if (!this.kernel) return this.finalLosses ?? new Array(DnsLoss.MAX).fill(0);
    const m = this.kernel.native.readMap(this.kernel.handle, 'dns_losses');
    const out: number[] = [];
    for (let i = 0; i < DnsLoss.MAX; i++) out.push(perCpuSum(m, i));
    return out;
  }

  private loaderMalformed(): number {
    return this.kernel ? this.kernel.native.stats(this.kernel.handle).rings['dns_events'] ?? 0 : this.finalLoaderMalformed;
  }

  private startSweeping(): void {
    this.timer = setInterval(() => this.sweep(), this.opts.sweepIntervalMs ?? 1000);
    this.timer.unref();
  }

  private stopSweeping(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  // ---- records -> transactions ----

  /** Takes a batch of dh_dns_event records (the ring buffer callback; tests may call it with records they built). */
  ingest(buf: Buffer, count: number, clock: Clock | null = this.clock): void {
    if (!clock) throw new Error('DnsCollector.ingest: no clock (attach first, or pass one)');
    if (!this.decoder || this.decoderClock !== clock) {
      this.decoder = new DnsRecordDecoder(clock);
      this.decoderClock = clock;
    }
    for (let i = 0; i < count; i++) {
      this.counts.records++;
      this.assembler.push(this.decoder.decode(buf, i * DNS_EVENT_SIZE, this.segment), this.onMessage);
    }
  }

  /** Queries are parsed into this one object: the matcher copies what it keeps of them. */
  private readonly queryScratch: DnsMessage = emptyMessage();

  private readonly onMessage = (w: WireMessage): void => {
    // QR (the top bit of the flags' first byte): an answer's objects outlive the call, a query's do not.
    const isQuery = w.captured > 2 && (w.buf[w.off + 2] & 0x80) === 0;
    const msg = parseDnsMessage(w.buf, w.off, w.captured, w.complete, undefined, isQuery ? this.queryScratch : undefined);
    if (isMalformed(msg)) {
      this.malformed.set(msg, (this.malformed.get(msg) ?? 0) + 1);
      return;
    }
    // Direction says who spoke: a client socket sends queries and receives answers.
    if (w.seg.dir === 'send' && !msg.response) { this.counts.queries++; this.matcher.query(w, msg); }
    else if (w.seg.dir === 'recv' && msg.response) { this.counts.responses++; this.matcher.answer(w, msg); }
    else this.malformed.set('unexpected-direction', (this.malformed.get('unexpected-direction') ?? 0) + 1);
  };

  private onTransaction(t: DnsTransaction): void {
    this.counts.transactions++;
    if (t.outcome === 'timeout') this.counts.timeouts++;
    if (t.outcome === 'unmatched') this.counts.unmatched++;
    this.names.record(t);
    this.health.record(t);
    for (const fn of this.listeners) {
      try { fn(t); } catch (e) {
        this.counts.consumerErrors++;
        if (Date.now() - this.lastErrorLog > 60_000) {
          this.lastErrorLog = Date.now();
          console.error(`dhrishti: error in a DNS listener (${this.counts.consumerErrors} so far): ${(e as Error).stack ?? e}`);
        }
      }
    }
  }

  /** Times out unanswered queries now (runs every second while attached). */
  sweep(now = Date.now()): void {
    this.matcher.sweep(now);
  }

  // ---- what the graph, the API and `trace --dns` use ----

  /** Every transaction as it completes (answered, timed out, or unmatched). Returns an unsubscribe function. */
  onTransactionDone(fn: (t: DnsTransaction) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The name of a remote address seen from a namespace, preferring what `client` itself resolved. */
  nameFor(netns: number, address: string, client?: ClientHint): DnsNameBinding | null {
    return this.names.lookup(netns, address, client);
  }

  /** Every live name of an address in a namespace, most recent first. */
  namesOf(netns: number, address: string): DnsNameBinding[] {
    return this.names.bindings(netns, address);
  }

  /** The addresses of a name's latest answer in a namespace. */
  addressesOf(netns: number, name: string): string[] {
    return this.names.addressesOf(netns, name);
  }

  /** Call when a network namespace is gone (its container stopped): its inode may be reused. */
  forgetNamespace(netns: number): void {
    this.names.forgetNamespace(netns);
  }

  /** DNS health of every client -> resolver pair (an edge on the map). */
  resolverEdges(now = Date.now()): DnsHealth[] {
    return this.health.list(now);
  }

  isAvailable(): boolean {
    return this.available;
  }

  /** Why its programs are not running (the kernel's refusal, or not attached yet); null while they run. */
  get unavailableReason(): string | null {
    return this.reason;
  }

  stats(): DnsCollectorStats {
    const k = this.kernelLosses();
    const loaderMalformed = this.loaderMalformed();
    const lost = {
      ringbufFull: k[DnsLoss.RINGBUF_FULL], rateLimited: k[DnsLoss.RATE_LIMITED], noSyscall: k[DnsLoss.NO_SYSCALL],
      readFault: k[DnsLoss.READ_FAULT], segments: k[DnsLoss.SEGMENTS], mmsgMapFull: k[DnsLoss.MMSG_MAP_FULL],
      loaderMalformed, tcpDesync: this.assembler.desync, reassemblyEvicted: this.assembler.evicted, total: 0,
    };
    lost.total = Object.values(lost).reduce((a, b) => a + b, 0);
    const byReason = Object.fromEntries(this.malformed);
    return {
      available: this.available,
      reason: this.reason,
      records: this.counts.records,
      queries: this.counts.queries,
      responses: this.counts.responses,
      transactions: this.counts.transactions,
      unmatchedResponses: this.counts.unmatched,
      timeouts: this.counts.timeouts,
      pendingQueries: this.matcher.pendingCount,
      pendingEvicted: this.matcher.pendingEvicted,
      malformed: { total: Object.values(byReason).reduce((a, b) => a + b, 0), byReason },
      lost,
      nameMap: { ...this.names.size, evictions: this.names.evictions, nameEvictions: this.names.nameEvictions },
      health: { ...this.health.size, evictions: this.health.evictions },
      consumerErrors: this.counts.consumerErrors,
      processingMs: Number(this.processingNs / 1000n) / 1000,
    };
  }
}
