// Node positions remembered in the browser, so a reload draws the same map.
const KEY = 'dhrishti.positions.v1';
const MAX_ENTRIES = 5000;

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
