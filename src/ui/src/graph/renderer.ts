// Draws the model with Cytoscape and keeps the drawing in step with it: each stream message
// touches only the elements it changed (inside one cy.batch). What is drawn comes from a
// GroupedGraph: a big map starts with its projects folded into one node each (tap one to unfold
// it). Every node keeps its place for as long as the page lives (also while the history shows
// another moment); the layout runs in full once, in a Web Worker for big maps, and afterwards only
// places new nodes.
import cytoscape from 'cytoscape';
import fcose from 'cytoscape-fcose';
import type { GraphNode } from '../../../graph/types.js';
import { UI } from '../config.js';
import { groupParentId, hostParentId, nodeLabel } from '../model/derive.js';
import { computeVisible, isFiltering, NO_FILTERS, type Filters } from '../model/filters.js';
import { emptyChange, type Change, type GraphModel } from '../model/graphModel.js';
import { foldedId, foldKey, foldTitle, groupOfFolded, GroupedGraph, isFoldedId, isMergedId, OUTSIDE } from '../model/grouping.js';
import { FlowOverlay } from './flow.js';
import { EdgeOverview } from './overview.js';
import { chooseRenderer, rendererPref, type RendererName } from './gl.js';
import { LayoutClient } from './layoutClient.js';
import { computeLayout, type LayoutJob } from './layoutCompute.js';
import { decorationsFor, type EdgeDecoration, type LookContext, type MapMode } from './looks.js';
import type { Palette } from './palette.js';
import { estimatedNode, gridByGroup, layoutJob, makeRoom, placeNearNeighbours, settleNew } from './placement.js';
import { PositionMemory, type Point } from './positions.js';
import { buildStyle, foldedSize, FULL_LABELS, groupFontAt, labelDetailAt, sameDetail, type LabelDetail } from './style.js';
import { clearFrame, outOfClearView, type Rect } from './viewport.js';

cytoscape.use(fcose);

export type Selection = { type: 'node' | 'edge'; id: string } | null;

export interface RendererOptions {
  onSelect: (sel: Selection) => void;
  /** Told when a long first layout starts and ends, so the page can say so. */
  onLayouting?: (busy: boolean) => void;
  /** Told when the set of folded projects changes. */
  onFolded?: (folded: string[]) => void;
  /** Panels floating over the map (legend, buttons), in the canvas's pixels: nothing is framed under them. */
  obstacles?: () => Rect[];
}

/** Options for the small map's incremental fcose run (see placement.settleNew). */
const SETTLE = {
  name: 'fcose',
  animate: false,
  nodeDimensionsIncludeLabels: true,
  nodeRepulsion: () => 9000,
  idealEdgeLength: () => 110,
  edgeElasticity: () => 0.3,
  nestingFactor: 0.9,
  gravity: 0.3,
  gravityCompound: 0.6,
  gravityRangeCompound: 2,
  padding: 40,
};

/** Cytoscape's events for the user's own pan and zoom gestures (a drag, the wheel, a pinch). */
const USER_VIEWPORT_EVENTS = 'dragpan scrollzoom pinchzoom';

export class MapRenderer {
  readonly cy: cytoscape.Core;
  readonly grouped: GroupedGraph;
  /** 'webgl' or 'canvas', as chosen at start (see gl.ts). */
  readonly rendererName: RendererName;
  ready = false;
  /** Layout runs so far (full, per project and incremental), for tests that check the layout stays put. */
  layoutRuns = 0;
  /** How long the first layout took (ms) and where it ran, for the benchmark. */
  firstLayout: { ms: number; where: string; nodes: number } | null = null;
  lastLayout: { ms: number; where: string; nodes: number } | null = null;
  private readonly memory = new PositionMemory();
  private readonly layouts = new LayoutClient();
  /** Per drawn edge: the class each decoration gave it. */
  private readonly looks = new Map<string, (string | null)[]>();
  private decorations: EdgeDecoration[];
  private mode: MapMode = 'health';
  private readonly lookCtx: { mode: MapMode; health: LookContext['health'] };
  /** Drawn edges whose ends are not drawn yet. */
  private readonly pendingEdges = new Set<string>();
  private readonly awaitingLayout = new Set<string>();
  private readonly hidden = new Set<string>();
  private filters: Filters = NO_FILTERS;
  private selection: Selection = null;
  /** A merged edge picked on the map (it has no side panel): highlighted until something else is. */
  private mergedPick: string | null = null;
  private readonly flow: FlowOverlay;
  /** Zoomed-out edges as plain lines (canvas renderer only: WebGL draws edges cheaply itself). */
  private readonly overview: EdgeOverview | null;
  private readonly container: HTMLElement;
  /** Set when something the moving dots depend on changed (which edges flow, their width or colour). */
  private flowDirty = true;
  private palette: Palette;
  private lod: LabelDetail = FULL_LABELS;
  private layoutTimer: number | undefined;
  /** While the map is not shown, changes are only collected, and drawn in one go when it is. */
  private paused = false;
  private backlog: Change | null = null;
  /** A first layout is running (in the worker); nodes added meanwhile are placed when it ends. */
  private laying = false;
  private layoutGen = 0;
  private firstSeen = false;
  /** The user moved the view since the map last framed itself: from then on it stays where they put it. */
  private userMoved = false;
  private framing = 0;
  /** Framings asked for later (fitLater) and not yet started or cancelled. */
  private fitDue = 0;
  private fitTimer: number | undefined;
  private groupLabelFrame = 0;
  private readonly obstacles: () => Rect[];

  constructor(container: HTMLElement, private readonly model: GraphModel, palette: Palette, private readonly opts: RendererOptions) {
    this.palette = palette;
    this.container = container;
    this.obstacles = opts.obstacles ?? (() => []);
    this.grouped = new GroupedGraph(model);
    this.decorations = decorationsFor(this.mode);
    this.lookCtx = { mode: this.mode, health: (id) => this.grouped.healthOf(id) };
    const want = chooseRenderer(rendererPref());
    const made = makeCy(container, buildStyle(palette, this.lod, this.mode), want);
    this.cy = made.cy;
    this.rendererName = made.name;
    this.overview = this.rendererName === 'canvas' ? new EdgeOverview(this.cy, container) : null;
    this.cy.on('tap', 'node', (ev) => this.onTapNode(ev.target as cytoscape.NodeSingular, ev.position));
    this.cy.on('dbltap', 'node.group', (ev) => this.fold(String((ev.target as cytoscape.NodeSingular).data('label'))));
    this.cy.on('tap', 'edge', (ev) => this.onTapEdge((ev.target as cytoscape.EdgeSingular).id()));
    this.cy.on('tap', (ev) => {
      if (ev.target !== this.cy) return;
      const edge = this.overview?.edgeAt(ev.position);
      if (edge) { this.onTapEdge(edge); return; }
      this.mergedPick = null;
      this.opts.onSelect(null);
      this.highlight(this.selection);
    });
    this.cy.on('dragfree', 'node', (ev) => { this.rememberAll((ev.target as cytoscape.NodeSingular).union((ev.target as cytoscape.NodeSingular).descendants())); this.memory.saveSoon(); });
    this.cy.on('zoom', () => this.scaleGroupLabelsSoon());
    // Only the user's own gestures count as moving the view: any viewport event outside a framing did before, and
    // one the map made itself (a framing ending a frame late under load) then stopped every later framing.
    this.cy.on(USER_VIEWPORT_EVENTS, () => { this.userMoved = true; });
    this.cy.on('resize', () => { if (!this.userMoved && this.ready) this.fitSoon(); });
    this.flow = new FlowOverlay(this.cy, container, palette);
    // while the page waits for the first snapshot
    this.layouts.prewarm();
  }

  destroy(): void {
    this.flow.destroy();
    this.overview?.destroy();
    this.layouts.destroy();
    this.rememberAll(this.cy.nodes());
    this.memory.saveNow();
    this.memory.destroy();
    cancelAnimationFrame(this.groupLabelFrame);
    window.clearTimeout(this.layoutTimer);
    window.clearTimeout(this.fitTimer);
    this.layoutGen++;
    this.cy.destroy();
  }

  setPalette(p: Palette): void {
    this.palette = p;
    this.cy.style(buildStyle(p, this.lod, this.mode));
    this.flow.setPalette(p);
    this.scaleGroupLabelsSoon(true);
  }

  /** What the map is coloured by: its decorations and their style rules; every edge is redrawn. */
  setMode(mode: MapMode): void {
    if (mode === this.mode) return;
    this.mode = mode;
    this.lookCtx.mode = mode;
    this.decorations = decorationsFor(mode);
    this.cy.batch(() => {
      this.cy.edges().forEach((e) => { for (const c of this.looks.get(e.id()) ?? []) if (c) e.removeClass(c); this.looks.delete(e.id()); });
      this.cy.style(buildStyle(this.palette, this.lod, mode));
    });
    const all = emptyChange(false);
    all.changedEdges = this.cy.edges().map((e) => e.id());
    // as new: each edge gets every class and data field of the new decorations
    for (const id of all.changedEdges) this.looks.set(id, this.decorations.map(() => null));
    this.draw(all, false);
    this.scaleGroupLabelsSoon(true);
  }

  /** Stops or resumes drawing (the map is hidden behind a table); resuming draws what changed meanwhile. */
  setPaused(paused: boolean): void {
    this.paused = paused;
    this.flow.setPaused(paused);
    if (!paused && this.backlog) {
      const c = this.backlog;
      this.backlog = null;
      this.applyChange(c);
    }
  }

  /** Brings the drawing in line with the model after `change`; touches only what changed. */
  applyChange(change: Change): void {
    // hidden behind a table, or laying out in the worker: collect, and draw in one go afterwards
    if ((this.paused || this.laying) && !change.initial && this.cy.nodes().length) {
      this.backlog = this.backlog ? mergeChanges(this.backlog, change) : change;
      return;
    }
    if (!this.firstSeen && this.model.loaded) {
      this.firstSeen = true;
      // a big map starts with its projects folded; a page that was shown before keeps what the user unfolded
      if (this.grouped.foldIfBig(UI.fold)) this.opts.onFolded?.(this.grouped.foldedGroups());
    }
    const drawn = this.grouped.apply(change);
    for (const id of this.model.expireRetransmitMarks()) {
      const d = this.grouped.drawnEdgeOf(id);
      if (d) drawn.changedEdges.push(d);
    }
    this.draw(drawn, change.initial || this.cy.nodes().length === 0);
  }

  /** Folds a project into one node (placed at the middle of its nodes). */
  fold(group: string): void {
    if (this.grouped.isFolded(group)) return;
    const members = this.drawnMembers(group);
    this.rememberAll(members);
    const centre = members.nonempty() ? centreOfPoints(members.map((n) => ({ ...(n as cytoscape.NodeSingular).position() }))) : null;
    const change = this.grouped.fold(group);
    this.draw(change, false, centre ? new Map([[foldedId(group), centre]]) : undefined);
    this.opts.onFolded?.(this.grouped.foldedGroups());
    this.memory.saveSoon();
  }

  /**
   * Unfolds a project: its nodes come back where they were (moved along with the folded box if it
   * was dragged, the rest then moving out of their way), or are laid out there in the worker.
   */
  unfold(group: string, frame = true): void {
    if (!this.grouped.isFolded(group)) return;
    const box = this.cy.getElementById(foldedId(group));
    const at = box.nonempty() ? { ...(box as cytoscape.NodeSingular).position() } : null;
    const was = box.nonempty() ? box.boundingBox({}) : null;
    const members = [...this.grouped.membersOf(group)];
    const known = members.map((id) => this.memory.recall(id));
    const all = known.every(Boolean) && members.length > 0;
    const change = this.grouped.unfold(group);
    const places = new Map<string, Point>();
    let moved = true;
    if (all && at) {
      const c = centreOfPoints(known as Point[]);
      moved = Math.abs(c.x - at.x) > 0.5 || Math.abs(c.y - at.y) > 0.5;
      members.forEach((id, i) => places.set(id, moved ? { x: known[i]!.x - c.x + at.x, y: known[i]!.y - c.y + at.y } : known[i]!));
    } else if (at) {
      // a ring around the box's place until the worker's layout of the project arrives
      members.forEach((id, i) => {
        const a = (2 * Math.PI * i) / members.length, r = 20 * Math.sqrt(members.length) + 30;
        places.set(id, { x: at.x + r * Math.cos(a), y: at.y + r * Math.sin(a) });
      });
    }
    this.draw(change, false, places);
    this.opts.onFolded?.(this.grouped.foldedGroups());
    const inside = this.drawnMembers(group);
    if (!all && inside.nonempty() && at) void this.layoutProject(group, at, frame, was);
    else this.afterUnfold(group, frame, moved ? was : null);
  }

  /** Folds every project (and the external servers and remote clients), or unfolds them all. */
  setAllFolded(folded: boolean): void {
    if (folded) {
      const keys = new Set<string>();
      for (const n of this.model.nodes.values()) { const k = foldKey(n); if (k) keys.add(k); }
      for (const k of keys) if (this.grouped.membersOf(k).size >= 2) this.fold(k);
      return;
    }
    const groups = this.grouped.foldedGroups();
    if (groups.every((g) => [...this.grouped.membersOf(g)].every((id) => this.memory.recall(id)))) {
      // every node has had a place: back to it
      for (const g of groups) this.unfold(g, false);
      this.fit(true);
      return;
    }
    // a map never seen unfolded: one layout of the whole (in the worker, sizes estimated from the
    // model), and only then drawn, at once; meanwhile the folded map stays and changes wait
    const change = emptyChange(false);
    for (const g of groups) {
      const c = this.grouped.unfold(g);
      for (const k of Object.keys(change) as (keyof Change)[]) if (k !== 'initial') (change[k] as string[]).push(...c[k]);
    }
    this.opts.onFolded?.(this.grouped.foldedGroups());
    const nodes = [...this.model.nodes.values()];
    const strategy = nodes.length <= UI.compoundLayoutMaxNodes ? 'compound' : 'grouped';
    const job: LayoutJob = { nodes: nodes.map(estimatedNode), edges: [...this.model.edges.values()].map((e) => ({ s: e.source, t: e.target })), strategy };
    const gen = ++this.layoutGen;
    this.laying = true;
    this.opts.onLayouting?.(true);
    this.layouts.run(job).then((r) => {
      if (gen !== this.layoutGen || this.cy.destroyed()) return;
      // the whole map will be framed far out: style the new elements for that at once, not twice
      this.useDetail(this.detailAt(0.05, this.model.nodes.size, this.model.edges.size));
      this.draw(change, false, new Map(Object.entries(r.positions).map(([id, p]) => [id, { x: p[0], y: p[1] }])), true);
      this.layoutRuns++;
      this.finishLayout(r.ms, this.layouts.where);
    }, (e: Error) => {
      console.warn('dhrishti: layout failed:', e.message);
      if (gen !== this.layoutGen) return;
      this.draw(change, false, undefined, true);
      gridByGroup(this.cy, this.cy.nodes().not('.group'));
      this.finishLayout(0, 'failed');
    }).finally(() => {
      if (gen !== this.layoutGen) return;
      this.laying = false;
      this.opts.onLayouting?.(false);
      this.placeNew();
      if (this.backlog && !this.paused) { const c = this.backlog; this.backlog = null; this.applyChange(c); }
    });
  }

  setFilters(f: Filters, fit: boolean): void {
    const before = this.filters;
    this.filters = f;
    // picking a project shows its inside
    if (f.group && f.group !== before.group && this.grouped.isFolded(f.group)) this.unfold(f.group, false);
    this.cy.batch(() => this.applyFilters(true));
    this.flow.invalidate();
    if (fit) this.fit(true);
  }

  select(sel: Selection): void {
    this.selection = sel;
    if (sel) {
      this.mergedPick = null;
      this.unfoldFor(sel);
    }
    this.highlight(sel);
    // A map the user moved is not framed again when the side panel narrows it: the chosen element may now lie
    // past its edge (or was chosen there, from a panel's link). Looked at once the panel has taken its place.
    if (sel && this.userMoved) requestAnimationFrame(() => requestAnimationFrame(() => this.bringIntoView(sel.id)));
  }

  /** Pans, without zooming, just enough to bring the chosen element into the map's view (48 px clear of its edges). */
  private bringIntoView(id: string): void {
    if (this.cy.destroyed() || this.selection?.id !== id) return;
    const el = this.cy.getElementById(id);
    if (el.empty() || el.hasClass('hidden')) return;
    this.cy.resize(); // Cytoscape reads its container's new size only on a debounced resize: read it now
    const bb = el.renderedBoundingBox({ includeLabels: true });
    const m = 48;
    const shift = (lo: number, hi: number, size: number) => (hi - lo > size - 2 * m ? size / 2 - (lo + hi) / 2 : lo < m ? m - lo : hi > size - m ? size - m - hi : 0);
    const dx = shift(bb.x1, bb.x2, this.cy.width()), dy = shift(bb.y1, bb.y2, this.cy.height());
    if (!dx && !dy) return;
    this.framing++;
    this.cy.animate({ panBy: { x: dx, y: dy } }, { duration: 200, complete: () => { this.framing--; } });
  }

  /** A framing is due (fitLater) or under way: a zoom made now would be undone when it ends. */
  get isFraming(): boolean { return this.framing > 0 || this.fitDue > 0; }
  /** The user moved the view since it was last framed: it is not framed again by itself. */
  get movedByUser(): boolean { return this.userMoved; }
  /** The test hook's pan stands for a user's drag. */
  markMovedByUser(): void { this.userMoved = true; }

  /**
   * Frames the map after `ms` (filters applied as the user types), unless the user moves the view
   * meanwhile: their zoom or pan wins over a framing they did not ask for. Returns a cancel.
   */
  fitLater(ms: number): () => void {
    let done = false;
    const finish = () => { if (done) return false; done = true; this.fitDue--; this.cy.off(USER_VIEWPORT_EVENTS, moved); window.clearTimeout(t); return true; };
    const moved = () => { finish(); };
    this.fitDue++;
    this.cy.on(USER_VIEWPORT_EVENTS, moved);
    const t = window.setTimeout(() => { if (finish() && !this.cy.destroyed()) this.fit(true); }, ms);
    return () => { finish(); };
  }

  fit(animate = false): void {
    const eles = this.cy.elements().not('.hidden');
    if (eles.empty()) return;
    const f = clearFrame(this.cy, eles, this.obstacles(), 48);
    if (!f) return;
    this.userMoved = false;
    this.framing++;
    if (animate) {
      this.cy.animate({ zoom: f.zoom, pan: f.pan }, { duration: 250, complete: () => { this.framing--; } });
    } else {
      this.cy.viewport({ zoom: f.zoom, pan: f.pan });
      this.framing--;
    }
  }

  zoomBy(factor: number): void {
    this.userMoved = true; // the zoom buttons
    const cy = this.cy;
    const level = Math.min(cy.maxZoom(), Math.max(cy.minZoom(), cy.zoom() * factor));
    cy.zoom({ level, renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 } });
  }

  /** Centres the view on one node or edge (chosen from a table or the search box), unfolding its project. */
  reveal(id: string): void {
    this.unfoldFor({ type: this.model.edges.has(id) ? 'edge' : 'node', id });
    const el = this.cy.getElementById(id);
    if (el.empty() || el.hasClass('hidden')) return;
    this.userMoved = true; // asked for: not framed away again
    this.cy.animate({ center: { eles: el }, zoom: Math.max(this.cy.zoom(), 0.9) }, { duration: 250 });
  }

  edgeClasses(id: string): string[] {
    const el = this.cy.getElementById(id);
    return el.nonempty() ? el.classes() : [];
  }

  /** What is drawn at this zoom (labels, arrows, dots), for tests. */
  detail(): LabelDetail { return { ...this.lod }; }

  /** Edges drawn as overview lines in the last frame (Cytoscape holds them hidden meanwhile). */
  overviewEdgeIds(): string[] { return this.overview?.drawnIds() ?? []; }

  // ---- drawing ----

  /** Draws a change of drawn ids; `places` puts given nodes at given points. */
  private draw(change: Change, isInitial: boolean, places?: Map<string, Point>, relayout = false): void {
    const cy = this.cy;
    const newNodes: string[] = [];
    const touchedNodes = new Set<string>();

    cy.batch(() => {
      for (const id of change.removedEdges) {
        const el = cy.getElementById(id);
        if (el.nonempty()) { touchedNodes.add(el.data('source')); touchedNodes.add(el.data('target')); el.remove(); }
        this.forgetEdge(id);
      }
      for (const id of change.removedNodes) {
        const el = cy.getElementById(id);
        if (el.nonempty()) {
          this.memory.remember(id, (el as cytoscape.NodeSingular).position());
          el.connectedEdges().forEach((e) => this.forgetEdge(e.id()));
          el.remove();
        }
        this.hidden.delete(id);
        this.awaitingLayout.delete(id);
      }
      for (const id of [...change.addedNodes, ...change.changedNodes]) {
        if (this.drawNode(id)) newNodes.push(id);
        touchedNodes.add(id);
      }
      const edgeIds = new Set([...change.addedEdges, ...change.changedEdges, ...this.pendingEdges]);
      for (const id of edgeIds) {
        const d = this.drawEdge(id);
        if (d) { touchedNodes.add(d.source); touchedNodes.add(d.target); }
      }
      for (const id of touchedNodes) this.markNodeHealth(id);
      this.removeEmptyGroups();
      // a node seen before on this page goes back where it was; others are placed below
      for (const id of newNodes) {
        const p = places?.get(id) ?? (isInitial ? undefined : this.memory.recallSeen(id));
        if (p) (cy.getElementById(id) as cytoscape.NodeSingular).position(p); else this.awaitingLayout.add(id);
      }
      this.applyFilters(false);
    });

    if (this.flowDirty || newNodes.length || change.removedNodes.length) {
      this.flowDirty = false;
      this.flow.invalidate();
    }
    if (isInitial && cy.nodes().length) this.initialLayout();
    else if (this.awaitingLayout.size && !this.laying && !relayout) this.placeNew();
    if (this.selection || this.mergedPick) if (change.addedEdges.length || change.addedNodes.length) this.highlight(this.selection);
    if (change.addedNodes.length || change.removedNodes.length) this.scaleGroupLabelsSoon();
    if (newNodes.length && this.ready && !relayout && !this.laying) this.keepInView(newNodes);
  }

  /** Adds or updates one drawn node; returns true when it was added. */
  private drawNode(id: string): boolean {
    if (isFoldedId(id)) return this.drawFolded(id);
    const n = this.model.nodes.get(id);
    if (!n) return false;
    return this.drawModelNode(n);
  }

  private drawModelNode(n: GraphNode): boolean {
    const cy = this.cy;
    // On a hub's map a node on one host sits in that host's box (its project's box inside it).
    const host = n.hosts?.length === 1 ? n.hosts[0] : undefined;
    const hostBox = host ? hostParentId(host) : undefined;
    if (hostBox && cy.getElementById(hostBox).empty()) {
      cy.add({ group: 'nodes', data: { id: hostBox, label: host }, classes: 'group host-group', selectable: false, grabbable: true });
    }
    const parent = n.group && !this.grouped.isFolded(n.group) ? groupParentId(host ? `${host}/${n.group}` : n.group) : hostBox;
    if (parent && cy.getElementById(parent).empty()) {
      cy.add({ group: 'nodes', data: { id: parent, label: n.group, parent: hostBox }, classes: 'group', selectable: false, grabbable: true });
    }
    const label = nodeLabel(n);
    // a vacant container address is drawn as a container gone: nobody answers there
    const stopped = !!n.vacant || (n.instances.length > 0 && n.instances.every((i) => i.state === 'stopped'));
    const el = cy.getElementById(n.id);
    if (el.empty()) {
      cy.add({ group: 'nodes', data: { id: n.id, label, kind: n.kind, parent }, classes: `kind-${n.kind}${stopped ? ' stopped' : ''}${n.vacant ? ' vacant' : ''}` });
      return true;
    }
    if (el.data('label') !== label) el.data('label', label);
    if (el.data('kind') !== n.kind) {
      el.removeClass(`kind-${el.data('kind')}`).addClass(`kind-${n.kind}`);
      el.data('kind', n.kind);
    }
    if ((el.data('parent') ?? undefined) !== parent) (el as cytoscape.NodeSingular).move({ parent: parent ?? null });
    if (el.hasClass('stopped') !== stopped) el.toggleClass('stopped', stopped);
    if (el.hasClass('vacant') !== !!n.vacant) el.toggleClass('vacant', !!n.vacant);
    return false;
  }

  private drawFolded(id: string): boolean {
    const f = this.grouped.folds(id);
    if (!f) return false;
    const label = `${foldTitle(f.group)}\n${f.members} nodes`;
    const size = foldedSize(f.members);
    const el = this.cy.getElementById(id);
    if (el.empty()) {
      const outside = Object.entries(OUTSIDE).find(([, o]) => o.key === f.group)?.[0];
      this.cy.add({ group: 'nodes', data: { id, label, size, group: f.group }, classes: outside ? `folded of-${outside}` : 'folded' });
      return true;
    }
    if (el.data('label') !== label) el.data('label', label);
    if (el.data('size') !== size) el.data('size', size);
    return false;
  }

  /** Adds or updates one drawn edge; returns its ends when anything visible changed. */
  private drawEdge(id: string): { source: string; target: string } | null {
    const cy = this.cy;
    const d = this.grouped.edge(id);
    if (!d) { this.pendingEdges.delete(id); return null; }
    let el = cy.getElementById(id);
    if (el.nonempty() && (el.data('source') !== d.source || el.data('target') !== d.target)) {
      el.remove();
      this.forgetEdge(id);
      el = cy.collection();
    }
    const classes = this.decorations.map((dec) => dec.classOf?.(d, this.lookCtx) ?? null);
    if (el.empty()) {
      if (cy.getElementById(d.source).empty() || cy.getElementById(d.target).empty()) {
        this.pendingEdges.add(id);
        return null;
      }
      this.pendingEdges.delete(id);
      const data: Record<string, unknown> = { id, source: d.source, target: d.target };
      for (const dec of this.decorations) if (dec.dataOf) Object.assign(data, dec.dataOf(d, this.lookCtx));
      cy.add({ group: 'edges', data, classes: classes.filter(Boolean).join(' ') });
      this.looks.set(id, classes);
      this.flowDirty = true;
      return d;
    }
    let visible = false;
    const old = this.looks.get(id) ?? [];
    const picked = el.hasClass('near') || el.selected();
    const shown = { labels: this.lod.edges || picked, close: this.lod.arrows || picked };
    this.decorations.forEach((dec, i) => {
      if (old[i] !== classes[i]) {
        if (old[i]) el.removeClass(old[i]!);
        if (classes[i]) el.addClass(classes[i]!);
        visible = true;
        if (dec.movesDots) this.flowDirty = true;
      }
      // data too small to see at this zoom (labels, width steps) is not kept up to date: each change costs a restyle; see refreshHidden
      if (dec.dataOf && (!dec.shownAt || shown[dec.shownAt])) {
        for (const [k, v] of Object.entries(dec.dataOf(d, this.lookCtx))) {
          if (el.data(k) !== v) { el.data(k, v); if (dec.movesDots && classes.includes('flowing')) this.flowDirty = true; }
        }
      }
    });
    this.looks.set(id, classes);
    return visible ? d : null;
  }

  private forgetEdge(id: string): void {
    if (this.looks.get(id)?.includes('flowing')) this.flowDirty = true;
    this.looks.delete(id);
    this.pendingEdges.delete(id);
    this.hidden.delete(id);
  }

  /** A node with a failing edge (a folded project: also one inside it) gets a red ring. */
  private markNodeHealth(id: string): void {
    const el = this.cy.getElementById(id);
    if (el.empty() || el.isParent()) return;
    let failing = false;
    for (const e of el.connectedEdges()) if (this.looks.get(e.id())?.includes('failing')) { failing = true; break; }
    if (!failing && isFoldedId(id)) failing = this.grouped.innerHealth(groupOfFolded(id)) === 'failing';
    if (el.hasClass('failing') !== failing) el.toggleClass('failing', failing);
  }

  private removeEmptyGroups(): void {
    this.cy.nodes('.group').forEach((g) => { if ((g as cytoscape.NodeSingular).children().empty()) g.remove(); });
  }

  /** Hides what the filters leave out; with `all` false only elements whose state flips are touched. */
  private applyFilters(all: boolean): void {
    if (!all && this.hidden.size === 0 && !isFiltering(this.filters)) return; // nothing hidden, nothing to hide
    const vis = this.grouped.visible(computeVisible(this.model.nodes, this.model.edges, this.filters, (id) => this.model.healthOf(id)));
    const set = (el: cytoscape.SingularElementArgument, show: boolean) => {
      const id = el.id();
      if (show === !this.hidden.has(id) && !all) return;
      if (show) this.hidden.delete(id); else this.hidden.add(id);
      el.toggleClass('hidden', !show);
      if (el.isEdge()) this.flowDirty = true;
    };
    this.cy.nodes().forEach((n) => { if (!n.hasClass('group')) set(n, vis.nodes.has(n.id())); });
    this.cy.edges().forEach((e) => set(e, vis.edges.has(e.id())));
    this.cy.nodes('.group').forEach((g) => {
      const show = (g as cytoscape.NodeSingular).children().some((c) => !this.hidden.has((c as cytoscape.SingularElementArgument).id()));
      set(g, show);
    });
  }

  private onTapNode(n: cytoscape.NodeSingular, at: cytoscape.Position): void {
    if (n.hasClass('folded')) { this.unfold(String(n.data('group'))); return; }
    if (!n.hasClass('group')) { this.opts.onSelect({ type: 'node', id: n.id() }); return; }
    // a project's box lies under its edges: an overview line on it is what was tapped
    const edge = this.overview?.edgeAt(at);
    if (edge) this.onTapEdge(edge);
  }

  private onTapEdge(id: string): void {
    if (!isMergedId(id)) { this.opts.onSelect({ type: 'edge', id }); return; }
    // a merged edge has no side panel: it is highlighted with its label until something else is picked
    this.mergedPick = id;
    if (this.selection) this.opts.onSelect(null);
    this.highlight(null);
  }

  /** Unfolds the projects that hide a chosen node or edge. */
  private unfoldFor(sel: NonNullable<Selection>): void {
    const ends = sel.type === 'node' ? [sel.id] : (() => { const e = this.model.edges.get(sel.id); return e ? [e.source, e.target] : []; })();
    for (const id of ends) {
      const g = this.model.nodes.get(id)?.group;
      if (g && this.grouped.isFolded(g)) this.unfold(g, false);
    }
  }

  private highlight(sel: Selection): void {
    const cy = this.cy;
    const id = sel?.id ?? this.mergedPick;
    cy.batch(() => {
      cy.elements('.faded').removeClass('faded');
      cy.elements('.near').removeClass('near');
      cy.elements(':selected').unselect();
      if (!id) return;
      const el = cy.getElementById(id);
      if (el.empty()) return;
      el.select();
      const keep: cytoscape.CollectionReturnValue = el.isNode()
        ? (el as unknown as cytoscape.NodeSingular).closedNeighborhood()
        : (el as unknown as cytoscape.EdgeSingular).union((el as unknown as cytoscape.EdgeSingular).connectedNodes());
      const withParents = keep.union(keep.nodes().parents());
      cy.elements().not(withParents).addClass('faded');
      keep.addClass('near');
      this.refreshHidden(keep.edges(), { labels: true, close: true });
    });
    this.flow.invalidate();
  }

  // ---- layout ----

  /**
   * The first layout: saved places when most drawn nodes have one; else fcose, on the page for a
   * small map, in the worker for a big one (the canvas stays hidden behind a "laying out" note,
   * and the page stays responsive).
   */
  private initialLayout(): void {
    const cy = this.cy;
    const simple = cy.nodes().not('.group');
    const known = simple.filter((n) => this.memory.recall(n.id()) !== undefined);
    this.edgesOnViewport();
    this.scaleGroupLabelsSoon();
    if (known.length >= Math.max(1, simple.length * 0.8)) {
      cy.batch(() => known.forEach((n) => { n.position(this.memory.recall(n.id())!); this.awaitingLayout.delete(n.id()); }));
      this.placeNew();
      this.finishLayout(0, 'saved');
      return;
    }
    this.layoutAll();
  }

  /** Lays out every drawn node afresh: on the page for a small map, else in the worker. */
  private layoutAll(): void {
    const cy = this.cy;
    const simple = cy.nodes().not('.group');
    const strategy = simple.length <= UI.compoundLayoutMaxNodes ? 'compound' : 'grouped';
    const job = layoutJob(cy, simple, strategy);
    const gen = ++this.layoutGen;
    const apply = (positions: Record<string, [number, number]>, ms: number, where: string) => {
      if (gen !== this.layoutGen || cy.destroyed()) return;
      cy.batch(() => {
        for (const [id, p] of Object.entries(positions)) {
          const el = cy.getElementById(id);
          if (el.nonempty()) { (el as cytoscape.NodeSingular).position({ x: p[0], y: p[1] }); this.awaitingLayout.delete(id); }
        }
      });
      this.layoutRuns++;
      this.finishLayout(ms, where);
      this.placeNew();
    };
    if (simple.length < UI.layoutOnPageBelow) {
      // a small map: at once, so it shows without a flash of the "laying out" note
      const r = computeLayout(job);
      apply(r.positions, r.ms, 'page');
      return;
    }
    this.laying = true;
    // meanwhile a cheap grid by project, so that nothing is drawn piled up at one point
    gridByGroup(cy, simple);
    this.container.style.visibility = 'hidden';
    this.opts.onLayouting?.(true);
    this.layouts.run(job).then(
      (r) => apply(r.positions, r.ms, this.layouts.where),
      (e: Error) => { console.warn('dhrishti: layout failed:', e.message); this.finishLayout(0, 'failed'); this.placeNew(); },
    ).finally(() => {
      if (gen !== this.layoutGen) return;
      this.laying = false;
      this.container.style.visibility = '';
      this.opts.onLayouting?.(false);
      if (this.backlog && !this.paused) { const c = this.backlog; this.backlog = null; this.applyChange(c); }
    });
  }

  private finishLayout(ms: number, where: string): void {
    const info = { ms, where, nodes: this.cy.nodes().not('.group').length };
    this.lastLayout = info;
    this.firstLayout ??= info;
    this.fit();
    this.ready = true;
    this.rememberAll(this.cy.nodes());
    this.memory.saveSoon();
  }

  /** Lays out the inside of an unfolded project (in the worker), centred where its folded box was. */
  private async layoutProject(group: string, at: Point, frame: boolean, was: Rect | null): Promise<void> {
    const inside = this.drawnMembers(group);
    const members = new Set(inside.map((n) => n.id()));
    const gen = this.layoutGen;
    try {
      const r = await this.layouts.run(layoutJob(this.cy, inside as cytoscape.NodeCollection, 'grouped'));
      if (gen !== this.layoutGen || this.cy.destroyed()) return;
      const pts = Object.values(r.positions).map(([x, y]) => ({ x, y }));
      const c = centreOfPoints(pts);
      this.cy.batch(() => {
        for (const [id, p] of Object.entries(r.positions)) {
          const el = this.cy.getElementById(id);
          if (members.has(id)) (el as cytoscape.NodeSingular).position({ x: p[0] - c.x + at.x, y: p[1] - c.y + at.y });
        }
      });
      this.layoutRuns++;
    } catch (e) {
      console.warn('dhrishti: project layout failed, keeping the ring:', (e as Error).message);
    }
    this.afterUnfold(group, frame, was);
  }

  /** After an unfold: the rest moves out of the project's way (unless it came back where it was: `was` null), and the view frames it. */
  private afterUnfold(group: string, frame: boolean, was: Rect | null): void {
    const inside = this.drawnMembers(group);
    if (inside.empty()) return;
    // a project has a box around its nodes; the external servers and remote clients have none
    const parent = this.cy.getElementById(groupParentId(group));
    const all = inside.union(parent);
    // back exactly where it was (was === null): the room is still there
    if (was) makeRoom(this.cy, all.boundingBox({ includeLabels: true }), was, new Set(all.map((n) => n.id())));
    this.rememberAll(this.cy.nodes());
    this.memory.saveSoon();
    this.flow.invalidate();
    if (frame) {
      const f = clearFrame(this.cy, all, this.obstacles(), 60);
      if (f) { this.framing++; this.cy.animate({ zoom: f.zoom, pan: f.pan }, { duration: 300, complete: () => { this.framing--; this.userMoved = true; } }); }
    } else if (!this.userMoved) {
      this.fitSoon();
    }
  }

  /** Places nodes that have no place yet: next to their neighbours; on a small map fcose then settles them. */
  private placeNew(): void {
    const ids = [...this.awaitingLayout].filter((id) => this.cy.getElementById(id).nonempty());
    this.awaitingLayout.clear();
    if (!ids.length) return;
    placeNearNeighbours(this.cy, ids, (id) => this.neighbours(id));
    for (const id of ids) this.memory.remember(id, (this.cy.getElementById(id) as cytoscape.NodeSingular).position());
    if (this.cy.nodes().length <= UI.settleMaxNodes) this.settleSoon(ids);
    this.memory.saveSoon();
  }

  private readonly toSettle = new Set<string>();

  private settleSoon(ids: string[]): void {
    for (const id of ids) this.toSettle.add(id);
    window.clearTimeout(this.layoutTimer);
    this.layoutTimer = window.setTimeout(() => {
      const fresh = new Set([...this.toSettle].filter((id) => this.cy.getElementById(id).nonempty()));
      this.toSettle.clear();
      if (!fresh.size) return;
      if (settleNew(this.cy, fresh, SETTLE)) this.layoutRuns++;
      this.rememberAll(this.cy.nodes().filter((n) => fresh.has(n.id())));
      this.edgesOnViewport();
      this.memory.saveSoon();
      if (this.ready) this.keepInView([...fresh]);
    }, 300);
  }

  /** The drawn nodes of a fold's members (those drawn as themselves). */
  private drawnMembers(group: string): cytoscape.CollectionReturnValue {
    const els: cytoscape.SingularElementArgument[] = [];
    for (const id of this.grouped.membersOf(group)) { const el = this.cy.getElementById(id); if (el.nonempty()) els.push(el); }
    return this.cy.collection(els as unknown as cytoscape.CollectionArgument);
  }

  private neighbours(id: string): string[] {
    const el = this.cy.getElementById(id);
    if (el.empty()) return [];
    return (el as cytoscape.NodeSingular).connectedEdges().map((e) => (e.data('source') === id ? e.data('target') : e.data('source')) as string);
  }

  /** A panel over the map came, went or changed size: while the view is untouched, it reframes if a node is now under one. */
  panelsChanged(): void {
    if (!this.ready || this.userMoved || this.cy.destroyed()) return;
    this.keepInView(this.cy.nodes().not('.group').map((n) => n.id()));
  }

  /** While the user has not moved the view, it reframes when new nodes land outside it or under a panel. */
  private keepInView(ids: string[]): void {
    if (this.userMoved) return;
    const obstacles = this.obstacles();
    const out = ids.some((id) => {
      const el = this.cy.getElementById(id);
      return el.nonempty() && !el.hasClass('hidden') && outOfClearView(this.cy, el.boundingBox({ includeLabels: true }), obstacles);
    });
    if (out) this.fitSoon();
  }

  private fitSoon(): void {
    window.clearTimeout(this.fitTimer);
    this.fitTimer = window.setTimeout(() => { if (!this.userMoved && !this.cy.destroyed()) this.fit(true); }, 300);
  }

  private rememberAll(nodes: cytoscape.CollectionReturnValue | cytoscape.NodeCollection): void {
    nodes.forEach((n) => { if (!(n as cytoscape.NodeSingular).isParent()) this.memory.remember(n.id(), (n as cytoscape.NodeSingular).position()); });
  }

  private edgesOnViewport(): void {
    // Redrawing a thousand curved edges on every pan frame is what makes big maps stutter.
    const big = this.cy.edges().length > UI.bigGraphEdges;
    const r = (this.cy as unknown as { renderer(): { hideEdgesOnViewport?: boolean } }).renderer();
    if (r) r.hideEdgesOnViewport = big;
  }

  /**
   * On zoom: project names stay readable (their font grows as the zoom shrinks), and what is too
   * small to see (labels, arrows, dots) is dropped, which makes every redraw of a big map cheaper.
   */
  private scaleGroupLabelsSoon(force = false): void {
    if (this.groupLabelFrame) return;
    this.groupLabelFrame = requestAnimationFrame(() => {
      this.groupLabelFrame = 0;
      if (this.cy.destroyed()) return;
      // not in the middle of an animated framing: each change of detail restyles every element
      if (this.framing > 0) { window.setTimeout(() => this.scaleGroupLabelsSoon(force), 120); return; }
      if (this.useDetail(this.detailAt(this.cy.zoom(), this.cy.nodes().length, this.cy.edges().length))) force = true;
      const size = groupFontAt(this.cy.zoom());
      const titled = this.cy.nodes('.group, .folded');
      if (titled.nonempty() && (force || titled[0].numericStyle('font-size') !== size)) {
        this.cy.batch(() => {
          this.cy.nodes('.group').style({ 'font-size': size, 'text-margin-y': -size / 2 });
          this.cy.nodes('.folded').style({ 'font-size': size });
        });
      }
    });
  }

  /** The level of detail for this renderer: overview lines only where there is an overview layer. */
  private detailAt(zoom: number, nodes: number, edges: number): LabelDetail {
    const lod = labelDetailAt(zoom, nodes, edges);
    return this.overview ? lod : { ...lod, overview: false };
  }

  /** Switches the level of detail (a new stylesheet: every element restyles); returns whether it changed. */
  private useDetail(lod: LabelDetail): boolean {
    this.flow.setEnabled(lod.dots);
    if (sameDetail(lod, this.lod)) return false;
    const back = { labels: lod.edges && !this.lod.edges, close: lod.arrows && !this.lod.arrows };
    this.lod = lod;
    this.cy.batch(() => {
      if (back.labels || back.close) this.refreshHidden(this.cy.edges(), back);
      this.cy.style(buildStyle(this.palette, lod, this.mode));
    });
    this.overview?.setEnabled(lod.overview);
    return true;
  }

  /** Brings the data left alone while too small to see (labels, widths) up to date on `edges`. */
  private refreshHidden(edges: cytoscape.EdgeCollection, which: { labels: boolean; close: boolean }): void {
    const decs = this.decorations.filter((d) => d.dataOf && d.shownAt && which[d.shownAt]);
    if (!decs.length) return;
    edges.forEach((el) => {
      const d = this.grouped.edge(el.id());
      if (!d) return;
      for (const dec of decs) for (const [k, v] of Object.entries(dec.dataOf!(d, this.lookCtx))) if (el.data(k) !== v) el.data(k, v);
    });
  }
}

/** Cytoscape with the chosen renderer; WebGL falls back to the canvas if it cannot start. */
function makeCy(container: HTMLElement, style: cytoscape.StylesheetJson, want: RendererName): { cy: cytoscape.Core; name: RendererName } {
  const base = { container, style, minZoom: 0.05, maxZoom: 3, boxSelectionEnabled: false, selectionType: 'single' as const, autoungrabify: false, motionBlur: false };
  if (want === 'webgl') {
    try {
      const cy = cytoscape({ ...base, renderer: { name: 'canvas', webgl: true } } as cytoscape.CytoscapeOptions);
      return { cy, name: 'webgl' };
    } catch (e) {
      console.warn('dhrishti: WebGL renderer failed, drawing on a canvas:', (e as Error).message);
      container.replaceChildren();
    }
  }
  return { cy: cytoscape(base), name: 'canvas' };
}

function centreOfPoints(ps: Point[]): Point {
  if (!ps.length) return { x: 0, y: 0 };
  let x1 = Infinity, y1 = Infinity, x2 = -Infinity, y2 = -Infinity;
  for (const p of ps) { x1 = Math.min(x1, p.x); y1 = Math.min(y1, p.y); x2 = Math.max(x2, p.x); y2 = Math.max(y2, p.y); }
  return { x: (x1 + x2) / 2, y: (y1 + y2) / 2 };
}

/** One change that does what `a` then `b` did (the drawing reads the model's current state for each id). */
function mergeChanges(a: Change, b: Change): Change {
  const u = (x: string[], y: string[]) => [...new Set([...x, ...y])];
  const out = emptyChange(a.initial || b.initial);
  out.addedNodes = u(a.addedNodes, b.addedNodes);
  out.changedNodes = u(a.changedNodes, b.changedNodes);
  out.removedNodes = u(a.removedNodes, b.removedNodes);
  out.addedEdges = u(a.addedEdges, b.addedEdges);
  out.changedEdges = u(a.changedEdges, b.changedEdges);
  out.removedEdges = u(a.removedEdges, b.removedEdges);
  return out;
}
