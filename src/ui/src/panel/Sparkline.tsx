// A small inline SVG time-series chart: area under a line, a headline figure and the peak. A null value is a gap (a
// time nothing was recorded in), drawn as a break in the line, not as a fall to zero.

/** The headline figure: the last point ("now": live charts), the sum of all points ("total": a past range's counts),
 * or the highest ("peak": a past range's percentiles, which do not add up). */
export type SparkHeadline = 'now' | 'total' | 'peak';

interface Props {
  label: string;
  times: number[];
  values: (number | null)[];
  format: (v: number) => string;
  color: string;
  headline?: SparkHeadline;
  testId?: string;
}

const W = 300;
const H = 44;

export function Sparkline({ label, times, values, format, color, headline = 'now', testId }: Props) {
  const n = values.length;
  const known = values.filter((v): v is number => v !== null);
  const peak = known.length ? Math.max(...known) : 0;
  const shown = headline === 'total' ? known.reduce((a, v) => a + v, 0) : headline === 'peak' ? peak : known.length ? known[known.length - 1] : 0;
  let line = '';
  let area = '';
  if (n >= 2) {
    const t0 = times[0];
    const span = Math.max(1, times[n - 1] - t0);
    const ymax = peak > 0 ? peak : 1;
    // one path piece per run of recorded points; the area closes under each
    let run: string[] = [], x0 = 0, x1 = 0;
    const close = () => {
      if (run.length) { line += run.join(''); area += `${run.join('')}L${x1.toFixed(1)},${H}L${x0.toFixed(1)},${H}Z`; }
      run = [];
    };
    values.forEach((v, i) => {
      if (v === null) return close();
      const x = ((times[i] - t0) / span) * W, y = H - 3 - (Math.max(0, v) / ymax) * (H - 8);
      if (!run.length) x0 = x;
      x1 = x;
      run.push(`${run.length ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`);
    });
    close();
  }
  const summary = headline === 'peak' ? `${label}: peak ${format(peak)}` : `${label}: ${headline} ${format(shown)}, peak ${format(peak)}`;
  return (
    <figure className="spark" data-testid={testId}>
      <figcaption>
        <span className="spark-label">{label}</span>
        <span className="spark-value" data-headline={headline}>{headline === 'now' ? format(shown) : `${format(shown)} ${headline}`}</span>
      </figcaption>
      {n >= 2 ? (
        <svg viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label={summary}>
          <title>{summary}</title>
          <path d={area} fill={color} opacity="0.14" />
          <path d={line} fill="none" stroke={color} strokeWidth="1.6" vectorEffect="non-scaling-stroke" strokeLinejoin="round" />
        </svg>
      ) : (
        <div className="spark-none">not enough data yet</div>
      )}
      {headline !== 'peak' && <div className="spark-peak">peak {format(peak)}</div>}
    </figure>
  );
}
