// The families on /metrics, through prom-client's registry and text format:
// each family is a registered metric whose values come from the exporter's
// current snapshot (built once per scrape at most).
import type client from 'prom-client';
import type { Family, Snapshot } from './families.js';

interface PromValue { labels?: Record<string, string | number>; sharedLabels?: Record<string, string>; value: number; metricName?: string }

/** A prom-client metric in all but name: the registry only calls get() and reads name/help/type/aggregator. */
class FamilyMetric {
  readonly aggregator = 'sum';
  constructor(readonly name: string, readonly help: string, readonly type: string, private readonly read: () => Family | undefined) {}

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: PromValue[] }> {
    const f = this.read();
    const values: PromValue[] = [];
    if (f?.type === 'histogram') {
      const les = [...f.bounds.map(String), '+Inf'].map((le) => ({ le }));
      for (const s of f.series) {
        let acc = 0;
        for (let i = 0; i < les.length - 1; i++) {
          acc += s.counts[i];
          values.push({ metricName: `${f.name}_bucket`, labels: les[i], sharedLabels: s.labels, value: acc });
        }
        values.push({ metricName: `${f.name}_bucket`, labels: les[les.length - 1], sharedLabels: s.labels, value: s.count });
        values.push({ metricName: `${f.name}_sum`, sharedLabels: s.labels, value: s.sum });
        values.push({ metricName: `${f.name}_count`, sharedLabels: s.labels, value: s.count });
      }
    } else if (f) {
      for (const s of f.series) values.push({ labels: s.labels, value: s.value });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

/** Registers every family of the source's snapshots; the set of names is fixed at registration. */
export function registerFamilies(reg: client.Registry, snapshot: () => Snapshot): void {
  let current: { snap: Snapshot; byName: Map<string, Family> } | null = null;
  const read = (name: string) => {
    const snap = snapshot();
    if (current?.snap !== snap) current = { snap, byName: new Map(snap.families.map((f) => [f.name, f])) };
    return current.byName.get(name);
  };
  for (const f of snapshot().families) {
    reg.registerMetric(new FamilyMetric(f.name, f.help, f.type, () => read(f.name)) as unknown as client.Metric);
  }
}
