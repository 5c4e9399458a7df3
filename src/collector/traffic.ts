// For consumers that show every counter change with its socket's description
// (`dhrishti trace`, tests): joins each counter update to the socket's latest
// event, as a full 'traffic' event. The graph needs none of this.
import type { ConnEvent } from '../events/types.js';
import type { BatchListener, ProbeEngine } from './engine.js';

export function withTraffic(engine: ProbeEngine, fn: BatchListener): void {
  /** Latest event per open socket: its tuple once established, its owner once named. */
  const last = new Map<number, ConnEvent>();
  engine.onEvents((events) => {
    for (const e of events) {
      if (e.type === 'close') last.delete(e.cookie);
      else if (e.cookie && e.type !== 'listen' && e.type !== 'listen_close') last.set(e.cookie, { ...e }); // events are reused by the engine
    }
    fn(events);
  });
  engine.onCounters((updates, time) => {
    const out: ConnEvent[] = [];
    for (const u of updates) {
      const d = last.get(u.cookie);
      if (!d) continue;
      out.push({
        ...d, type: 'traffic', time, bytesSent: u.bytesSent, bytesReceived: u.bytesReceived, retransmits: u.retransmits,
        srttUs: u.srttUs || d.srttUs, pid: u.pid || d.pid, oldState: 0, newState: 0,
      });
    }
    if (out.length) fn(out);
  });
}
