// Draws the model with Cytoscape and keeps the drawing in step with it: each
// stream message touches only the elements it changed (inside one cy.batch), and
// the layout runs in full once, then only for new nodes with every other node held still.
import cytoscape from 'cytoscape';
import fcose from 'cytoscape-fcose';
import type { GraphEdge, GraphNode } from '../../../graph/types.js';
import { UI } from '../config.js';
import type { Change } from '../model/graphModel.js';
import type { GraphModel } from '../model/graphModel.js';
import { edgeActivity, edgeHealth, edgeLabel, edgeWidth, groupParentId, hostParentId, nodeLabel, type Activity, type Health } from '../model/derive.js';
import { computeVisible, isFiltering, NO_FILTERS, type Filters } from '../model/filters.js';
import { FlowOverlay } from './flow.js';
import { loadPositions, savePositions } from './positions.js';
import type { Palette } from './palette.js';
import { buildStyle, FULL_LABELS, labelDetailAt, sameDetail, type LabelDetail } from './style.js';

cytoscape.use(fcose);

export type Selection = { type: 'node' | 'edge'; id: string } | null;

const COMMON_LAYOUT = {
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
  tilingPaddingVertical: 28,
  tilingPaddingHorizontal: 28,
  padding: 40,
};

export class MapRenderer {
  readonly cy: cytoscape.Core;
  ready = false;
  /** Layout runs so far (full and incremental), for tests that check the layout stays put. */
  layoutRuns = 0;
  private readonly health = new Map<string, Health>();
  private readonly activity = new Map<string, Activity>();
  /** Edges known to the model whose ends are not drawn yet. */
  private readonly pendingEdges = new Set<string>();
  private readonly awaitingLayout = new Set<string>();
  private readonly hidden = new Set<string>();
  private filters: Filters = NO_FILTERS;
  private selection: Selection = null;
  private readonly flow: FlowOverlay;
  private readonly container: HTMLElement;
  private layoutDeferred = 0;
  /** Set when something the moving dots depend on changed (which edges flow, their width or colour). */
  private flowDirty = true;
  private palette: Palette;
  private lod: LabelDetail = FULL_LABELS;
  private layoutTimer: number | undefined;
  /** While the map is not shown, changes are only collected, and drawn in one go when it is. */
  private paused = false;
  private backlog: Change | null = null;
  private saveTimer: number | undefined;

  constructor(
    container: HTMLElement,
    private readonly model: GraphModel,
    palette: Palette,
    private readonly onSelect: (sel: Selection) => void,
    /** Told when a long first layout starts and ends, so the page can say so. */
    private readonly onLayouting: (busy: boolean) => void = () => {},
  ) {
    this.palette = palette;
    this.container = container;
    this.cy = cytoscape({
      container,
      style: buildStyle(palette, this.lod),
      minZoom: 0.05,
      maxZoom: 3,
      boxSelectionEnabled: false,
      selectionType: 'single',
      autoungrabify: false,
      motionBlur: false,
    });
    this.cy.on('tap', 'node', (ev) => {
      const n = ev.target as cytoscape.NodeSingular;
      if (!n.hasClass('group')) this.onSelect({ type: 'node', id: n.id() });
    });
    this.cy.on('tap', 'edge', (ev) => this.onSelect({ type: 'edge', id: (ev.target as cytoscape.EdgeSingular).id() }));
    this.cy.on('tap', (ev) => { if (ev.target === this.cy) this.onSelect(null); });
    this.cy.on('dragfree', 'node', () => this.savePositionsSoon());
    this.cy.on('zoom', () => this.scaleGroupLabelsSoon());
    this.flow = new FlowOverlay(this.cy, container, palette);
  }

  destroy(): void {
    this.flow.destroy();
    cancelAnimationFrame(this.groupLabelFrame);
    cancelAnimationFrame(this.layoutDeferred);
    window.clearTimeout(this.layoutDeferred);
    window.clearTimeout(this.layoutTimer);
    window.clearTimeout(this.saveTimer);
    this.cy.destroy();
  }

  setPalette(p: Palette): void {
    this.palette = p;
    this.cy.style(buildStyle(p, this.lod));
    this.flow.setPalette(p);
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
    if (this.paused && !change.initial && this.cy.nodes().length) {
      this.backlog = this.backlog ? mergeChanges(this.backlog, change) : change;
      return;
    }
    const cy = this.cy;
    const m = this.model;
    const expired = m.expireRetransmitMarks();
    const newNodes: string[] = [];
    const touchedNodes = new Set<string>();
    const isInitial = change.initial || cy.nodes().length === 0;

    cy.batch(() => {
      for (const id of change.removedEdges) {
        const el = cy.getElementById(id);
        if (el.nonempty()) { touchedNodes.add(el.data('source')); touchedNodes.add(el.data('target')); el.remove(); }
        this.forgetEdge(id);
      }
      for (const id of change.removedNodes) {
        const el = cy.getElementById(id);
        if (el.nonempty()) { el.connectedEdges().forEach((e) => this.forgetEdge(e.id())); el.remove(); }
        this.hidden.delete(id);
        this.awaitingLayout.delete(id);
      }

      for (const id of [...change.addedNodes, ...change.changedNodes]) {
        const n = m.nodes.get(id);
        if (!n) continue;
        if (this.drawNode(n)) newNodes.push(id);
        touchedNodes.add(id);
      }

      const edgeIds = new Set([...change.addedEdges, ...change.changedEdges, ...expired, ...this.pendingEdges]);
      for (const id of edgeIds) {
        const e = m.edges.get(id);
        if (!e) { this.pendingEdges.delete(id); continue; }
        if (this.drawEdge(e)) { touchedNodes.add(e.source); touchedNodes.add(e.target); }
      }

      for (const id of touchedNodes) this.markNodeHealth(id);
      this.removeEmptyGroups();
      if (newNodes.length && !isInitial) this.placeNearNeighbours(newNodes);
      this.applyFilters(false);
    });

    if (this.flowDirty || newNodes.length || change.removedNodes.length) {
      this.flowDirty = false;
      this.flow.invalidate();
    }
    if (isInitial && cy.nodes().length) this.firstLayout();
    else if (newNodes.length) this.layoutSoon(newNodes);
    if (this.selection && (change.addedEdges.length || change.addedNodes.length)) this.highlight(this.selection);
    if (change.addedNodes.length || change.removedNodes.length) this.scaleGroupLabelsSoon();
  }

  setFilters(f: Filters, fit: boolean): void {
    this.filters = f;
    this.cy.batch(() => this.applyFilters(true));
    this.flow.invalidate();
    if (fit) this.fit(true);
  }

  select(sel: Selection): void {
    this.selection = sel;
    this.highlight(sel);
  }

  fit(animate = false): void {
    const eles = this.cy.elements().not('.hidden');
    if (eles.empty()) return;
    if (animate) {
      this.cy.animate({ fit: { eles, padding: 48 } }, { duration: 250, complete: () => this.capZoom() });
    } else {
      this.cy.fit(eles, 48);
      this.capZoom();
    }
  }

  zoomBy(factor: number): void {
    const cy = this.cy;
    const level = Math.min(cy.maxZoom(), Math.max(cy.minZoom(), cy.zoom() * factor));
    cy.zoom({ level, renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 } });
  }

  /** Centres the view on one element (used when it is chosen from a table or the search box). */
  reveal(id: string): void {
    const el = this.cy.getElementById(id);
    if (el.empty() || el.hasClass('hidden')) return;
    this.cy.animate({ center: { eles: el }, zoom: Math.max(this.cy.zoom(), 0.9) }, { duration: 250 });
  }

  edgeClasses(id: string): string[] {
    const el = this.cy.getElementById(id);
    return el.nonempty() ? el.classes() : [];
  }

  // ---- drawing ----

  /** Adds or updates one node; returns true when it was added. */
  private drawNode(n: GraphNode): boolean {
    const cy = this.cy;
    // On a hub's map a node on one host sits in that host's box (its project's box inside it).
    const host = n.hosts?.length === 1 ? n.hosts[0] : undefined;
    const hostBox = host ? hostParentId(host) : undefined;
    if (hostBox && cy.getElementById(hostBox).empty()) {
      cy.add({ group: 'nodes', data: { id: hostBox, label: host }, classes: 'group host-group', selectable: false, grabbable: true });
    }
    const parent = n.group ? groupParentId(host ? `${host}/${n.group}` : n.group) : hostBox;
    if (parent && cy.getElementById(parent).empty()) {
      cy.add({ group: 'nodes', data: { id: parent, label: n.group, parent: hostBox }, classes: 'group', selectable: false, grabbable: true });
    }
    const label = nodeLabel(n);
    const stopped = n.instances.length > 0 && n.instances.every((i) => i.state === 'stopped');
    const el = cy.getElementById(n.id);
    if (el.empty()) {
      cy.add({ group: 'nodes', data: { id: n.id, label, kind: n.kind, parent }, classes: `kind-${n.kind}${stopped ? ' stopped' : ''}` });
      return true;
    }
    if (el.data('label') !== label) el.data('label', label);
    if (el.data('kind') !== n.kind) {
      el.removeClass(`kind-${el.data('kind')}`).addClass(`kind-${n.kind}`);
      el.data('kind', n.kind);
    }
    if ((el.data('parent') ?? undefined) !== parent) (el as cytoscape.NodeSingular).move({ parent: parent ?? null });
    if (el.hasClass('stopped') !== stopped) el.toggleClass('stopped', stopped);
    return false;
  }

  /** Adds or updates one edge; returns true when anything visible changed. */
  private drawEdge(e: GraphEdge): boolean {
    const cy = this.cy;
    const health = edgeHealth(e, this.model.retransmitting.has(e.id));
    const activity = edgeActivity(e);
    const label = edgeLabel(e);
    const width = edgeWidth(e);
    let el = cy.getElementById(e.id);
    if (el.nonempty() && (el.data('source') !== e.source || el.data('target') !== e.target)) {
      el.remove();
      this.forgetEdge(e.id);
      el = cy.collection();
    }
    if (el.empty()) {
      if (cy.getElementById(e.source).empty() || cy.getElementById(e.target).empty()) {
        this.pendingEdges.add(e.id);
        return false;
      }
      this.pendingEdges.delete(e.id);
      cy.add({ group: 'edges', data: { id: e.id, source: e.source, target: e.target, label, width }, classes: `${health} ${activity}${e.protocol === 'dns' ? ' dns' : ''}` });
      this.health.set(e.id, health);
      this.activity.set(e.id, activity);
      this.flowDirty = true;
      return true;
    }
    // Labels hidden at this zoom are not kept up to date (each change costs a restyle); see refreshLabels.
    if ((this.lod.edges || el.hasClass('near')) && el.data('label') !== label) el.data('label', label);
    if (el.data('width') !== width) {
      el.data('width', width);
      if (activity === 'flowing') this.flowDirty = true;
    }
    const oldHealth = this.health.get(e.id);
    const oldActivity = this.activity.get(e.id);
    if (oldHealth !== health) {
      if (oldHealth) el.removeClass(oldHealth);
      el.addClass(health);
      this.health.set(e.id, health);
      this.flowDirty = true;
    }
    if (oldActivity !== activity) {
      if (oldActivity) el.removeClass(oldActivity);
      el.addClass(activity);
      this.activity.set(e.id, activity);
      this.flowDirty = true;
    }
    return oldHealth !== health;
  }

  private forgetEdge(id: string): void {
    if (this.activity.get(id) === 'flowing') this.flowDirty = true;
    this.health.delete(id);
    this.activity.delete(id);
    this.pendingEdges.delete(id);
    this.hidden.delete(id);
  }

  /** A node with a failing edge gets a red ring. */
  private markNodeHealth(id: string): void {
    const el = this.cy.getElementById(id);
    if (el.empty()) return;
    let failing = false;
    for (const eid of this.model.adjacency.get(id) ?? []) if (this.health.get(eid) === 'failing') { failing = true; break; }
    if (el.hasClass('failing') !== failing) el.toggleClass('failing', failing);
  }

  private removeEmptyGroups(): void {
    this.cy.nodes('.group').forEach((g) => { if ((g as cytoscape.NodeSingular).children().empty()) g.remove(); });
  }

  /** Hides what the filters leave out; with `all` false only elements whose state flips are touched. */
  private applyFilters(all: boolean): void {
    if (!all && this.hidden.size === 0 && !isFiltering(this.filters)) return; // nothing hidden, nothing to hide
    const vis = computeVisible(this.model.nodes, this.model.edges, this.filters, (id) => this.health.get(id) ?? 'ok');
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

  private highlight(sel: Selection): void {
    const cy = this.cy;
    cy.batch(() => {
      cy.elements('.faded').removeClass('faded');
      cy.elements('.near').removeClass('near');
      cy.elements(':selected').unselect();
      if (!sel) return;
      const el = cy.getElementById(sel.id);
      if (el.empty()) return;
      el.select();
      const keep: cytoscape.CollectionReturnValue = el.isNode()
        ? (el as unknown as cytoscape.NodeSingular).closedNeighborhood()
        : (el as unknown as cytoscape.EdgeSingular).union((el as unknown as cytoscape.EdgeSingular).connectedNodes());
      const withParents = keep.union(keep.nodes().parents());
      cy.elements().not(withParents).addClass('faded');
      keep.addClass('near');
      this.refreshLabels(keep.edges());
    });
    this.flow.invalidate();
  }

  // ---- layout ----

  /**
   * A big map takes seconds to lay out, which blocks the page: hide the canvas, let the page
   * paint its "laying out" note, then lay out. Small maps are laid out at once.
   */
  private firstLayout(): void {
    if (this.cy.nodes().length < 60) { this.initialLayout(); return; }
    if (this.layoutDeferred) return;
    this.container.style.visibility = 'hidden';
    this.onLayouting(true);
    this.layoutDeferred = requestAnimationFrame(() => {
      this.layoutDeferred = window.setTimeout(() => {
        this.layoutDeferred = 0;
        if (this.cy.destroyed()) return;
        this.initialLayout();
        this.container.style.visibility = '';
        this.onLayouting(false);
      }, 0);
    });
  }

  /** First layout: saved positions from an earlier visit when most nodes have one, else a full fcose run. */
  private initialLayout(): void {
    const cy = this.cy;
    const saved = loadPositions();
    const simple = cy.nodes().not('.group');
    const known = simple.filter((n) => saved.has(n.id()));
    this.edgesOnViewport();
    this.scaleGroupLabelsSoon();
    if (known.length >= Math.max(1, simple.length * 0.8)) {
      cy.batch(() => known.forEach((n) => { const p = saved.get(n.id())!; n.position({ x: p[0], y: p[1] }); }));
      const rest = simple.not(known).map((n) => n.id());
      if (rest.length) { this.placeNearNeighbours(rest); this.incrementalLayout(new Set(rest)); }
    } else {
      // "proof" keeps labels apart too (nodeDimensionsIncludeLabels); too slow for big maps
      const quality = simple.length <= 80 ? 'proof' : 'default';
      cy.layout({ ...this.layoutOptions(), quality, randomize: true, fit: false, packComponents: true, tile: true } as cytoscape.LayoutOptions).run();
      this.layoutRuns++;
    }
    this.awaitingLayout.clear();
    this.fit();
    this.ready = true;
    this.savePositionsSoon();
  }

  /** Small maps sit tighter; big ones need room between their many edges. */
  private layoutOptions() {
    const n = this.cy.nodes().length;
    return { ...COMMON_LAYOUT, idealEdgeLength: () => (n < 60 ? 105 : 110), nodeRepulsion: () => (n < 60 ? 14000 : 9000) };
  }

  private layoutSoon(ids: string[]): void {
    for (const id of ids) this.awaitingLayout.add(id);
    window.clearTimeout(this.layoutTimer);
    this.layoutTimer = window.setTimeout(() => {
      const fresh = new Set([...this.awaitingLayout].filter((id) => this.cy.getElementById(id).nonempty()));
      this.awaitingLayout.clear();
      if (fresh.size) this.incrementalLayout(fresh);
    }, 300);
  }

  /** Lays out `fresh` nodes with every other node fixed where it is, then pins those back exactly. */
  private incrementalLayout(fresh: Set<string>): void {
    const cy = this.cy;
    // Only drawn nodes: fcose leaves hidden ones out, and a constraint naming one of them breaks it.
    const others = cy.nodes().filter((n) => !n.hasClass('group') && !fresh.has(n.id()) && n.visible()) as cytoscape.NodeCollection;
    const before = new Map(others.map((n: cytoscape.NodeSingular) => [n.id(), { ...n.position() }] as const));
    if (others.nonempty()) try {
      cy.layout({
        ...this.layoutOptions(),
        quality: 'proof',
        randomize: false,
        fit: false,
        packComponents: false,
        tile: false,
        initialEnergyOnIncremental: 0.2,
        numIter: 600,
        fixedNodeConstraint: [...before].map(([nodeId, position]) => ({ nodeId, position })),
      } as cytoscape.LayoutOptions).run();
      this.layoutRuns++;
    } catch (e) {
      // The new nodes keep the places next to their neighbours they were given; the map stays usable.
      console.warn('dhrishti: incremental layout failed, keeping neighbour placement:', e);
    } finally {
      // fcose keeps fixed nodes in place up to rounding; make it exact so nothing drifts over time
      cy.batch(() => others.forEach((n) => { const p = before.get(n.id())!; const q = n.position(); if (p.x !== q.x || p.y !== q.y) n.position(p); }));
    }
    this.edgesOnViewport();
    this.savePositionsSoon();
  }

  /** Puts new nodes next to their drawn neighbours (or their group) before any layout runs. */
  private placeNearNeighbours(ids: string[]): void {
    const cy = this.cy;
    const fresh = new Set(ids);
    const box = cy.nodes().not('.group').filter((n) => !fresh.has(n.id())).boundingBox({});
    let spare = 0;
    for (const id of ids) {
      const node = cy.getElementById(id) as cytoscape.NodeSingular;
      const anchors: cytoscape.Position[] = [];
      for (const e of this.model.edgesOf(id)) {
        const other = e.source === id ? e.target : e.source;
        if (fresh.has(other)) continue;
        const o = cy.getElementById(other);
        if (o.nonempty()) anchors.push((o as cytoscape.NodeSingular).position());
      }
      if (!anchors.length && node.parent().nonempty()) {
        node.siblings().forEach((s) => { if (!fresh.has(s.id())) anchors.push((s as unknown as cytoscape.NodeSingular).position()); });
      }
      const jitter = () => (Math.random() - 0.5) * 80;
      if (anchors.length) {
        const x = anchors.reduce((a, p) => a + p.x, 0) / anchors.length;
        const y = anchors.reduce((a, p) => a + p.y, 0) / anchors.length;
        node.position({ x: x + jitter(), y: y + 60 + jitter() });
      } else if (Number.isFinite(box.x2)) {
        node.position({ x: box.x2 + 80 + (spare % 4) * 70, y: box.y1 + Math.floor(spare / 4) * 70 });
        spare++;
      } else {
        node.position({ x: jitter(), y: jitter() });
      }
    }
  }

  private edgesOnViewport(): void {
    // Redrawing a thousand curved edges on every pan frame is what makes big maps stutter.
    const big = this.cy.edges().length > UI.bigGraphEdges;
    const r = (this.cy as unknown as { renderer(): { hideEdgesOnViewport?: boolean } }).renderer();
    if (r) r.hideEdgesOnViewport = big;
  }

  private groupLabelFrame = 0;

  /**
   * On zoom: project names stay readable (their font grows as the zoom shrinks), and labels too
   * small to read are dropped from the stylesheet, which makes every redraw of a big map cheaper.
   */
  private scaleGroupLabelsSoon(): void {
    if (this.groupLabelFrame) return;
    this.groupLabelFrame = requestAnimationFrame(() => {
      this.groupLabelFrame = 0;
      const lod = labelDetailAt(this.cy.zoom(), this.model.nodes.size, this.model.edges.size);
      if (!sameDetail(lod, this.lod)) {
        const labelsBack = lod.edges && !this.lod.edges;
        this.lod = lod;
        this.cy.batch(() => {
          if (labelsBack) this.refreshLabels();
          this.cy.style(buildStyle(this.palette, lod));
        });
      }
      const size = Math.round(Math.min(48, Math.max(12, 12 / this.cy.zoom())));
      const groups = this.cy.nodes('.group');
      if (groups.nonempty() && groups[0].numericStyle('font-size') !== size) {
        this.cy.batch(() => groups.style({ 'font-size': size, 'text-margin-y': -size / 2 }));
      }
    });
  }

  /** Brings every edge label up to date (they are left alone while too small to show). */
  private refreshLabels(edges: cytoscape.EdgeCollection = this.cy.edges()): void {
    edges.forEach((el) => {
      const e = this.model.edges.get(el.id());
      if (!e) return;
      const label = edgeLabel(e);
      if (el.data('label') !== label) el.data('label', label);
    });
  }

  private capZoom(): void {
    if (this.cy.zoom() > 1.3) {
      this.cy.zoom({ level: 1.3, renderedPosition: { x: this.cy.width() / 2, y: this.cy.height() / 2 } });
    }
  }

  private savePositionsSoon(): void {
    window.clearTimeout(this.saveTimer);
    this.saveTimer = window.setTimeout(() => {
      const out: Record<string, [number, number]> = {};
      this.cy.nodes().not('.group').forEach((n) => { const p = n.position(); out[n.id()] = [Math.round(p.x), Math.round(p.y)]; });
      savePositions(out);
    }, 1000);
  }
}

/** One change that does what `a` then `b` did (applyChange reads the model's current state for each id). */
function mergeChanges(a: Change, b: Change): Change {
  const u = (x: string[], y: string[]) => [...new Set([...x, ...y])];
  return {
    initial: a.initial || b.initial,
    addedNodes: u(a.addedNodes, b.addedNodes),
    changedNodes: u(a.changedNodes, b.changedNodes),
    removedNodes: u(a.removedNodes, b.removedNodes),
    addedEdges: u(a.addedEdges, b.addedEdges),
    changedEdges: u(a.changedEdges, b.changedEdges),
    removedEdges: u(a.removedEdges, b.removedEdges),
  };
}
