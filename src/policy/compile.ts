// The policy compiled for speed. A node's zones are a bitset, found through the
// zone index (zone-index.ts); with them the node keeps the rules it can start
// (rules whose `from` holds one of its zones), so judging an edge walks only
// those, in order. Nodes in the same zones share one NodeZones.
import { BUILTIN_ZONES, type EdgeLike, type NodeLike, type PolicySpec, type RuleAction, type RuleSpec } from './model.js';
import { FactsReader } from './selectors.js';
import { ZoneIndex, scanZones, type PlaceZones } from './zone-index.js';
import type { PolicyVerdict } from '../graph/types.js';
import { gotThrough } from '../graph/edge-facts.js';
import { POLICY_DEFAULTS } from '../config/defaults.js';

/** A node's place under one policy (shared by nodes in the same zones: read only). */
export interface NodeZones {
  bits: Uint32Array;
  /** Indices of the rules whose `from` holds one of the node's zones, in rule order. */
  rules: Int32Array;
}

interface CompiledRule {
  spec: RuleSpec;
  action: RuleAction;
  from: Uint32Array;
  /** Zone indices of `to`. */
  to: Int32Array;
  /** Flattened [low, high, low, high, ...], or null for any port. */
  ports: Int32Array | null;
  protocols: Set<string> | null;
}

export type Decision = Omit<PolicyVerdict, 'attempted'>;

const UNMATCHED: Decision = Object.freeze({ verdict: 'unmatched' });

export class CompiledPolicy {
  /** Built-in zones first, then the file's. */
  readonly zoneNames: string[];
  private readonly placeZones: PlaceZones;
  private readonly rules: CompiledRule[];
  private readonly words: number;
  private readonly decisions: { allowed: Decision; violation: Decision }[];
  /** Hash of the zone bits -> the NodeZones every node in just those zones shares (a hash numbers, a key string would be allocated per node). */
  private readonly byZones = new Map<number, NodeZones | NodeZones[]>();
  private zoneSets = 0;
  private readonly scratch: Uint32Array;
  private readonly facts = new FactsReader();

  /** `scan`: find zones by testing every selector (the reference, for the bench's baseline) instead of the index. */
  constructor(readonly spec: PolicySpec, opts: { scan?: boolean } = {}) {
    const zones = [...BUILTIN_ZONES, ...spec.zones.filter((z) => !z.builtin)];
    this.zoneNames = zones.map((z) => z.name);
    const index = new Map(this.zoneNames.map((n, i) => [n, i]));
    this.words = Math.ceil(zones.length / 32);
    this.scratch = new Uint32Array(this.words);
    if (opts.scan) this.placeZones = scanZones(zones);
    else { const zi = new ZoneIndex(zones); this.placeZones = (f, bits) => zi.place(f, bits); }
    this.rules = spec.rules.map((r) => {
      const from = new Uint32Array(this.words);
      for (const z of r.from) { const i = index.get(z)!; from[i >> 5] |= 1 << (i & 31); }
      return {
        spec: r, action: r.action, from,
        to: Int32Array.from(r.to.map((z) => index.get(z)!)),
        ports: r.ports ? Int32Array.from(r.ports.flat()) : null,
        protocols: r.protocols ? new Set(r.protocols) : null,
      };
    });
    this.decisions = spec.rules.map((r) => ({
      allowed: Object.freeze({ verdict: 'allowed', rule: r.name }),
      violation: Object.freeze({ verdict: 'violation', rule: r.name }),
    }));
  }

  /** The node's zones and candidate rules. */
  place(n: NodeLike): NodeZones {
    const bits = this.scratch;
    this.placeZones(this.facts.read(n), bits);
    let h = 0x811c9dc5;
    for (let w = 0; w < bits.length; w++) h = Math.imul(h ^ bits[w], 0x01000193);
    let found = this.byZones.get(h);
    if (found) {
      if (!Array.isArray(found)) { if (sameBits(found.bits, bits)) return found; }
      else for (let i = 0; i < found.length; i++) if (sameBits(found[i].bits, bits)) return found[i];
    }
    if (this.zoneSets >= POLICY_DEFAULTS.maxZoneSets) { this.byZones.clear(); this.zoneSets = 0; found = undefined; }
    const z = { bits: bits.slice(), rules: this.rulesFrom(bits) };
    this.byZones.set(h, found === undefined ? z : Array.isArray(found) ? [...found, z] : [found, z]);
    this.zoneSets++;
    return z;
  }

  private rulesFrom(bits: Uint32Array): Int32Array {
    const rules: number[] = [];
    for (let r = 0; r < this.rules.length; r++) {
      const from = this.rules[r].from;
      for (let w = 0; w < from.length; w++) if (from[w] & bits[w]) { rules.push(r); break; }
    }
    return Int32Array.from(rules);
  }

  zonesOf(z: NodeZones): string[] {
    return this.zoneNames.filter((_, i) => (z.bits[i >> 5] >>> (i & 31)) & 1);
  }

  /** First matching rule decides: deny -> violation; allow -> allowed; allow-only -> allowed when `to` holds the server, else violation. */
  decide(client: NodeZones, server: NodeZones, port: number, protocol: string): Decision {
    const sb = server.bits;
    const cand = client.rules;
    for (let k = 0; k < cand.length; k++) {
      const r = this.rules[cand[k]];
      if (r.ports && !inRanges(r.ports, port)) continue;
      if (r.protocols && !r.protocols.has(protocol)) continue;
      let hit = false;
      const to = r.to;
      for (let j = 0; j < to.length; j++) { const z = to[j]; if ((sb[z >> 5] >>> (z & 31)) & 1) { hit = true; break; } }
      if (r.action === 'deny') { if (hit) return this.decisions[cand[k]].violation; }
      else if (r.action === 'allow') { if (hit) return this.decisions[cand[k]].allowed; }
      else return hit ? this.decisions[cand[k]].allowed : this.decisions[cand[k]].violation;
    }
    return UNMATCHED;
  }

  get ruleCount(): number { return this.rules.length; }
}

function sameBits(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function inRanges(r: Int32Array, port: number): boolean {
  for (let i = 0; i < r.length; i += 2) if (port >= r[i] && port <= r[i + 1]) return true;
  return false;
}

/** A violation that never connected (only failed or unanswered attempts so far) is flagged `attempted`. */
export function withAttempt(d: Decision, e: EdgeLike): PolicyVerdict {
  if (d.verdict !== 'violation') return d;
  return { ...d, attempted: !!e.connections && !gotThrough(e.connections) };
}
