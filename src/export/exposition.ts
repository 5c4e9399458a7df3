// The families in Prometheus' text format (0.0.4). prom-client formats the
// agent's own metrics; edge families are tens of thousands of rows whose label
// sets repeat across metrics and scrapes, so each label set is escaped once
// and its text reused (prom-client re-escaped every row: ~0.8 s for 2,000 edges).
import type { Family, Labels } from './families.js';

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

/** `a="x",b="y"` for a label set; cached per object, since the exporter reuses an edge's labels. */
const cache = new WeakMap<Labels, string>();
function labelText(l: Labels): string {
  let s = cache.get(l);
  if (s === undefined) {
    s = '';
    for (const k in l) if (l[k] !== '') s += `${s ? ',' : ''}${k}="${escapeLabel(l[k])}"`; // an empty value is no label, to Prometheus
    cache.set(l, s);
  }
  return s;
}

function value(v: number): string {
  if (Number.isFinite(v)) return String(v);
  return Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf';
}

export function exposition(families: Family[]): string {
  let out = '';
  for (const f of families) {
    out += `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`;
    if (f.type === 'histogram') {
      const les = [...f.bounds.map((b) => `le="${b}"`), 'le="+Inf"'];
      const b = `${f.name}_bucket{`;
      for (const s of f.series) {
        const l = labelText(s.labels);
        const sep = l ? ',' : '';
        let acc = 0;
        for (let i = 0; i < f.bounds.length; i++) {
          acc += s.counts[i];
          out += `${b}${l}${sep}${les[i]}} ${acc}\n`;
        }
        out += `${b}${l}${sep}${les[f.bounds.length]}} ${s.count}\n${f.name}_sum{${l}} ${value(s.sum)}\n${f.name}_count{${l}} ${s.count}\n`;
      }
    } else if (f.type === 'summary') {
      for (const s of f.series) { const l = labelText(s.labels); out += `${f.name}_sum{${l}} ${value(s.sum)}\n${f.name}_count{${l}} ${s.count}\n`; }
    } else {
      for (const s of f.series) out += `${f.name}{${labelText(s.labels)}} ${value(s.value)}\n`;
    }
  }
  return out;
}
