// The map as text people paste into docs: Graphviz DOT and Mermaid.
import type { GraphEdge, GraphNode, GraphSnapshot } from './types.js';
import { DEFAULT_THRESHOLDS, mainRequests, nodeNote, protocolName, rate, requestHealth, requestLabel } from './labels.js';

/** A text export is read later, when the last minute may have been quiet: the edge's request totals then. */
function requestTotals(e: GraphEdge): string | null {
  const r = mainRequests(e);
  if (!r || !r.count) return null;
  const errors = (e.requests ?? []).reduce((n, x) => n + x.errors, 0), client = (e.requests ?? []).reduce((n, x) => n + x.clientErrors, 0);
  return [`${protocolName(r)} ${r.count} req`, ...(errors ? [`${errors} errors`] : []), ...(client ? [`${client} 4xx`] : [])].join(' · ');
}

/** As the map labels it: ":8080 HTTP · 42/s · 3% 5xx · p95 180 ms" with requests lately, else their totals, else new
 * connections a second, else those open (a pool); failures after. */
function edgeLabel(e: GraphEdge): string {
  const w = e.rates['1m'];
  if (e.protocol === 'dns') return dnsLabel(e);
  const quiet = e.connections.active > 0 ? `${e.connections.active} open` : '';
  const parts = [`:${e.port}`, requestLabel(e) ?? requestTotals(e) ?? (w.connections > 0 ? `${rate(w.connections)} conn/s` : quiet)].filter(Boolean);
  const head = parts.join(' ');
  return e.connections.failed ? `${head}${parts.length > 1 ? ' · ' : ' '}${e.connections.failed} failed` : head;
}

/** "DNS 2 q/s · 1 failed/s" lately; quiet, its totals: "DNS :5353 10 q · 5 failed (3 NXDOMAIN, 2 REFUSED)". */
function dnsLabel(e: GraphEdge): string {
  const w = e.rates['1m'], d = e.dns;
  const head = e.port === 53 ? 'DNS' : `DNS :${e.port}`;
  if (w.connections > 0) return [`${head} ${rate(w.connections)} q/s`, ...(w.failures > 0 ? [`${rate(w.failures)} failed/s`] : [])].join(' · ');
  const queries = d?.queries ?? e.connections.opened, failures = d?.failures ?? e.connections.failed;
  const kinds = d ? ([['NXDOMAIN', d.nxdomain], ['SERVFAIL', d.servfail], ['REFUSED', d.refused], ['other', d.otherErrors], ['timeout', d.timeouts]] as const).filter(([, n]) => n > 0) : [];
  const why = kinds.length ? ` (${kinds.map(([k, n]) => `${n} ${k}`).join(', ')})` : '';
  return [`${head} ${queries} q`, ...(failures > 0 ? [`${failures} failed${why}`] : [])].join(' · ');
}

/** As the map colours it with the default thresholds: connections failing lately, or requests failing or slow lately;
 *  a quiet edge by its totals' error share. Failures older than the last minute (the label counts them) are a warning,
 *  not red: the map says "No failures lately" of such an edge. */
function health(e: GraphEdge): 'failing' | 'warn' | null {
  if (e.rates['1m'].failures > 0 || e.rates['10s'].failures > 0) return 'failing';
  // requests lately: coloured as labelled, by the last minute
  const req = requestLabel(e) !== null ? requestHealth(e) : totalsHealth(e);
  return req ?? (e.connections.failed > 0 ? 'warn' : null);
}

function totalsHealth(e: GraphEdge): 'failing' | 'warn' | null {
  const count = (e.requests ?? []).reduce((n, r) => n + r.count, 0), errors = (e.requests ?? []).reduce((n, r) => n + r.errors, 0);
  if (!errors || !count) return null;
  return (errors / count) * 100 >= DEFAULT_THRESHOLDS.errorFailPct ? 'failing' : 'warn';
}
const failing = (e: GraphEdge) => health(e) === 'failing';

const SHAPE: Record<GraphNode['kind'], string> = { service: 'box3d', container: 'box', process: 'component', external: 'cloud', client: 'oval' };

function dotId(s: string): string { return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`; }

/** Replicas of a container or service running (a stopped or replaced container is history, not a replica). A process
 *  node keeps its newest pids, gone or not: no count. */
function replicas(n: GraphNode): number {
  return n.kind === 'process' ? 1 : n.instances.filter((i) => i.state !== 'stopped').length;
}

export function toDot(g: GraphSnapshot): string {
  const out = ['digraph dhrishti {', '  rankdir=LR;', '  node [fontname="Helvetica", fontsize=11];', '  edge [fontname="Helvetica", fontsize=9];'];
  const groups = new Map<string, GraphNode[]>();
  for (const n of g.nodes) { const k = n.group ?? ''; groups.set(k, [...(groups.get(k) ?? []), n]); }
  let i = 0;
  for (const [group, nodes] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const indent = group ? '    ' : '  ';
    if (group) out.push(`  subgraph cluster_${i++} {`, `    label=${dotId(group)};`);
    for (const n of nodes.sort((a, b) => a.id.localeCompare(b.id))) {
      const k = replicas(n);
      const label = (k > 1 ? `${n.label} (x${k})` : n.label) + nodeNote(n);
      out.push(`${indent}${dotId(n.id)} [label=${dotId(label)}, shape=${SHAPE[n.kind]}];`);
    }
    if (group) out.push('  }');
  }
  for (const e of [...g.edges].sort((a, b) => a.id.localeCompare(b.id))) {
    const h = health(e);
    const color = h === 'failing' ? 'red' : h === 'warn' || e.retransmits ? 'orange' : 'black';
    out.push(`  ${dotId(e.source)} -> ${dotId(e.target)} [label=${dotId(edgeLabel(e))}, color=${color}];`);
  }
  out.push('}');
  return out.join('\n') + '\n';
}

function mermaidId(ids: Map<string, string>, id: string): string {
  if (!ids.has(id)) ids.set(id, `n${ids.size}`);
  return ids.get(id)!;
}

const mermaidText = (s: string) => s.replace(/["<>]/g, (c) => `#${c.charCodeAt(0)};`);

export function toMermaid(g: GraphSnapshot): string {
  const ids = new Map<string, string>();
  const out = ['flowchart LR'];
  const shape = (n: GraphNode) => {
    const k = replicas(n);
    const t = `"${mermaidText((k > 1 ? `${n.label} x${k}` : n.label) + nodeNote(n))}"`;
    switch (n.kind) {
      case 'external': return `((${t}))`;
      case 'client': return `([${t}])`;
      case 'process': return `[/${t}/]`;
      default: return `[${t}]`;
    }
  };
  const groups = new Map<string, GraphNode[]>();
  for (const n of g.nodes) { const k = n.group ?? ''; groups.set(k, [...(groups.get(k) ?? []), n]); }
  let i = 0;
  for (const [group, nodes] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    if (group) out.push(`  subgraph g${i++}["${mermaidText(group)}"]`);
    for (const n of nodes.sort((a, b) => a.id.localeCompare(b.id))) out.push(`    ${mermaidId(ids, n.id)}${shape(n)}`);
    if (group) out.push('  end');
  }
  const red: number[] = [];
  [...g.edges].sort((a, b) => a.id.localeCompare(b.id)).forEach((e, k) => {
    out.push(`  ${mermaidId(ids, e.source)} -->|"${mermaidText(edgeLabel(e))}"| ${mermaidId(ids, e.target)}`);
    if (failing(e)) red.push(k);
  });
  if (red.length) out.push(`  linkStyle ${red.join(',')} stroke:#d33,stroke-width:2px`);
  return out.join('\n') + '\n';
}
