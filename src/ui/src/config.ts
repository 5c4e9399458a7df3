// The web UI's own constants (a browser bundle cannot import src/config/defaults.ts, which uses node:path).

export const UI = {
  /** WebSocket reconnect delay: doubles from min to max, with up to 30% jitter. */
  reconnectMinMs: 500,
  reconnectMaxMs: 10_000,
  /** An edge's RTT p95 above this is drawn amber. */
  highRttUs: 200_000,
  /** An edge whose retransmit count grew within this long is drawn amber. */
  retransmitRecentMs: 60_000,
  /** Side panel details (with their time series) are refetched this often while open. */
  detailRefreshMs: 2_000,
  /** Remote clients and agent telemetry are polled this often while shown. */
  clientsRefreshMs: 3_000,
  agentRefreshMs: 5_000,
  /** React views other than the map re-render at most this often. */
  viewThrottleMs: 500,
  /** Frames per second of the "flowing" dash animation, and the most flowing edges animated. */
  flowFps: 12,
  maxAnimatedEdges: 400,
  /** Above this many edges, edges are hidden while panning/zooming. */
  bigGraphEdges: 400,
  /** Timing samples kept for tests and the render benchmark. */
  maxTimingSamples: 2_000,
} as const;
