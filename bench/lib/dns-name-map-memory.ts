// Memory of the DNS name map filled past its bound, measured in its own
// process (run with --expose-gc): prints one JSON line.
import { NameMap } from '../../src/dns/name-map.js';
import { DNS_DEFAULTS } from '../../src/config/defaults.js';
import type { DnsTransaction } from '../../src/dns/types.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const capacity = Number(process.argv[2] ?? DNS_DEFAULTS.nameMapEntries);
const map = new NameMap({ ...DNS_DEFAULTS, nameMapEntries: capacity });
const resolver = { address: '127.0.0.53', port: 53, family: 4 as const, dockerEmbedded: false };
const client = { pid: 4242, comm: 'api', cgroupId: 123456, netns: 4026531840, address: '10.0.0.2' };
gc();
const before = process.memoryUsage().heapUsed;
const total = capacity * 2; // twice the bound: the map must stay at it
for (let i = 0; i < total; i++) {
  const name = `svc-${i}.partner-${i % 50}.example.com`;
  const t: DnsTransaction = {
    time: Date.now(), outcome: 'answered', client, clientPort: 40000, resolver, transport: 'udp', id: i & 0xffff, name, type: 'A', rcode: 'NOERROR',
    latencyMs: 1, retransmits: 0, truncated: false, answers: [], ttl: 300,
    cnames: i % 10 === 0 ? [`edge-${i}.cdn.example.net`] : [],
    addresses: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`],
  };
  map.record(t);
}
gc();
const after = process.memoryUsage().heapUsed;
const size = map.size;
process.stdout.write(JSON.stringify({ capacity, recorded: total, addresses: size.addresses, names: size.names, evictions: map.evictions, bytes: after - before }) + '\n');
