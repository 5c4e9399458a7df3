// The status bar: whether the live stream is up, how busy the agent is, and whether it is losing events.
import { useEffect, useState } from 'react';
import { api, type AgentTelemetry } from '../api/client.js';
import type { StreamState } from '../api/stream.js';
import type { Live } from '../app/live.js';
import { usePoll } from '../app/hooks.js';
import { UI } from '../config.js';
import { ago, bytes, count, duration, rate } from '../model/format.js';
import type { HistoryHealth } from '../../../graph/types.js';

interface Props {
  live: Live;
  shownNodes: number;
  shownEdges: number;
}

/** What the status bar says about a history store that is not simply recording (its reason, naming the file, is the tooltip). */
const HISTORY_TEXT: Record<Exclude<HistoryHealth['state'], 'ok'>, string> = {
  recovered: 'History restarted: the old file was corrupt and set aside',
  read_only: 'History read-only: nothing new is recorded',
  failing: 'History not saving',
  unavailable: 'History unavailable',
};

function connectionText(s: StreamState, now: number, paused: boolean): string {
  switch (s.phase) {
    case 'connected': return paused ? 'Connected · showing history' : 'Live';
    case 'connecting': return s.attempt ? 'Reconnecting…' : 'Connecting…';
    case 'reconnecting': {
      const secs = Math.max(0, Math.ceil((s.retryAt - now) / 1000));
      return `Reconnecting${secs ? ` in ${secs}s` : '…'}`;
    }
  }
}

/** On a hub: Prometheus' state (its error, never an empty map passed off as true) and the agents' health. */
function HubStatus({ t }: { t: AgentTelemetry }) {
  const h = t.hub!, agents = t.agents ?? [];
  const bad = agents.filter((a) => a.state !== 'up');
  return (
    <>
      <span data-testid="status-prometheus" data-state={h.state} className={h.state === 'ok' ? undefined : 'bad-text'} title={h.message ?? `${h.prometheus}, last answer in ${h.queryMs} ms`}>
        <span className="muted">prometheus</span> {h.state === 'ok' ? 'ok' : `${h.state}: ${h.message ?? ''}`}
      </span>
      <span data-testid="status-agents" className={bad.length ? 'bad-text' : undefined}
        title={agents.map((a) => `${a.host}: ${a.state}${a.staleSec ? `, last report ${a.staleSec}s ago` : ''}${a.folded ? `, ${a.folded} edges folded` : ''}`).join('\n')}>
        <span className="muted">agents</span> {agents.length - bad.length}/{agents.length} up{bad.length ? ` (${bad.map((a) => `${a.host} ${a.state}${a.state === 'stale' ? ` ${a.staleSec}s` : ''}`).join(', ')})` : ''}
      </span>
    </>
  );
}

export function StatusBar({ live, shownNodes, shownEdges }: Props) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => { const t = window.setInterval(() => setNow(Date.now()), 1000); return () => window.clearInterval(t); }, []);
  const s = live.state;
  const phase = s.phase === 'connected' ? 'connected' : s.phase === 'reconnecting' || (s.phase === 'connecting' && s.attempt > 0) ? 'reconnecting' : 'connecting';
  const telemetry = usePoll(phase === 'connected' ? 'agent' : null, (sig) => api.agent(sig), UI.agentRefreshMs);
  // While the stream is down, ask the API directly: a 401/403 means the page needs ?token=
  const probe = usePoll(phase === 'reconnecting' ? 'probe' : null, (sig) => api.agent(sig), UI.agentRefreshMs);
  const authProblem = probe.error !== null && /^40[13]\b/.test(probe.error);
  const a = live.agent;
  const m = live.model;
  const lost = a?.lostEvents ?? telemetry.data?.lostEvents ?? 0;
  const cpu = telemetry.data?.cpuPercent;
  const history = telemetry.data?.history;

  return (
    <footer className="statusbar" data-testid="status-bar" role="contentinfo">
      <span className={`conn conn-${phase}`} data-testid="status-connection" data-state={phase} role="status" aria-live="polite"
        title={s.phase === 'reconnecting' ? `Lost the live stream: ${s.reason}` : undefined}>
        <span className="conn-dot" aria-hidden="true" />
        {connectionText(s, now, live.paused)}
      </span>
      {authProblem && (
        <span className="bad-text" data-testid="status-auth">
          Not authorised: open this page with its <span className="mono">?token=…</span> link
        </span>
      )}
      {history && history.state !== 'ok' && (
        <span data-testid="status-history" data-state={history.state} className={history.state === 'read_only' ? 'warn-text' : 'bad-text'} title={history.reason ?? undefined}>
          {HISTORY_TEXT[history.state]}{history.state === 'failing' && history.pending.intervals > 0 ? ` (${count(history.pending.intervals)} intervals held)` : ''}
        </span>
      )}
      {s.phase !== 'connected' && live.lastMessageAt > 0 && <span className="muted">data from {ago(live.lastMessageAt, now)}</span>}
      <span data-testid="status-events" title="Kernel events handled per second">
        <span className="muted">events</span> {a ? `${rate(a.eventsPerSec)}/s` : '–'}
      </span>
      <span data-testid="status-lost" className={lost > 0 ? 'bad-text' : undefined} title="Events the kernel could not hand over (ring buffer full or map full)">
        <span className="muted">lost</span> {a || telemetry.data ? count(lost) : '–'}
      </span>
      {a && a.identityMisses > 0 && (
        <span data-testid="status-identity-misses" title="Events whose process or container could not be named">
          <span className="muted">unnamed</span> {count(a.identityMisses)}
        </span>
      )}
      {typeof cpu === 'number' && <span title="Agent CPU"><span className="muted">cpu</span> {cpu.toFixed(1)}%</span>}
      {typeof telemetry.data?.rssBytes === 'number' && <span title="Agent memory"><span className="muted">mem</span> {bytes(telemetry.data.rssBytes)}</span>}
      {(telemetry.data ?? probe.data)?.hub && <HubStatus t={(telemetry.data ?? probe.data)!} />}
      <span className="spacer" />
      <span data-testid="status-counts">
        {count(shownNodes)}<span className="muted">/{count(m.nodes.size)} nodes</span> · {count(shownEdges)}<span className="muted" title="Links on the map: a client, a server and a port, each holding any number of TCP connections">/{count(m.edges.size)} links</span>
      </span>
      {a && <span className="muted" title="Agent uptime">up {duration(a.uptimeSec)}</span>}
    </footer>
  );
}
