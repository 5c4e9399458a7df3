// Under the map in a past range: play/pause, speed, a scrubber over the range with
// ticks for failed connections, request errors and topology changes, and the moment shown.
import { formatTime, replayGrid, REPLAY_SPEEDS, type ReplaySpeed } from './range.js';
import { useHistory, type HistoryState } from './state.js';
import { duration } from '../model/format.js';

export function ReplayBar({ history }: { history: HistoryState }) {
  const v = useHistory(history);
  if (!v.range) return null;
  const g = replayGrid(v.range);
  const span = Math.max(1, g.max - g.min);
  const long = v.range.to - v.range.from > 12 * 3600_000;
  const value = v.at ?? g.max;
  // the agent recorded only part of the range (a new install, a stop): say so, as the rates are over that part
  const partly = v.recordedMs !== null && v.recordedMs < v.range.to - v.range.from - 10_000 ? v.recordedMs : 0;
  return (
    <div className="replay-bar" data-testid="replay-bar" role="group" aria-label="Replay" data-map-overlay>
      <button type="button" className="icon-btn" onClick={() => (v.playing ? history.pause() : history.play())}
        aria-label={v.playing ? 'Pause the replay' : 'Play the range'} title={v.playing ? 'Pause' : 'Play'} data-testid="replay-play" data-playing={v.playing}>
        {v.playing ? (
          <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" fill="currentColor"><rect x="6" y="5" width="4" height="14" /><rect x="14" y="5" width="4" height="14" /></svg>
        ) : (
          <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" fill="currentColor"><path d="M7 5l12 7-12 7z" /></svg>
        )}
      </button>
      <select value={v.speed} onChange={(e) => history.setSpeed(Number(e.target.value) as ReplaySpeed)} data-testid="replay-speed" aria-label="Replay speed">
        {REPLAY_SPEEDS.map((s) => <option key={s} value={s}>{s}x</option>)}
      </select>
      <div className="replay-track">
        <input type="range" min={g.min} max={g.max} step={g.step} value={value}
          onChange={(e) => history.scrub(Number(e.target.value))}
          data-testid="replay-scrubber" aria-label="Replay time" aria-valuetext={formatTime(value, long)} />
        <div className="replay-markers" aria-hidden="true">
          {v.markers.map((m) => (
            <span key={`${m.kind}${m.t}`} className={`replay-marker ${m.kind}`} style={{ left: `${((m.t - g.min) / span) * 100}%` }}
              title={`${formatTime(m.t, long)}: ${m.text}`} data-testid="replay-marker" data-kind={m.kind} data-t={m.t}
              data-failures={m.failures} data-request-errors={m.requestErrors} data-topology={m.topology} />
          ))}
        </div>
      </div>
      <span className="replay-time mono" data-testid="replay-time" data-t={v.at ?? ''}>
        {v.at === null ? `${formatTime(v.range.from, long)} – ${formatTime(v.range.to, long)} (summed${partly ? `; ${duration(partly / 1000)} recorded, rates over that` : ''})` : momentText(v.at, v.bucketMs, long)}
      </span>
      {v.at !== null && (
        <button type="button" className="link" onClick={() => history.summary()} data-testid="replay-summary" title="Show the whole range summed">whole range</button>
      )}
      {v.loading && <span className="spinner small" aria-label="loading" />}
    </div>
  );
}

/** The moment shown is a stored bucket: say which, as its numbers are the whole bucket's (07:01:30 – 07:01:40). */
function momentText(at: number, bucketMs: number | null, long: boolean): string {
  if (!bucketMs) return formatTime(at, long);
  const start = Math.floor(at / bucketMs) * bucketMs;
  return `${formatTime(start, long)} – ${formatTime(start + bucketMs, false)}`;
}
