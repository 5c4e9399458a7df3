import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { relaxHeapGrowth } from './heap.js';

// A child started as the launcher starts the agent churns through objects that outlive a scavenge (like
// connections under connection-per-request load) and counts V8's full collections.
const CHURN = (relax: boolean) => `
  const { relaxHeapGrowth } = await import(${JSON.stringify(fileURLToPath(new URL('./heap.js', import.meta.url)))});
  const { PerformanceObserver, constants } = await import('node:perf_hooks');
  if (${relax}) relaxHeapGrowth();
  let major = 0;
  new PerformanceObserver((l) => { for (const e of l.getEntries()) if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) major++; }).observe({ entryTypes: ['gc'] });
  const live = [];
  for (let i = 0; i < 3e6; i++) { live.push({ id: i, name: 'c' + i }); if (live.length > 3e5) live.splice(0, 1e5); }
  await new Promise((r) => setTimeout(r, 50));
  console.log(major);`;

const majorCollections = (relax: boolean) =>
  Number(execFileSync(process.execPath, ['--max-semi-space-size=4', '--heap-growing-percent=30', '--input-type=module', '-e', CHURN(relax)], { encoding: 'utf8' }).trim());

test('relaxHeapGrowth hands the old generation back to V8 only when a fixed growth was set', () => {
  assert.equal(relaxHeapGrowth(['--max-semi-space-size=4']), false);
  assert.equal(relaxHeapGrowth([]), false);
});

test('after relaxHeapGrowth, the same churn takes fewer full collections than with --heap-growing-percent=30', () => {
  const tight = majorCollections(false), relaxed = majorCollections(true);
  assert.ok(relaxed < tight, `full collections: ${tight} with 30% growth, ${relaxed} after relaxing`);
});
