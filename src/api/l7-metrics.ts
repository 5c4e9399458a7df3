// Request capture (L7) on /metrics: requests put on the map, and every request,
// sample or socket it lost or left out, by reason. Absent when L7 is off.
import client from 'prom-client';
import { counterFromTotals } from './prom.js';
import type { L7Telemetry } from '../agent/agent.js';

/** Loss reasons as /metrics names them, read from the telemetry. */
const LOSSES: [string, (t: L7Telemetry) => number | undefined][] = [
  ['socket_map_full', (t) => t.losses?.socketMapFull],
  ['samples_over_rate', (t) => t.losses?.samplesOverRate],
  ['samples_ringbuf_full', (t) => t.losses?.samplesRingbufFull],
  ['skipped_io', (t) => t.losses?.skippedIo],
  ['desync', (t) => t.losses?.desync],
  ['inflight_full', (t) => t.losses?.inflightFull],
  ['tls_unmatched', (t) => t.losses?.tlsUnmatched],
  ['step_limit', (t) => t.losses?.stepLimit],
  ['final_ringbuf_full', (t) => t.losses?.finalRingbufFull],
  ['samples_malformed', (t) => t.samples?.malformed],
  ['samples_unparsed', (t) => t.samples?.unparsed],
  ['unplaced_requests', (t) => t.graph.unplacedRequests],
  ['unplaced_samples', (t) => t.graph.unplacedSamples],
  ['consumer_errors', (t) => t.consumerErrors],
];

export function registerL7Metrics(reg: client.Registry, read: () => L7Telemetry): void {
  const gauge = (name: string, help: string, labelNames: string[], fill: (g: client.Gauge, t: L7Telemetry) => void) =>
    new client.Gauge({ name, help, labelNames, registers: [reg], collect() { this.reset(); const t = read(); if (t.enabled) fill(this, t); } });
  new client.Gauge({
    name: 'dhrishti_l7_enabled', help: 'Request capture (L7) runs: 1, or 0 (dhrishti_l7_unavailable says why)', registers: [reg],
    collect() { this.set(read().enabled ? 1 : 0); },
  });
  // Running totals are counters; each reads the telemetry once per scrape and reports nothing while L7 is off.
  const counter = (name: string, help: string, labelNames: string[], values: (t: L7Telemetry) => [Record<string, string>, number][]) =>
    counterFromTotals(reg, name, help, labelNames, () => { const t = read(); return t.enabled ? values(t) : []; });
  counter('dhrishti_l7_requests_total', 'Requests counted on the map\'s edges (all protocols)', [], (t) => [[{}, t.graph.requests]]);
  gauge('dhrishti_l7_sockets', 'Sockets whose requests the kernel aggregates now', [], (g, t) => g.set(t.sockets ?? 0));
  counter('dhrishti_l7_samples_total', 'Samples of failed and slow requests received from the kernel', [], (t) => [[{}, t.samples?.samples ?? 0]]);
  counter('dhrishti_l7_lost_total', 'Requests, samples and bytes request capture lost or left out, by reason', ['reason'],
    (t) => LOSSES.map(([reason, f]) => [{ reason }, f(t) ?? 0]));
  counter('dhrishti_l7_server_sockets_left_to_client_total',
    'Server sockets not parsed, or no longer, because their client on this host parses the same requests (the count the map keeps); one forgotten by the kernel\'s LRU and seen again counts again', [],
    (t) => [[{}, t.tallies?.leftToClient ?? 0]]);
  counter('dhrishti_l7_redis_long_replies_total',
    'Redis replies with more values than one pass walks: not walked further, each ended by its client\'s next request or the close', [],
    (t) => [[{}, t.tallies?.longReplies ?? 0]]);
  gauge('dhrishti_l7_tls_files', 'Files (libssl, executables) mapped by live processes: probed, skipped (limit reached, probed when a target frees) or failed', ['state'], (g, t) => {
    if (!t.tls) return;
    g.set({ state: 'probed' }, t.tls.attached);
    g.set({ state: 'skipped' }, t.tls.skipped);
    g.set({ state: 'failed' }, t.tls.failed);
  });
  counter('dhrishti_l7_tls_targets_total',
    'TLS targets (files with OpenSSL) attached, detached once no live process mapped them, and found over the limit (tlsMaxTargets)', ['event'],
    (t) => t.tls ? [[{ event: 'attached' }, t.tls.attachedTotal], [{ event: 'detached' }, t.tls.detachedTotal], [{ event: 'skipped' }, t.tls.skippedTotal]] : []);
  // The reason is a label on a 0 when off, so a scraper sees why.
  new client.Gauge({
    name: 'dhrishti_l7_unavailable', help: 'Request capture is off: 1 with the reason', labelNames: ['reason'], registers: [reg],
    collect() { this.reset(); const t = read(); if (!t.enabled) this.set({ reason: t.unavailable ?? 'off' }, 1); },
  });
}
