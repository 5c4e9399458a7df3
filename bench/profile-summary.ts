// Summarises a V8 .cpuprofile (from `npm run bench -- --profile <dir>`): self
// time by function and by file, and total (inclusive) time of the top frames.
// Usage: node dist/bench/profile-summary.js <file.cpuprofile> [top N]
import fs from 'node:fs';

interface Frame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: Frame; children?: number[]; hitCount?: number }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

const [file, topArg] = process.argv.slice(2);
if (!file) { console.error('usage: profile-summary.js <file.cpuprofile> [top N]'); process.exit(2); }
const top = Number(topArg ?? 25);
const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Time per sample: the delta to the next one.
const selfUs = new Map<number, number>();
for (let i = 0; i < p.samples.length; i++) {
  const dt = p.timeDeltas[i + 1] ?? 0;
  selfUs.set(p.samples[i], (selfUs.get(p.samples[i]) ?? 0) + dt);
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const label = (f: Frame) => `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${f.lineNumber + 1}`;
const idle = (f: Frame) => f.functionName === '(idle)' || f.functionName === '(program)';

const self = new Map<string, number>(), files = new Map<string, number>(), incl = new Map<string, number>();
for (const [id, us] of selfUs) {
  const f = byId.get(id)!.callFrame;
  self.set(label(f), (self.get(label(f)) ?? 0) + us);
  const file = f.url ? f.url.replace(/^.*\/(dist|node_modules)\//, '$1/') : f.functionName;
  files.set(file, (files.get(file) ?? 0) + us);
  const seen = new Set<string>();
  for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
    const l = label(byId.get(n)!.callFrame);
    if (seen.has(l)) continue;
    seen.add(l);
    incl.set(l, (incl.get(l) ?? 0) + us);
  }
}
const busy = total - [...selfUs].filter(([id]) => idle(byId.get(id)!.callFrame)).reduce((a, [, us]) => a + us, 0);
const show = (title: string, m: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${(us / 1000).toFixed(0).padStart(8)} ms ${((us / busy) * 100).toFixed(1).padStart(5)}%  ${k}`);
};
console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(2)} s busy (percentages are of busy time)`);
show('self time by function', self);
show('self time by file', files);
show('inclusive time', incl);
