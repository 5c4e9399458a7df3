import { EdgeMetrics } from './dist/src/export/edge-metrics.js';
import { exposition } from './dist/src/export/exposition.js';
import { HISTOGRAM_BOUNDS } from './dist/src/config/defaults.js';
const FAIL = ['refused','timeout','reset','unreachable','aborted'];
const nodes = [{ id: 'proc:node', kind: 'process', label: 'node', group: 'host', instances: [], ips: [], firstSeen: 0, lastSeen: 0, active: 0 }];
const edges = [];
for (let i = 0; i < 2000; i++) {
  const rtt = new Array(HISTOGRAM_BOUNDS.rttUs.length + 1).fill(0); rtt[1] = 1;
  const dur = new Array(HISTOGRAM_BOUNDS.durationMs.length + 1).fill(0); dur[0] = 1;
  edges.push({ id: `proc:node|proc:node|${30000+i}|tcp`, source: 'proc:node', target: 'proc:node', port: 30000 + i, protocol: 'tcp',
    connections: { opened: 1, active: 0, closed: 1, failed: 0, failedBy: Object.fromEntries(FAIL.map((r) => [r, 0])) },
    bytes: { sent: 100, received: 0 }, rtt: { meanUs: 50, p95Us: 50, samples: 1 }, retransmits: 0, duration: { meanMs: 1, p95Ms: 1, samples: 1 },
    firstSeen: 1, lastSeen: 1, rates: { '10s': { connections: 0, failures: 0, bytesSent: 0, bytesReceived: 0 }, '1m': { connections: 0, failures: 0, bytesSent: 0, bytesReceived: 0 } },
    histograms: { rttUs: { bounds: HISTOGRAM_BOUNDS.rttUs, counts: rtt, sum: 50 }, durationMs: { bounds: HISTOGRAM_BOUNDS.durationMs, counts: dur, sum: 1 } } });
}
const g = { generatedAt: 0, nodes, edges };
const m = new EdgeMetrics({ host: 'h', topEdges: 5000 });
const tot = { c: 0, u: 0, e: 0, b: 0 };
for (let i = 0; i < 30; i++) {
  let c = process.cpuUsage(); const clone = structuredClone(g); let d = process.cpuUsage(c); if (i >= 10) tot.c += d.user + d.system;
  c = process.cpuUsage(); const r = m.update(clone); d = process.cpuUsage(c); if (i >= 10) tot.u += d.user + d.system;
  c = process.cpuUsage(); const txt = exposition(r.families); d = process.cpuUsage(c); if (i >= 10) tot.e += d.user + d.system;
  c = process.cpuUsage(); Buffer.from(txt); d = process.cpuUsage(c); if (i >= 10) tot.b += d.user + d.system;
}
for (const k in tot) tot[k] = (tot[k] / 20 / 1000).toFixed(1);
console.log('cpu ms per scrape: clone', tot.c, 'update', tot.u, 'exposition', tot.e, 'buffer', tot.b);
