// Where each node was drawn, remembered for as long as the page lives (a node that leaves the
// map, e.g. while the history shows another moment, comes back to the same place) and in the
// browser's storage (a reload draws the same map).
const KEY = 'dhrishti.positions.v1';
const MAX_ENTRIES = 5000;
/** This page remembers at most this many places (nodes come and go: remote clients, short-lived processes). */
const MAX_SEEN = 20_000;

export type Point = { x: number; y: number };

export function loadPositions(): Map<string, [number, number]> {
  try {
    const raw = window.localStorage.getItem(KEY);
    if (!raw) return new Map();
    const obj = JSON.parse(raw) as Record<string, unknown>;
    const out = new Map<string, [number, number]>();
    for (const [id, p] of Object.entries(obj)) {
      if (Array.isArray(p) && p.length === 2 && p.every((v) => typeof v === 'number' && Number.isFinite(v))) out.set(id, p as [number, number]);
    }
    return out;
  } catch {
    return new Map();
  }
}

/** Current positions win; older ones are kept (for nodes that come and go) up to a cap. */
export function savePositions(current: Record<string, [number, number]>): void {
  try {
    const merged = Object.fromEntries([...loadPositions()].filter(([id]) => !(id in current)).slice(-MAX_ENTRIES));
    Object.assign(merged, current);
    window.localStorage.setItem(KEY, JSON.stringify(merged));
  } catch {
    /* storage full or disabled: positions are a convenience only */
  }
}

export class PositionMemory {
  private readonly at: Map<string, Point>;
  /** Read from storage at start; only trusted for a first drawing when most nodes have one. */
  private readonly stored: Map<string, Point>;
  private saveTimer: number | undefined;

  constructor() {
    this.stored = new Map([...loadPositions()].map(([id, p]) => [id, { x: p[0], y: p[1] }]));
    this.at = new Map();
  }

  /** This page's memory first, then the browser's storage. */
  recall(id: string): Point | undefined {
    return this.at.get(id) ?? this.stored.get(id);
  }

  /** Only what this page drew (not storage). */
  recallSeen(id: string): Point | undefined {
    return this.at.get(id);
  }

  remember(id: string, p: Point): void {
    this.at.delete(id); // the newest at the end: the oldest go first when full
    this.at.set(id, { x: p.x, y: p.y });
    if (this.at.size > MAX_SEEN) this.at.delete(this.at.keys().next().value!);
  }

  forget(id: string): void {
    this.at.delete(id);
  }

  /** Writes what this page knows to storage a second after the last call. */
  saveSoon(): void {
    window.clearTimeout(this.saveTimer);
    this.saveTimer = window.setTimeout(() => this.saveNow(), 1000);
  }

  saveNow(): void {
    window.clearTimeout(this.saveTimer);
    const out: Record<string, [number, number]> = {};
    for (const [id, p] of this.at) out[id] = [Math.round(p.x), Math.round(p.y)];
    savePositions(out);
  }

  destroy(): void { window.clearTimeout(this.saveTimer); }
}
