// Typed face of the N-API addon (loader.c). Nothing but the binding lives here.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import { NATIVE_ADDON_PATH } from '../config/defaults.js';

export interface AttachResult { program: string; section: string; ok: boolean; error?: string }
export interface MapContents { keySize: number; valueSize: number; count: number; keys: Buffer; values: Buffer }
export type Handle = { readonly __brand: 'bpf-object' };

export interface NativeLoader {
  open(objectPath: string, mapSizes: Record<string, number>): Handle;
  attach(h: Handle): AttachResult[];
  /** Delivers records in batches; with delayMs, waits that long after the first record of a burst. Once per ring buffer map. */
  poll(h: Handle, ringbufMap: string, recordSize: number, onBatch: (buf: Buffer, count: number) => void, delayMs?: number): void;
  /** Writes one map entry; key and value must have the map's sizes. */
  updateMap(h: Handle, name: string, key: Buffer, value: Buffer): void;
  drain(h: Handle): void;
  /** With `into` buffers big enough for the whole map, reads into them (no allocation). */
  readMap(h: Handle, name: string, keysInto?: Buffer, valuesInto?: Buffer): MapContents;
  stats(h: Handle): { malformed: number; rings: Record<string, number> };
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
