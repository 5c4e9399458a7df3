// Collects events from a real ProbeEngine and waits for the ones a test expects.
import { ProbeEngine, type EngineOptions } from '../../src/collector/engine.js';
import { withTraffic } from '../../src/collector/traffic.js';
import type { ConnEvent } from '../../src/events/types.js';

export class EventLog {
  readonly engine: ProbeEngine;
  readonly events: ConnEvent[] = [];
  private waiters: { pred: (e: ConnEvent) => boolean; resolve: (e: ConnEvent) => void }[] = [];

  constructor(opts: EngineOptions = {}) {
    this.engine = new ProbeEngine({ flushIntervalMs: 200, ...opts });
    // Counter updates joined to their socket's latest event, as `dhrishti trace` shows them.
    withTraffic(this.engine, (batch) => {
      for (const live of batch) {
        const e = { ...live };
        this.events.push(e);
        for (const w of [...this.waiters]) if (w.pred(e)) { this.waiters.splice(this.waiters.indexOf(w), 1); w.resolve(e); }
      }
    });
  }

  start(): this { this.engine.start(); return this; }
  stop(): void { this.engine.stop(); }

  find(pred: (e: ConnEvent) => boolean): ConnEvent | undefined { return this.events.find(pred); }
  filter(pred: (e: ConnEvent) => boolean): ConnEvent[] { return this.events.filter(pred); }

  /** Resolves with the first event (past or future) matching pred. */
  waitFor(pred: (e: ConnEvent) => boolean, what: string, ms = 10000): Promise<ConnEvent> {
    const seen = this.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
      this.waiters.push({ pred, resolve: (e) => { clearTimeout(t); resolve(e); } });
    });
  }
}
