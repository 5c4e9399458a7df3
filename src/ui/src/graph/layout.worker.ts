// Runs layout steps off the page's thread (see layoutCompute.ts).
import { runStep, type LayoutStep } from './layoutCompute.js';

const scope = self as unknown as { onmessage: ((ev: MessageEvent<{ id: number; step: LayoutStep }>) => void) | null; postMessage(m: unknown): void };

scope.onmessage = (ev) => {
  const { id, step } = ev.data;
  try {
    scope.postMessage({ id, result: runStep(step) });
  } catch (e) {
    scope.postMessage({ id, error: (e as Error).message || String(e) });
  }
};
