// `dhrishti trace`: connection events live, as a table (like tcplife) or NDJSON.
import type { Command } from 'commander';
import { ProbeEngine } from '../../collector/engine.js';
import type { ConnEvent, EventType } from '../../events/types.js';
import { positiveInt, positiveNumber, port, ringbufBytes } from '../options.js';
import { onShutdown, shutdown } from '../lifecycle.js';
import { DEFAULTS } from '../../config/defaults.js';
import { runDnsTrace } from './trace-dns.js';

const ALL_TYPES: EventType[] = ['connect', 'established', 'traffic', 'close', 'listen', 'listen_close', 'existing'];

interface TraceOptions {
  json?: boolean;
  duration?: number;
  pid?: number;
  port?: number;
  types: string;
  ringbufBytes?: number;
  dns?: boolean;
}

const COLUMNS: [string, number][] = [
  ['TIME', 12], ['EVENT', 11], ['PID', 7], ['COMM', 15], ['ROLE', 6], ['LOCAL', 28], ['REMOTE', 28],
  ['TX_KB', 9], ['RX_KB', 9], ['RTT_MS', 7], ['RETR', 5], ['DUR_MS', 8], ['RESULT', 12],
];

const pad = (s: string, w: number) => (s.length >= w ? s.slice(0, w) : s + ' '.repeat(w - s.length));
const endpoint = (a: string, p: number, fam: 4 | 6) => (fam === 6 ? `[${a}]:${p || '*'}` : `${a}:${p || '*'}`);
const kb = (n: number) => (n / 1024).toFixed(1);

function row(e: ConnEvent): string {
  const t = new Date(e.time).toISOString().slice(11, 23);
  const dur = e.type === 'close' && e.startTime ? (e.time - e.startTime).toFixed(1) : '';
  const result = e.failure ?? (e.type === 'close' ? (e.established ? 'ok' : '') : '');
  const cells = [t, e.type, e.pid ? String(e.pid) : '-', e.comm || '-', e.role, endpoint(e.saddr, e.sport, e.family),
    endpoint(e.daddr, e.dport, e.family), kb(e.bytesSent), kb(e.bytesReceived), (e.srttUs / 1000).toFixed(2),
    String(e.retransmits), dur, result];
  return cells.map((c, i) => pad(c, COLUMNS[i][1])).join(' ').trimEnd();
}

export function registerTrace(program: Command): void {
  program
    .command('trace')
    .description('stream TCP connection events (or, with --dns, DNS queries and answers) from the kernel as they happen')
    .option('--json', 'one JSON object per line instead of a table')
    .option('--duration <seconds>', 'stop after this many seconds', positiveNumber('--duration'))
    .option('--pid <pid>', 'only connections owned by this process', positiveInt('--pid'))
    .option('--port <port>', 'only connections with this local or remote port', port)
    .option('--types <list>', `event types to show (${ALL_TYPES.join(',')})`, ALL_TYPES.join(','))
    .option('--ringbuf-bytes <n>', `kernel ring buffer size (default ${DEFAULTS.ringbufBytes})`, ringbufBytes)
    .option('--dns', 'DNS queries and their answers instead of connections (time, process, resolver, name, type, rcode, latency, answers)')
    .action((opts: TraceOptions) => (opts.dns ? runDnsTrace(opts) : runTrace(opts)));
}

function runTrace(opts: TraceOptions): void {
  const types = new Set(opts.types.split(',').map((s) => s.trim()));
  const unknown = [...types].filter((t) => !ALL_TYPES.includes(t as EventType));
  if (unknown.length) {
    console.error(`dhrishti trace: unknown event type ${unknown.join(', ')}; choose from ${ALL_TYPES.join(', ')}`);
    process.exit(2);
  }
  const engine = new ProbeEngine({ ringbufBytes: opts.ringbufBytes, discover: types.has('existing') || types.has('listen') });
  let shown = 0;
  const out = process.stdout;
  if (!opts.json) out.write(COLUMNS.map(([h, w]) => pad(h, w)).join(' ').trimEnd() + '\n');
  engine.onEvents((events) => {
    let text = '';
    for (const e of events) {
      if (!types.has(e.type)) continue;
      if (opts.pid && e.pid !== opts.pid) continue;
      if (opts.port && e.sport !== opts.port && e.dport !== opts.port) continue;
      text += (opts.json ? JSON.stringify(e) : row(e)) + '\n';
      shown++;
    }
    if (text) out.write(text);
  });
  let lastLost = 0;
  const report = () => {
    const s = engine.stats();
    return `dhrishti trace: ${shown} events shown, ${s.lost.total} lost (ring buffer full: ${s.lost.ringbufFull}, connection table full: ${s.lost.connMapFull}, malformed: ${s.lost.malformed})`;
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
    console.error(`dhrishti trace: ${(e as Error).message}`);
    process.exit(1);
  }
  const watch = setInterval(() => {
    const lost = engine.stats().lost.total;
    if (lost > lastLost) console.error(`dhrishti trace: warning: ${lost - lastLost} events lost in the last second (total ${lost}); a larger --ringbuf-bytes helps`);
    lastLost = lost;
  }, 1000);
  watch.unref();
  if (opts.duration) setTimeout(() => void shutdown(0), opts.duration * 1000);
}
