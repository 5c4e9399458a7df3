// What the shapes, colours, widths and dashes on the map mean.
import { useState, type ReactElement } from 'react';
import type { NodeKind } from '../../../graph/types.js';
import { activityText, KIND_NAMES } from '../model/derive.js';

const KINDS: NodeKind[] = ['service', 'container', 'process', 'external', 'client'];

/** Small SVG stand-ins for the node shapes drawn by Cytoscape. */
function KindSwatch({ kind }: { kind: NodeKind }) {
  const fill = `var(--kind-${kind})`;
  const shapes: Record<NodeKind, ReactElement> = {
    service: <path d="M6 2.5h8l4 7.5-4 7.5H6L2 10z" fill={fill} />,
    container: <rect x="2.5" y="2.5" width="15" height="15" rx="4" fill={fill} />,
    process: <circle cx="10" cy="10" r="7.5" fill={fill} />,
    external: <path d="M10 1.5 18.5 10 10 18.5 1.5 10z" fill={fill} />,
    client: <path d="M10 2.5 18 17H2z" fill={fill} />,
  };
  return <svg viewBox="0 0 20 20" width="16" height="16" aria-hidden="true">{shapes[kind]}</svg>;
}

/** A folded project: a box of boxes. */
function FoldedSwatch() {
  return (
    <svg viewBox="0 0 20 20" width="16" height="16" aria-hidden="true">
      <rect x="1.5" y="1.5" width="17" height="17" rx="4" fill="var(--surface)" stroke="var(--border-strong)" strokeWidth="1.5" />
      {[[5, 5], [10.5, 5], [5, 10.5], [10.5, 10.5]].map(([x, y]) => <rect key={`${x}${y}`} x={x} y={y} width="4.5" height="4.5" rx="1" fill="none" stroke="var(--muted)" strokeWidth="1.2" />)}
    </svg>
  );
}

/** A line with an arrow; `dots` marks traffic (dots travel along such edges on the map, live or replayed). */
function EdgeSwatch({ color, dots, width = 2.5, faint }: { color: string; dots?: boolean; width?: number; faint?: boolean }) {
  return (
    <svg viewBox="0 0 34 10" width="34" height="10" aria-hidden="true">
      <line x1="1" y1="5" x2="26" y2="5" stroke={color} strokeWidth={width} strokeLinecap="round" opacity={faint ? 0.55 : 1} />
      <path d="M26 1.5 33 5l-7 3.5z" fill={color} opacity={faint ? 0.55 : 1} />
      {dots && [7, 18].map((x) => <circle key={x} cx={x} cy="5" r="2.8" fill={color} stroke="var(--bg)" strokeWidth="1" />)}
    </svg>
  );
}

export function Legend({ past }: { past: boolean }) {
  const [open, setOpen] = useState(true);
  return (
    <aside className={`legend${open ? '' : ' closed'}`} aria-label="Legend" data-testid="legend" data-map-overlay>
      <button type="button" className="legend-toggle" aria-expanded={open} onClick={() => setOpen(!open)} data-testid="legend-toggle">
        Legend <span aria-hidden="true">{open ? '▾' : '▸'}</span>
      </button>
      {open && (
        <div className="legend-body">
          <ul>
            {KINDS.map((k) => (
              <li key={k}><KindSwatch kind={k} /> {KIND_NAMES[k]}</li>
            ))}
            <li><FoldedSwatch /> Folded project</li>
          </ul>
          <ul>
            <li data-testid="legend-flowing"><EdgeSwatch color="var(--edge-ok)" dots /> {activityText('flowing', past)}</li>
            <li><EdgeSwatch color="var(--edge-open)" /> open, quiet</li>
            <li><EdgeSwatch color="var(--edge-idle)" faint /> idle</li>
            <li><EdgeSwatch color="var(--edge-warn)" /> retransmits / slow</li>
            <li><EdgeSwatch color="var(--edge-fail)" /> failing</li>
            <li><EdgeSwatch color="var(--edge-idle)" width={6} /> wider = more traffic</li>
          </ul>
        </div>
      )}
    </aside>
  );
}
