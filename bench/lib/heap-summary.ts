// Reads a V8 heap snapshot and sums the objects' own sizes by constructor:
// a coarse but honest "what fills the heap" without opening DevTools.
import fs from 'node:fs';

export interface HeapGroup { type: string; name: string; count: number; bytes: number }

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export function summarizeHeapSnapshot(file: string, top = 15): { total: number; groups: HeapGroup[] } {
  const s = JSON.parse(fs.readFileSync(file, 'utf8')) as Snapshot;
  const f = s.snapshot.meta.node_fields;
  const width = f.length;
  const iType = f.indexOf('type'), iName = f.indexOf('name'), iSize = f.indexOf('self_size');
  const types = s.snapshot.meta.node_types[0];
  const groups = new Map<string, HeapGroup>();
  let total = 0;
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + iType]];
    // Strings and code group by type only: their "name" is their content.
    const name = type === 'object' || type === 'native' || type === 'closure' ? s.strings[s.nodes[i + iName]] : `(${type})`;
    const size = s.nodes[i + iSize];
    total += size;
    const key = `${type}\0${name}`;
    const g = groups.get(key);
    if (g) { g.count++; g.bytes += size; } else groups.set(key, { type, name, count: 1, bytes: size });
  }
  return { total, groups: [...groups.values()].sort((a, b) => b.bytes - a.bytes).slice(0, top) };
}
