// Request capture (L7) as a capture of the probe engine: its programs load
// only while it is on, and its collector starts once they are attached.
import type { EngineExtension, KernelAccess } from '../native/capture.js';
import { CAPTURE_PROGRAMS, CAPTURE_SWITCHES } from '../config/defaults.js';
import { L7Collector, l7MapSizes, type L7Options } from './collector.js';
import type { ConnEvent } from '../events/types.js';

export class L7Capture implements EngineExtension {
  readonly programs = CAPTURE_PROGRAMS.l7;
  readonly kernelSwitch = CAPTURE_SWITCHES.l7;
  collector: L7Collector | null = null;
  unavailableReason: string | null = 'not attached';

  constructor(private readonly opts: L7Options) {}

  /** Samples, and the last counts of closed sockets that did not come with their close (l7_final), are read
   *  before connection events: a connection's close then finds them in, and its requests go to its edge as it
   *  ends (no stand-in kept for a count still to come). */
  get leadingRings(): string[] { return this.collector ? ['l7_samples', 'l7_final'] : []; }

  /** A close's request counts (ConnEvent.requests) are the socket's totals: made a delta of what was not reported yet. */
  decoded(events: ConnEvent[]): void {
    this.collector?.closing(events);
  }

  mapSizes(): Record<string, number> {
    return l7MapSizes(this.opts);
  }

  /** Called only when the object loaded with its code in the send, receive and close programs (kernelSwitch). */
  attach(k: KernelAccess): void {
    this.collector = new L7Collector(k.native, k.handle, k.clock, this.opts);
    this.collector.start(k.drainDelayMs);
    this.unavailableReason = null;
  }

  unavailable(reason: string): void {
    this.unavailableReason = reason;
  }

  flush(): void {
    this.collector?.flush();
  }

  detach(): void {
    this.collector?.stop();
  }
}
