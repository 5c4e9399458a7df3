// Timeline events: container changes collected between flushes, and each
// flush's events capped by kind so a storm of failures or churn cannot flood
// the table; what is left out is counted in one 'suppressed' event.
import type { ContainerChange } from '../identity/types.js';
import { containerNode } from '../graph/naming.js';
import type { NodeDesc } from './dimensions.js';
import type { EventRecord, Sample } from './sampler.js';
import { failedSample } from '../graph/interval.js';
import type { RequestSample } from '../graph/types.js';
import { HISTORY_DEFAULTS } from '../config/defaults.js';

const CONTAINER_TYPES: Partial<Record<ContainerChange['type'], EventRecord['type']>> = {
  start: 'container_started', stop: 'container_stopped', rename: 'container_renamed',
};

export interface EventLimits {
  failures: number;
  requests: number;
  topology: number;
  container: number;
}

export const DEFAULT_EVENT_LIMITS: EventLimits = {
  failures: HISTORY_DEFAULTS.maxFailureSamplesPerFlush,
  requests: HISTORY_DEFAULTS.maxRequestSamplesPerFlush,
  topology: HISTORY_DEFAULTS.maxTopologyEventsPerFlush,
  container: HISTORY_DEFAULTS.maxContainerEventsPerFlush,
};

export class ContainerEvents {
  private pending: EventRecord[] = [];
  private dropped = 0;

  constructor(private readonly limit = DEFAULT_EVENT_LIMITS.container) {}

  /** For the identity resolver's 'change' event; start, stop and rename are kept. */
  add(c: ContainerChange, now: number): void {
    const type = CONTAINER_TYPES[c.type];
    if (!type) return;
    if (this.pending.length >= this.limit) { this.dropped++; return; }
    const ref = containerNode(c.container);
    const node: NodeDesc = {
      id: ref.id, kind: ref.kind, label: ref.label, group: ref.group, image: ref.image, labels: ref.labels,
      instances: ref.instance ? [ref.instance] : [], ips: ref.instance?.ips ?? [],
    };
    const detail: Record<string, unknown> = { container: c.container.name, containerId: c.container.shortId, image: c.container.image };
    if (c.oldName) detail.oldName = c.oldName;
    if (c.type === 'stop' && c.container.exitCode !== null) detail.exitCode = c.container.exitCode;
    const time = (c.type === 'start' ? c.container.startedAt : c.type === 'stop' ? c.container.stoppedAt : null) ?? now;
    this.pending.push({ time, type, node, detail });
  }

  /** Everything collected since the last call, and how many were left out. */
  drain(): { events: EventRecord[]; dropped: number } {
    const out = { events: this.pending, dropped: this.dropped };
    this.pending = [];
    this.dropped = 0;
    return out;
  }
}

const failedFirst = (r: RequestSample) => (failedSample(r) ? 0 : 1);

/**
 * The request samples a flush writes: failed before slow (what replay's panels are most asked for), and edge by edge
 * in turn, so one noisy edge cannot take every place.
 */
function fairShare(all: Sample['requestSamples'], limit: number): Sample['requestSamples'] {
  const byEdge = new Map<string, Sample['requestSamples']>();
  for (const x of [...all].sort((a, b) => failedFirst(a.sample) - failedFirst(b.sample))) {
    const l = byEdge.get(x.edge.id);
    if (l) l.push(x); else byEdge.set(x.edge.id, [x]);
  }
  const out: Sample['requestSamples'] = [];
  for (let round = 0; out.length < limit && out.length < all.length; round++) {
    // failed ones of every edge first, then the rest, a round at a time
    for (const failed of [true, false]) {
      for (const l of byEdge.values()) {
        const x = l[round];
        if (x && failedSample(x.sample) === failed && out.length < limit) out.push(x);
      }
    }
  }
  return out;
}

/** One flush's events, capped by kind, with a 'suppressed' event when anything was left out. */
export function flushEvents(s: Sample, containers: { events: EventRecord[]; dropped: number }, now: number, limits: EventLimits = DEFAULT_EVENT_LIMITS): EventRecord[] {
  const topology = s.topology.slice(0, limits.topology);
  const failures: EventRecord[] = s.failures.slice(0, limits.failures).map(({ edge, sample }) => ({
    time: sample.time, type: 'failure', edge,
    detail: { reason: sample.reason, error: sample.error, clientPid: sample.clientPid, clientComm: sample.clientComm, clientAddr: sample.clientAddr, serverAddr: sample.serverAddr },
  }));
  // Names a resolver edge failed to resolve in the interval (the failures cap covers both kinds).
  const dnsFailures: EventRecord[] = [];
  let dnsNames = 0;
  for (const r of s.rows) {
    for (const f of r.dns?.failingNames ?? []) {
      dnsNames++;
      if (failures.length + dnsFailures.length < limits.failures) dnsFailures.push({ time: f.lastSeen, type: 'dns_failure', edge: r.edge, detail: { name: f.name, reason: f.reason, count: f.count } });
    }
  }
  const requests: EventRecord[] = fairShare(s.requestSamples, limits.requests)
    .map(({ edge, sample: { time, ...detail } }) => ({ time, type: 'request_sample', edge, detail }));
  const out = [...containers.events, ...topology, ...failures, ...dnsFailures, ...requests];
  const suppressed = {
    failures: s.failures.length - failures.length + s.unsampledFailures + dnsNames - dnsFailures.length,
    topology: s.topology.length - topology.length,
    container: containers.dropped,
    requests: s.requestSamples.length - requests.length + s.unsampledRequests,
  };
  if (suppressed.failures || suppressed.topology || suppressed.container || suppressed.requests) out.push({ time: now, type: 'suppressed', detail: suppressed });
  return out;
}
