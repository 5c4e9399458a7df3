// The history store's health on /metrics: its state, corrupt files set aside, flushes by
// result, intervals held in memory and intervals dropped. Absent when history is off.
import client from 'prom-client';
import type { HistoryHealth, HistoryState } from '../graph/types.js';

const STATES: HistoryState[] = ['ok', 'recovered', 'read_only', 'failing', 'unavailable'];

export function registerHistoryMetrics(reg: client.Registry, health: () => HistoryHealth | null): void {
  // Counters read from the store's own totals at scrape time.
  const counter = (name: string, help: string, labelNames: string[], read: (h: HistoryHealth, c: client.Counter) => void) =>
    new client.Counter({ name, help, labelNames, registers: [reg], collect() { const h = health(); this.reset(); if (h) read(h, this); } });
  const gauge = (name: string, help: string, labelNames: string[], read: (h: HistoryHealth, g: client.Gauge) => void) =>
    new client.Gauge({ name, help, labelNames, registers: [reg], collect() { const h = health(); this.reset(); if (h) read(h, this); } });

  gauge('dhrishti_history_state', 'History store state: 1 for the current one (ok, recovered, read_only, failing, unavailable)', ['state'], (h, g) => {
    for (const s of STATES) g.set({ state: s }, s === h.state ? 1 : 0);
  });
  counter('dhrishti_history_corruptions_total', 'Corrupt history files found and moved aside since start', [], (h, c) => c.inc(h.corruptions));
  counter('dhrishti_history_flushes_total', 'History flushes by result: ok, failed (write tried and failed), skipped (read-only or no usable file)', ['result'], (h, c) => {
    c.inc({ result: 'ok' }, h.flushes.ok);
    c.inc({ result: 'failed' }, h.flushes.failed);
    c.inc({ result: 'skipped' }, h.flushes.skipped);
  });
  gauge('dhrishti_history_pending_intervals', 'Intervals whose write failed, held in memory until writes work again', [], (h, g) => g.set(h.pending.intervals));
  counter('dhrishti_history_dropped_total', 'History never written because the in-memory buffer of failed writes was full', ['what'], (h, c) => {
    c.inc({ what: 'intervals' }, h.dropped.intervals);
    c.inc({ what: 'rows' }, h.dropped.rows);
    c.inc({ what: 'events' }, h.dropped.events);
  });
}
