// The process's own series (prom-client's defaults: CPU, memory, event loop, GC) for the agent and the hub,
// with two of prom-client's figures set right.
import client from 'prom-client';
import { DEFAULTS } from '../config/defaults.js';

const LAG_FROM_HISTOGRAM = ['min', 'max', 'mean', 'p50', 'p90', 'p99'];

export function collectProcessMetrics(reg: client.Registry, prefix: string): void {
  const before = process.cpuUsage();
  client.collectDefaultMetrics({ register: reg, prefix, eventLoopMonitoringPrecision: DEFAULTS.eventLoopSampleMs });
  addStartupCpu(reg, prefix, before);
  lagWithoutResolution(reg, prefix, DEFAULTS.eventLoopSampleMs / 1000);
}

/**
 * prom-client counts CPU from its registration on: for the agent that is after the probes loaded, ~2 s below
 * /proc/<pid>/stat for good. The time used before is added once, so the counters read as the kernel's.
 */
function addStartupCpu(reg: client.Registry, prefix: string, before: NodeJS.CpuUsage): void {
  const add = (name: string, micros: number) => (reg.getSingleMetric(`${prefix}${name}`) as client.Counter | undefined)?.inc(micros / 1e6);
  add('process_cpu_user_seconds_total', before.user);
  add('process_cpu_system_seconds_total', before.system);
  add('process_cpu_seconds_total', before.user + before.system);
}

/**
 * monitorEventLoopDelay times a timer of `resolution` and records each whole interval, so an idle loop read
 * 0.1 s of lag (min 0.0993 with a 100 ms sample). The resolution is taken off each figure it is in (never below
 * 0; stddev has no offset).
 */
function lagWithoutResolution(reg: client.Registry, prefix: string, resolutionSec: number): void {
  for (const what of LAG_FROM_HISTOGRAM) {
    const g = reg.getSingleMetric(`${prefix}nodejs_eventloop_lag_${what}_seconds`) as client.Gauge | undefined;
    if (!g) continue;
    const set = g.set.bind(g) as (labels: client.LabelValues<string>, value: number) => void;
    // prom-client's event-loop collector sets these gauges with (labels, value) at each scrape.
    g.set = ((labels: client.LabelValues<string> | number, value?: number) => {
      if (typeof labels === 'number') set({}, Math.max(0, labels - resolutionSec));
      else set(labels, Math.max(0, (value ?? 0) - resolutionSec));
    }) as typeof g.set;
  }
}
