// `dhrishti trace --dns`: DNS queries and their answers live, one line per
// query once it is answered or times out (or NDJSON).
import { ProbeEngine } from '../../collector/engine.js';
import { DnsCollector } from '../../dns/collector.js';
import type { DnsTransaction } from '../../dns/types.js';
import { onShutdown, shutdown } from '../lifecycle.js';
import { DNS_DEFAULTS } from '../../config/defaults.js';

export interface DnsTraceOptions {
  json?: boolean;
  duration?: number;
  pid?: number;
  ringbufBytes?: number;
  dnsPorts?: number[];
}

const COLUMNS: [string, number][] = [
  ['TIME', 12], ['PID', 7], ['COMM', 15], ['RESOLVER', 22], ['PROTO', 5], ['TYPE', 5], ['NAME', 36], ['RCODE', 9], ['LAT_MS', 8], ['ANSWERS', 0],
];

const pad = (s: string, w: number) => (w === 0 ? s : s.length >= w ? s.slice(0, w) : s + ' '.repeat(w - s.length));
const endpoint = (a: string, p: number) => (a.includes(':') ? `[${a}]:${p}` : `${a}:${p}`);

export function dnsRow(t: DnsTransaction): string {
  const answers = [...t.cnames.map((c) => `CNAME ${c}`), ...t.addresses].join(', ') + (t.truncated ? ' (truncated)' : '');
  const result = t.outcome === 'timeout' ? 'TIMEOUT' : t.rcode ?? '';
  const cells = [
    new Date(t.time).toISOString().slice(11, 23), t.client.pid ? String(t.client.pid) : '-', t.client.comm || '-',
    t.resolver.address ? endpoint(t.resolver.address, t.resolver.port) : '?', t.transport, t.type, t.name || '-',
    result, t.latencyMs === null ? '' : t.latencyMs.toFixed(2), answers,
  ];
  return cells.map((c, i) => pad(c, COLUMNS[i][1])).join(' ').trimEnd();
}

export function runDnsTrace(opts: DnsTraceOptions): void {
  const engine = new ProbeEngine({ ringbufBytes: opts.ringbufBytes, discover: false, l7: false });
  const dns = new DnsCollector(opts.dnsPorts ? { ports: opts.dnsPorts } : {});
  engine.use(dns);
  const out = process.stdout;
  let shown = 0;
  dns.onTransactionDone((t) => {
    if (opts.pid && t.client.pid !== opts.pid) return;
    out.write((opts.json ? JSON.stringify(t) : dnsRow(t)) + '\n');
    shown++;
  });
  const report = () => {
    const s = dns.stats();
    return `dhrishti trace --dns: ${shown} queries shown (${s.timeouts} timed out, ${s.unmatchedResponses} answers without a seen query, ` +
      `${s.pendingQueries} awaiting an answer); ${s.malformed.total} malformed, ${s.lost.total} lost ` +
      `(ring buffer full: ${s.lost.ringbufFull}, rate-limited: ${s.lost.rateLimited}, unreadable: ${s.lost.noSyscall + s.lost.readFault})`;
  };
  onShutdown(() => {
    engine.flush();
    const line = report();
    engine.stop();
    console.error(line);
  });
  try {
    engine.start();
  } catch (e) {
    console.error(`dhrishti trace --dns: ${(e as Error).message}`);
    process.exit(1);
  }
  if (!dns.isAvailable()) {
    console.error(`dhrishti trace --dns: ${dns.stats().reason}; run: dhrishti doctor`);
    process.exit(1);
  }
  // The header says the probes are listening; stderr says so too, as the other traces do (and with --json).
  console.error(`dhrishti trace --dns: tracing DNS on port${(opts.dnsPorts ?? DNS_DEFAULTS.ports).length > 1 ? 's' : ''} ${(opts.dnsPorts ?? DNS_DEFAULTS.ports).join(', ')} and Docker's embedded resolver; Ctrl-C to stop`);
  if (!opts.json) out.write(COLUMNS.map(([h, w]) => pad(h, w)).join(' ').trimEnd() + '\n');
  let lastLost = 0;
  const watch = setInterval(() => {
    const lost = dns.stats().lost.total;
    if (lost > lastLost) console.error(`dhrishti trace --dns: warning: ${lost - lastLost} DNS records lost in the last second (total ${lost})`);
    lastLost = lost;
  }, 1000);
  watch.unref();
  if (opts.duration) setTimeout(() => void shutdown(0), opts.duration * 1000);
}
