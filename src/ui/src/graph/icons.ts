// Small line icons drawn inside the nodes, one per kind (white strokes on the kind's colour).
import type { NodeKind } from '../../../graph/types.js';

const PATHS: Record<NodeKind, string> = {
  // stacked layers: replicas of one service
  service: '<path d="M12 3 3 7.5l9 4.5 9-4.5z"/><path d="m3 12 9 4.5 9-4.5"/><path d="m3 16.5 9 4.5 9-4.5"/>',
  // a box: one container
  container: '<path d="M12 2.8 3.8 7.2v9.6l8.2 4.4 8.2-4.4V7.2z"/><path d="m3.8 7.2 8.2 4.5 8.2-4.5"/><path d="M12 11.7v9.5"/>',
  // a terminal prompt: a host process
  process: '<rect x="3" y="4.5" width="18" height="15" rx="2.5"/><path d="m7 9.5 3 2.5-3 2.5"/><path d="M12.5 15h4.5"/>',
  // a globe: a server elsewhere
  external: '<circle cx="12" cy="12" r="8.5"/><path d="M3.5 12h17"/><path d="M12 3.5c2.6 2.4 3.8 5.3 3.8 8.5s-1.2 6.1-3.8 8.5c-2.6-2.4-3.8-5.3-3.8-8.5s1.2-6.1 3.8-8.5z"/>',
  // a person: a remote client
  client: '<circle cx="12" cy="8.5" r="3.8"/><path d="M4.8 20.5c.8-3.9 3.7-6 7.2-6s6.4 2.1 7.2 6"/>',
};

export function kindIcon(kind: NodeKind, color = 'white'): string {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="48" height="48" fill="none" stroke="${color}" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">${PATHS[kind]}</svg>`;
  return `data:image/svg+xml;utf8,${encodeURIComponent(svg)}`;
}

/** A folded project: a box of boxes, in the given colour (drawn on the project's own light fill). */
export function projectIcon(color: string): string {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="48" height="48" fill="none" stroke="${color}" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"><rect x="3" y="3" width="7.5" height="7.5" rx="1.8"/><rect x="13.5" y="3" width="7.5" height="7.5" rx="1.8"/><rect x="3" y="13.5" width="7.5" height="7.5" rx="1.8"/><rect x="13.5" y="13.5" width="7.5" height="7.5" rx="1.8"/></svg>`;
  return `data:image/svg+xml;utf8,${encodeURIComponent(svg)}`;
}
