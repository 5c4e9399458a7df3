// Request capture (L7) as a capture of the probe engine: its programs load
// only while it is on, and its collector starts once they are attached.
import type { EngineExtension, KernelAccess } from '../native/capture.js';
import { CAPTURE_PROGRAMS, CAPTURE_SWITCHES } from '../config/defaults.js';
import { L7Collector, L7_PROGRAMS, l7MapSizes, type L7Options } from './collector.js';

export class L7Capture implements EngineExtension {
  readonly programs = CAPTURE_PROGRAMS.l7;
  readonly kernelSwitch = CAPTURE_SWITCHES.l7;
  collector: L7Collector | null = null;
  unavailableReason: string | null = 'not attached';

  constructor(private readonly opts: L7Options) {}

  /** Closed sockets' last counts are read before connection events: a connection's close then finds them in,
   *  and its requests go to its edge as it ends (no stand-in kept for a count still to come). */
  get leadingRings(): string[] { return this.collector ? ['l7_final'] : []; }

  mapSizes(): Record<string, number> {
    return l7MapSizes(this.opts);
  }

  attach(k: KernelAccess): void {
    if (!k.probes.some((p) => p.ok && L7_PROGRAMS.includes(p.program))) {
      this.unavailableReason = 'its probes did not attach';
      return;
    }
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
