// The web UI's own constants (a browser bundle cannot import src/config/defaults.ts, which uses node:path).

export const UI = {
  /** WebSocket reconnect delay: doubles from min to max, with up to 30% jitter. */
  reconnectMinMs: 500,
  reconnectMaxMs: 10_000,
  /** An edge's RTT p95 above this is drawn amber. */
  highRttUs: 200_000,
  /** An edge whose retransmit count grew by this many within the window is drawn amber. */
  retransmitWindowMs: 60_000,
  retransmitWarnCount: 3,
  /** A replayed moment's map holds the edges seen this long before it: the API's default for at= (HISTORY_DEFAULTS.atWindowMs). */
  atWindowMs: 60_000,
  /** Side panel details (with their time series) are refetched this often while open. */
  detailRefreshMs: 2_000,
  /** Remote clients and agent telemetry are polled this often while shown. */
  clientsRefreshMs: 3_000,
  agentRefreshMs: 5_000,
  /** React views other than the map re-render at most this often. */
  viewThrottleMs: 500,
  /** Frames per second of the dots moving along edges with traffic, and the most edges that get dots. */
  flowFps: 24,
  /** With more moving edges than this, dots move at flowFpsBusy (each frame repaints the whole overlay). */
  flowBusyEdges: 60,
  flowFpsBusy: 12,
  maxAnimatedEdges: 150,
  /** Above this many edges, edges are hidden while panning/zooming. */
  bigGraphEdges: 400,
  /**
   * A map this big at first sight starts with each project (of at least minMembers nodes) folded
   * into one node; tap one to unfold it.
   */
  fold: { aboveNodes: 300, aboveEdges: 1500, minMembers: 6 },
  /**
   * Drawn maps up to this many nodes are laid out as one (projects as compound nodes: edges across
   * projects pull their ends together); bigger ones project by project, in parallel workers.
   */
  compoundLayoutMaxNodes: 300,
  /** Smaller first layouts run on the page at once; bigger ones in a Web Worker. */
  layoutOnPageBelow: 60,
  /** Up to this many drawn nodes, new nodes are settled by an fcose run with the others fixed; above, only placed. */
  settleMaxNodes: 150,
  /** Timing samples kept for tests and the render benchmark. */
  maxTimingSamples: 2_000,
} as const;
