// `dhrishti trace`: connection events live, as a table (like tcplife) or NDJSON.
import type { Command } from 'commander';
import fs from 'node:fs';
import { hostPort } from '../../events/address.js';
import { ProbeEngine } from '../../collector/engine.js';
import { withTraffic } from '../../collector/traffic.js';
import type { ConnEvent, EventType } from '../../events/types.js';
import { positiveInt, positiveNumber, port, portList, ringbufBytes } from '../options.js';
import { DNS_CONFIG_PORTS } from '../../events/dns-layout.js';
import { onShutdown, shutdown } from '../lifecycle.js';
import { DEFAULTS, DNS_DEFAULTS, L7_DEFAULTS } from '../../config/defaults.js';
import { addL7Options, l7OptionsFrom, type L7Flags } from '../l7-options.js';
import type { L7Sample } from '../../l7/types.js';
import { runDnsTrace } from './trace-dns.js';

const ALL_TYPES: EventType[] = ['connect', 'established', 'traffic', 'close', 'listen', 'listen_close', 'existing'];

interface TraceOptions extends L7Flags {
  json?: boolean;
  duration?: number;
  pid?: number;
  port?: number;
  types?: string;
  ringbufBytes?: number;
  dns?: boolean;
  dnsPorts?: number[];
}

const REQUEST_COLUMNS: [string, number][] = [
  ['TIME', 12], ['PID', 7], ['COMM', 15], ['ROLE', 7], ['PEER', 28], ['PROTO', 8], ['METHOD', 8], ['TARGET', 40], ['STATUS', 13], ['LAT_MS', 9],
];

interface Peer { local: number; remote: string; port: number }

/** One request as a table row (exported for its unit test). */
export function requestRow(r: L7Sample, peer: Peer | undefined): string {
  const t = new Date(r.time).toISOString().slice(11, 23);
  const status = r.reasons.includes('no-response') ? 'NO-RESPONSE' : r.reasons.includes('abandoned') ? 'ABANDONED' : r.protocol === 'http1' || (r.protocol === 'http2' && /^[1-5]xx$/.test(r.statusClass)) ? String(r.status) : r.statusClass === 'error' ? `ERR${r.code ? (r.code === 'ERR' ? '' /* Redis' generic error: not "ERR ERR" */ : ` ${r.code}`) : r.status > 1 ? ` ${r.status}` : ''}` : r.statusClass === 'other' ? '?' : 'OK';
  const target = (r.target ?? (r.method ? '' : '(not kept)')).replace(/\s+/g, ' ');
  const cells = [t, String(r.pid), r.comm || '-', r.role, peer ? `${peer.remote}:${peer.port}` : '-', r.protocol + (r.tls ? '+tls' : ''),
    r.method ?? '-', target, status, r.latencyMs.toFixed(2)];
  return cells.map((c, i) => pad(c, REQUEST_COLUMNS[i][1])).join(' ').trimEnd();
}

const COLUMNS: [string, number][] = [
  ['TIME', 12], ['EVENT', 11], ['PID', 7], ['COMM', 15], ['ROLE', 7], ['LOCAL', 28], ['REMOTE', 28],
  ['TX_KB', 9], ['RX_KB', 9], ['RTT_MS', 7], ['RETR', 5], ['DUR_MS', 8], ['RESULT', 12],
];

const pad = (s: string, w: number) => (s.length >= w ? s.slice(0, w) : s + ' '.repeat(w - s.length));
const endpoint = (a: string, p: number) => hostPort(a, p || '*');
const kb = (n: number) => (n / 1024).toFixed(1);

/** One connection event as a table row. A listener found at start-up says so: it did not just begin to listen. */
export function row(e: ConnEvent): string {
  const t = new Date(e.time).toISOString().slice(11, 23);
  const dur = e.type === 'close' && e.startTime ? (e.time - e.startTime).toFixed(1) : '';
  const result = e.failure ?? (e.type === 'close' ? (e.established ? 'ok' : '') : e.type === 'listen' && e.midflight ? 'before start' : '');
  const cells = [t, e.type, e.pid ? String(e.pid) : '-', e.comm || '-', e.role, endpoint(e.saddr, e.sport),
    endpoint(e.daddr, e.dport), kb(e.bytesSent), kb(e.bytesReceived), (e.srttUs / 1000).toFixed(2),
    String(e.retransmits), dur, result];
  return cells.map((c, i) => pad(c, COLUMNS[i][1])).join(' ').trimEnd();
}

/**
 * A server's connection is established in the kernel's softirq, before any process accepts it, so its event has no
 * pid. The process listening on its local port owns it: the listeners seen so far (at start-up and since) fill it in.
 */
export class ListenerOwners {
  private byPort = new Map<number, { pid: number; comm: string }>();

  /** Notes a listen event's owner; fills a server event with no owner from its port's listener. */
  fill(e: ConnEvent): ConnEvent {
    if (e.type === 'listen') {
      if (e.pid) this.byPort.set(e.sport, { pid: e.pid, comm: e.comm });
      return e;
    }
    if (e.type === 'listen_close') {
      if (this.byPort.get(e.sport)?.pid === e.pid) this.byPort.delete(e.sport);
      return e;
    }
    if (e.pid || e.role !== 'server') return e;
    const l = this.byPort.get(e.sport);
    return l ? { ...e, pid: l.pid, comm: l.comm } : e;
  }
}

export function registerTrace(program: Command): void {
  const cmd = program
    .command('trace')
    .description('stream TCP connection events (or, with --dns, DNS queries and answers) from the kernel as they happen')
    .option('--json', 'one JSON object per line instead of a table')
    .option('--duration <seconds>', 'stop after this many seconds', positiveNumber('--duration'))
    .option('--pid <pid>', 'only connections owned by this process', positiveInt('--pid', DEFAULTS.pidMax))
    .option('--port <port>', 'only connections with this local or remote port', port)
    .option('--types <list>', `event types to show (${ALL_TYPES.join(',')}; default all, none with --l7)`)
    .option('--ringbuf-bytes <n>', `kernel ring buffer size (default ${DEFAULTS.ringbufBytes})`, ringbufBytes)
    .option('--l7', 'print requests as they complete, one line each (HTTP, HTTP/2, gRPC, PostgreSQL, MySQL, Redis)')
    .option('--dns', 'DNS queries and their answers instead of connections (time, process, resolver, name, type, rcode, latency, answers)')
    .option('--dns-ports <list>', `with --dns: ports DNS is read on, 1 to ${DNS_CONFIG_PORTS} (default ${DNS_DEFAULTS.ports.join(',')})`, portList('--dns-ports', DNS_CONFIG_PORTS));
  addL7Options(cmd, true).action((opts: TraceOptions) => {
    // A pid that may come later is still followed; one that is not there now is said, so an empty trace is not a mystery.
    if (opts.pid && !fs.existsSync(`/proc/${opts.pid}`)) console.error(`dhrishti trace: warning: no process ${opts.pid} runs now; nothing is shown unless one starts with that pid`);
    if (opts.dns) {
      // DNS is its own stream: options of the connection and request streams would be silently ignored
      const other = (['port', 'types', 'l7'] as const).filter((k) => opts[k] !== undefined && opts[k] !== false);
      if (other.length) {
        console.error(`dhrishti trace: --dns cannot be combined with ${other.map((k) => `--${k}`).join(', ')} (it filters by --pid only)`);
        process.exit(2);
      }
      return runDnsTrace(opts);
    }
    if (opts.dnsPorts) {
      console.error('dhrishti trace: --dns-ports goes with --dns');
      process.exit(2);
    }
    if (opts.types !== undefined && !opts.types.split(',').some((t) => t.trim())) {
      console.error(`dhrishti trace: --types is empty; choose from ${ALL_TYPES.join(', ')}`);
      process.exit(2);
    }
    runTrace(opts);
  });
}

function runTrace(opts: TraceOptions): void {
  const types = new Set((opts.types ?? (opts.l7 ? '' : ALL_TYPES.join(','))).split(',').map((s) => s.trim()).filter(Boolean));
  const unknown = [...types].filter((t) => !ALL_TYPES.includes(t as EventType));
  if (unknown.length) {
    console.error(`dhrishti trace: unknown event type ${unknown.join(', ')}; choose from ${ALL_TYPES.join(', ')}`);
    process.exit(2);
  }
  // Requests: every request is a sample in the kernel (still rate-limited); without --l7 none is captured.
  const engine = new ProbeEngine({ ringbufBytes: opts.ringbufBytes, discover: types.size > 0, /* listeners at start-up name a server connection's process */ l7: opts.l7 ? l7OptionsFrom(opts, true) : false });
  let shown = 0, requests = 0;
  const out = process.stdout;
  if (!opts.json && types.size) out.write(COLUMNS.map(([h, w]) => pad(h, w)).join(' ').trimEnd() + '\n');
  if (!opts.json && opts.l7) out.write(REQUEST_COLUMNS.map(([h, w]) => pad(h, w)).join(' ').trimEnd() + '\n');
  const peers = new Map<number, Peer>();
  // A request may be read before its connection's events (closed sockets' counts and samples are read first),
  // so one whose peer is not known yet waits for the next batch of events, or about PEER_WAIT_MS.
  const waiting: { r: L7Sample; at: number }[] = [];
  const { tracePeerWaitMs: PEER_WAIT_MS, traceMaxWaiting: MAX_WAITING } = L7_DEFAULTS;
  /** A connection's peer from its events, else (one older than the trace, not read yet) from the kernel's entry. */
  const peerOf = (cookie: number): Peer | undefined => {
    const known = peers.get(cookie);
    if (known) return known;
    const e = engine.connection(cookie);
    if (!e?.dport) return undefined;
    const p = { local: e.sport, remote: e.family === 6 ? `[${e.daddr}]` : e.daddr, port: e.dport };
    peers.set(cookie, p);
    return p;
  };
  const printRequests = (list: L7Sample[], now: number) => {
    let text = '';
    for (const r of list) {
      if (opts.pid && r.pid !== opts.pid) continue;
      const peer = peerOf(r.cookie);
      if (!peer && waiting.length < MAX_WAITING) { waiting.push({ r, at: now }); continue; }
      text += requestLine(r, peer);
    }
    if (text) out.write(text);
  };
  const releaseWaiting = (now: number, all: boolean) => {
    if (!waiting.length) return;
    let text = '';
    const keep = waiting.filter((w) => {
      const peer = peers.get(w.r.cookie);
      if (!peer && !all && now - w.at < PEER_WAIT_MS) return true;
      text += requestLine(w.r, peer);
      return false;
    });
    waiting.splice(0, waiting.length, ...keep);
    if (text) out.write(text);
  };
  /** A request's line (printRequests has applied --pid); '' when --port leaves it out. */
  const requestLine = (r: L7Sample, peer: Peer | undefined): string => {
    if (opts.port && peer?.port !== opts.port && peer?.local !== opts.port) return '';
    requests++;
    return (opts.json ? JSON.stringify({ ...r, peer: peer ? `${peer.remote}:${peer.port}` : null }) : requestRow(r, peer)) + '\n';
  };
  engine.onEvents((events) => {
    for (const e of events) {
      if (!opts.l7 || !e.cookie) continue;
      if (e.dport) peers.set(e.cookie, { local: e.sport, remote: e.family === 6 ? `[${e.daddr}]` : e.daddr, port: e.dport });
      if (e.type === 'close') { const k = e.cookie; setTimeout(() => peers.delete(k), 2000).unref(); } // samples may trail the close (the event object is reused by then)
    }
    releaseWaiting(Date.now(), false);
  });
  const owners = new ListenerOwners();
  withTraffic(engine, (events) => {
    let text = '';
    for (const raw of events) {
      const e = owners.fill(raw);
      if (!types.has(e.type)) continue;
      if (opts.pid && e.pid !== opts.pid) continue;
      if (opts.port && e.sport !== opts.port && e.dport !== opts.port) continue;
      // JSON keeps null for a start not seen (the event's 0, kept numeric for the decoder's sake)
      text += (opts.json ? JSON.stringify({ ...e, startTime: e.startTime || null }) : row(e)) + '\n';
      shown++;
    }
    if (text) out.write(text);
  });
  let lastLost = 0;
  onShutdown(() => {
    engine.flush();
    const s = engine.stats(), l = engine.l7?.losses() ?? null; // read while the maps are open
    engine.stop(); // drains every ring once more
    releaseWaiting(Date.now(), true);
    let line = `dhrishti trace: ${shown} events shown, ${s.lost.total} lost (ring buffer full: ${s.lost.ringbufFull}, connection table full: ${s.lost.connMapFull}, malformed: ${s.lost.malformed}, probe runs skipped: ${s.lost.probeSkipped})`;
    if (l) line += `; ${requests} requests shown, ${l.samplesOverRate} over --l7-sample-rate, ${l.samplesRingbufFull} dropped by a full ring buffer`;
    console.error(line);
  });
  let attached = 0;
  try {
    attached = engine.start().filter((p) => p.ok).length;
  } catch (e) {
    console.error(`dhrishti trace: ${(e as Error).message}`);
    process.exit(1);
  }
  if (opts.l7 && !engine.l7) console.error(`dhrishti trace: requests cannot be captured here: ${engine.l7Unavailable}`);
  console.error(`dhrishti trace: tracing${opts.l7 && engine.l7 ? ' requests' : ''} (${attached} probes attached); Ctrl-C to stop`);
  engine.l7?.onSamples((samples) => printRequests(samples, Date.now()));
  const release = setInterval(() => releaseWaiting(Date.now(), false), PEER_WAIT_MS / 5);
  release.unref();
  const watch = setInterval(() => {
    const lost = engine.stats().lost.total;
    if (lost > lastLost) console.error(`dhrishti trace: warning: ${lost - lastLost} events lost in the last second (total ${lost}); a larger --ringbuf-bytes helps`);
    lastLost = lost;
  }, 1000);
  watch.unref();
  if (opts.duration) setTimeout(() => void shutdown(0), opts.duration * 1000);
}
