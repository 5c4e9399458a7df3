// What a capture sharing the connection probes' BPF object (L7, DNS) is given
// and must provide. Here, below both the engine and the captures, so neither
// imports the other's module to agree on it.
import type { AttachResult, Handle, NativeLoader } from './index.js';
import type { Clock } from '../events/decode.js';
import type { ConnEvent } from '../events/types.js';

/** What a capture sharing the engine's BPF object gets once it is loaded: the loader and the object itself. */
export interface KernelAccess {
  readonly native: NativeLoader;
  readonly handle: Handle;
  readonly clock: Clock;
  /** Every program the engine attached, the capture's own among them. */
  readonly probes: AttachResult[];
  /** The delay its ring buffers should be drained with (native.poll), as the engine's own. */
  readonly drainDelayMs: number;
}

/**
 * A capture in the same BPF object as the connection probes (L7, DNS): its
 * programs load only while it is in use, and if the kernel rejects them the
 * object loads without them, so the connection map never depends on a capture.
 */
export interface EngineExtension {
  /** Its kernel programs, by name or 'prefix*' (CAPTURE_PROGRAMS). */
  readonly programs: readonly string[];
  /** Its load-time constant (CAPTURE_SWITCHES): 0 leaves its code out of the programs it shares. */
  readonly kernelSwitch: string;
  /**
   * Its ring buffers to drain before each batch of connection events is
   * handled: what they carry (DNS answers naming addresses) is then known when
   * the connections that followed are placed, whichever ring woke first.
   */
  readonly leadingRings?: readonly string[];
  /** Sizes of its maps, set before load. */
  mapSizes(): Record<string, number>;
  /** The object is loaded and attached: start reading. */
  attach(kernel: KernelAccess): void;
  /** Its programs were left out of the object (why, for the user). */
  unavailable(reason: string): void;
  /** A batch of connection events, decoded, before any consumer sees it: what the capture's own state changes in them. */
  decoded?(events: ConnEvent[]): void;
  /** Called at the end of each engine flush (periodic map reads). */
  flush?(): void;
  /** The object is about to close: last chance to drain and read. */
  detach?(): void;
}
