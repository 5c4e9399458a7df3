// bench:l7's "switched" line: request capture turned off and on inside one
// running `dhrishti run`, through the agent's own config map (l7_config's
// `enabled`, which --no-l7 leaves at 0), between short runs seconds apart.
// Agents started for each condition are minutes apart, and this host's
// throughput drifts by 15-30% over minutes; pairs of runs seconds apart mostly
// cancel that drift, so this tells capture's own cost (the TCP map is on in
// both halves) to within a percent or two where the interleaved ratios cannot.
import { execFileSync } from 'node:child_process';
import { L7_CONFIG } from '../../src/events/l7-layout.js';

interface MapInfo { id: number; name?: string }
interface ProgInfo { id: number; map_ids?: number[] }

const bpftool = <T>(...args: string[]): T => JSON.parse(execFileSync('bpftool', ['-j', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 }));

export class CaptureSwitch {
  private constructor(private readonly mapId: number) {}

  /** The l7_config map of the agent whose programs are `progIds` (another agent on the host has its own). */
  static of(progIds: Set<number>): CaptureSwitch {
    const used = new Set(bpftool<ProgInfo[]>('prog', 'show').filter((p) => progIds.has(p.id)).flatMap((p) => p.map_ids ?? []));
    const map = bpftool<MapInfo[]>('map', 'show').find((m) => used.has(m.id) && m.name === 'l7_config');
    if (!map) throw new Error('the agent has no l7_config map: was request capture refused? (see its log)');
    return new CaptureSwitch(map.id);
  }

  /** Read, then written back with `enabled` changed: the agent raises the entry's epoch every second. */
  set(on: boolean): void {
    const [entry] = bpftool<{ value: string[] }[]>('map', 'dump', 'id', String(this.mapId));
    if (!entry || entry.value.length <= L7_CONFIG.enabled) throw new Error(`l7_config ${this.mapId}: unexpected dump`);
    const v = [...entry.value];
    v[L7_CONFIG.enabled] = on ? '0x01' : '0x00';
    execFileSync('bpftool', ['map', 'update', 'id', String(this.mapId), 'key', '0', '0', '0', '0', 'value', 'hex', ...v.map((b) => b.replace(/^0x/, ''))]);
  }
}
