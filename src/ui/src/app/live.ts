// The live state of the page: the stream, the graph model and the agent's
// numbers. The map listens synchronously (to draw each change at once); React
// views subscribe through a throttle so tables and panels re-render at most twice a second.
import type { AgentStatus, GraphSnapshot, StreamMessage } from '../../../graph/types.js';
import { LiveStream, type StreamState } from '../api/stream.js';
import { UI } from '../config.js';
import { changeSize, emptyChange, GraphModel, type Change, type Counting } from '../model/graphModel.js';

/** How long one stream message took: parse + apply (applyMs) and until the frame after it (frameMs). */
export interface Timing {
  kind: 'snapshot' | 'delta';
  elements: number;
  applyMs: number;
  frameMs: number;
  at: number;
}

function isStreamMessage(m: unknown): m is StreamMessage {
  if (!m || typeof m !== 'object') return false;
  const o = m as Record<string, unknown>;
  if (o.type === 'snapshot') return !!o.graph && Array.isArray((o.graph as { nodes?: unknown }).nodes) && Array.isArray((o.graph as { edges?: unknown }).edges);
  if (o.type === 'delta') return !!o.delta && typeof o.delta === 'object';
  return false;
}

export class Live {
  readonly model = new GraphModel(UI.retransmitWindowMs, UI.retransmitWarnCount);
  agent: AgentStatus | null = null;
  state: StreamState = { phase: 'connecting', attempt: 0 };
  lastMessageAt = 0;
  readonly timings: Timing[] = [];
  private readonly changeListeners = new Set<(c: Change) => void>();
  private readonly viewListeners = new Set<() => void>();
  private readonly stream: LiveStream;
  private viewVersion = 0;
  private lastViewNotify = 0;
  private viewTimer: number | undefined;
  private viewFrame = 0;

  constructor() {
    this.stream = new LiveStream({
      onMessage: (msg, at) => this.handle(msg, at),
      onState: (s) => { this.state = s; this.notifyViews(true); },
    });
  }

  start(): void { this.stream.start(); }
  stop(): void { this.stream.stop(); window.clearTimeout(this.viewTimer); cancelAnimationFrame(this.viewFrame); }

  /** Synchronous: called inside the message handler with exactly what changed. */
  onChange(fn: (c: Change) => void): () => void {
    this.changeListeners.add(fn);
    return () => this.changeListeners.delete(fn);
  }

  /** Throttled, for React's useSyncExternalStore. */
  subscribe = (fn: () => void): (() => void) => {
    this.viewListeners.add(fn);
    return () => this.viewListeners.delete(fn);
  };

  getVersion = (): number => this.viewVersion;

  /** True while the map shows a moment or range from the history: stream messages keep the agent status but are not drawn. */
  paused = false;

  /**
   * Shows a graph from elsewhere (the history, whose counters are per bucket or per range) in place
   * of the live one; unchanged elements stay as they are.
   */
  showSnapshot(graph: GraphSnapshot, counting: Counting = 'interval'): void {
    const change = this.model.applySnapshot(graph, Date.now(), counting);
    for (const fn of this.changeListeners) fn(change);
    this.notifyViews(true);
  }

  /** Every edge is judged and drawn again (the request thresholds changed). */
  restyle(): void {
    const change = emptyChange(false);
    change.changedEdges = [...this.model.edges.keys()];
    this.model.version++;
    for (const fn of this.changeListeners) fn(change);
    this.notifyViews(true);
  }

  /** External servers named by DNS boxed by registered domain, or not. */
  setGroupDomains(on: boolean): void {
    const change = this.model.setGroupByDomain(on);
    if (!changeSize(change)) return;
    for (const fn of this.changeListeners) fn(change);
    this.notifyViews(true);
  }

  /**
   * Back to the live map: stream messages are drawn again, starting from `current` (a fresh GET
   * /graph), or, when that could not be had, from what is drawn.
   */
  resume(current: GraphSnapshot | null): void {
    this.paused = false;
    if (current) { this.showSnapshot(current, 'running'); return; }
    const change = emptyChange(false);
    change.changedEdges = this.model.useCounting('running');
    for (const fn of this.changeListeners) fn(change);
  }

  private handle(msg: StreamMessage, receivedAt: number): void {
    if (!isStreamMessage(msg)) {
      console.warn('dhrishti: ignoring a stream message of unknown shape');
      return;
    }
    if (this.paused) {
      if (msg.agent) this.agent = msg.agent;
      this.lastMessageAt = Date.now();
      return;
    }
    const change = msg.type === 'snapshot' ? this.model.applySnapshot(msg.graph) : this.model.applyDelta(msg.delta);
    if (msg.agent) this.agent = msg.agent;
    this.lastMessageAt = Date.now();
    for (const fn of this.changeListeners) fn(change);
    const applyMs = performance.now() - receivedAt;
    this.timeFrame(msg.type, changeSize(change), applyMs, receivedAt);
    this.notifyViews(msg.type === 'snapshot');
  }

  /** The frame time: until the first task after the next animation frame, i.e. after Cytoscape has drawn. */
  private timeFrame(kind: Timing['kind'], elements: number, applyMs: number, receivedAt: number): void {
    requestAnimationFrame(() => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => {
        this.timings.push({ kind, elements, applyMs, frameMs: performance.now() - receivedAt, at: Date.now() });
        if (this.timings.length > UI.maxTimingSamples) this.timings.splice(0, this.timings.length - UI.maxTimingSamples);
        ch.port1.close();
      };
      ch.port2.postMessage(null);
    });
  }

  private notifyViews(now: boolean): void {
    const fire = () => {
      this.lastViewNotify = performance.now();
      this.viewVersion++;
      for (const fn of this.viewListeners) fn();
    };
    window.clearTimeout(this.viewTimer);
    cancelAnimationFrame(this.viewFrame);
    const wait = UI.viewThrottleMs - (performance.now() - this.lastViewNotify);
    if (now) fire();
    // the tables and the status bar re-render after the map's frame, not before it
    else if (wait <= 0) this.viewFrame = requestAnimationFrame(() => { this.viewTimer = window.setTimeout(fire, 0); });
    else this.viewTimer = window.setTimeout(fire, wait);
  }
}
