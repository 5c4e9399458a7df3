// Typed face of the N-API addon (loader.c). Nothing but the binding lives here.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import { NATIVE_ADDON_PATH } from '../config/defaults.js';

/** What a process needs to load and attach the probes; said wherever loading is refused for want of it. */
export const PRIVILEGE_HINT = 'run as root or grant CAP_BPF,CAP_PERFMON (e.g. docker run --cap-add BPF --cap-add PERFMON; CAP_SYS_ADMIN also works)';

export interface AttachResult { program: string; section: string; ok: boolean; error?: string }
export interface MapContents { keySize: number; valueSize: number; count: number; keys: Buffer; values: Buffer }
export type Handle = { readonly __brand: 'bpf-object' };

export interface NativeLoader {
  /**
   * Loads the object; programs named in skipPrograms (or matching a 'prefix*' there) are left out (not loaded,
   * not attached); load-time settings (`const volatile` globals) are set first.
   */
  open(objectPath: string, mapSizes: Record<string, number>, skipPrograms?: string[], consts?: Record<string, number>): Handle;
  /** Attaches every program except uprobes and those named in exclude. */
  attach(h: Handle, exclude?: string[]): AttachResult[];
  /** Attaches a uprobe program to a symbol of an ELF file, for every process that maps it; `link` names it for detachLinks. */
  attachUprobe(h: Handle, program: string, path: string, symbol: string, retprobe: boolean): { ok: boolean; link?: number; error?: string };
  /** Closes links attachUprobe returned, all at once (each close waits for an RCU grace period); returns how many were open. */
  detachLinks(h: Handle, links: number[]): number;
  updateMap(h: Handle, name: string, key: Buffer, value: Buffer): void;
  /** Reads one element into `value`; false when the key is absent. */
  lookupMap(h: Handle, name: string, key: Buffer, value: Buffer): boolean;
  /** Deletes the first `count` keys of `keys`; returns how many existed. */
  deleteKeys(h: Handle, name: string, keys: Buffer, count: number): number;
  /** Delivers records in batches; with delayMs, waits that long after the first record of a burst. Once per ring buffer map. */
  poll(h: Handle, ringbufMap: string, recordSize: number, onBatch: (buf: Buffer, count: number) => void, delayMs?: number,
    /** Every batch in one reused Buffer over the loader's memory (no copy): read it during the call only. */
    reuseBuffer?: boolean): void;
  /** Consumes what is pending now: every ring buffer, or only the one named. */
  drain(h: Handle, ringbufMap?: string): void;
  /** With `into` buffers big enough for the whole map, reads into them (no allocation). */
  readMap(h: Handle, name: string, keysInto?: Buffer, valuesInto?: Buffer): MapContents;
  /**
   * Records skipped for a wrong size (in all, and per ring buffer map), each loaded program's runs the
   * kernel skipped because it was already running on that CPU (its recursion misses), and the
   * instructions the verifier processed to accept it (`verified`; kernels from 5.16 report them).
   */
  stats(h: Handle): { malformed: number; rings: Record<string, number>; skipped: Record<string, number>; verified: Record<string, number>; runTimeNs: Record<string, number>; runCount: Record<string, number> };
  close(h: Handle): void;
  bootTimeNs(): number;
  numPossibleCpus(): number;
}

let cached: NativeLoader | undefined;

export function loadNative(): NativeLoader {
  if (cached) return cached;
  if (!fs.existsSync(NATIVE_ADDON_PATH)) {
    throw new Error(`native loader not built (${NATIVE_ADDON_PATH}); run: npm run setup`);
  }
  cached = createRequire(import.meta.url)(NATIVE_ADDON_PATH) as NativeLoader;
  return cached;
}
