// A small client of Prometheus' HTTP query API (also Thanos, Mimir,
// VictoriaMetrics): instant and range queries with a deadline, and every way
// it can fail named, so the hub can say what is wrong instead of drawing nothing.

import { fetchFailure } from '../net/fetch-failure.js';
import { httpEndpoint, type Endpoint } from '../net/endpoint.js';

export type PromFailure = 'down' | 'slow' | 'error';

export class PromError extends Error {
  constructor(readonly kind: PromFailure, message: string) { super(message); }
}

export interface Sample { metric: Record<string, string>; value: number }
export interface Series { metric: Record<string, string>; values: [number, number][] }
export interface Result<T> { data: T[]; warnings: string[]; ms: number }

export interface PromClientOptions {
  timeoutMs: number;
  headers?: Record<string, string>;
}

interface ApiBody { status: 'success' | 'error'; errorType?: string; error?: string; warnings?: string[]; data?: { resultType: string; result: unknown[] } }

/** The Prometheus API base: without a trailing slash; a user and password in it become Basic auth (net/endpoint.ts). */
export function checkPrometheusUrl(v: string): Endpoint {
  const e = httpEndpoint(v, '--prometheus', 'http://prometheus:9090');
  return { ...e, url: e.url.replace(/\/+$/, '') };
}

const num = (v: unknown): number => (typeof v === 'string' ? Number(v) : NaN);

export class PromClient {
  constructor(readonly base: string, private readonly o: PromClientOptions) {}

  private async call(path: string, params: Record<string, string>): Promise<{ body: ApiBody; ms: number }> {
    const t0 = performance.now();
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...this.o.headers },
        body: new URLSearchParams(params).toString(),
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
    } catch (e) {
      const name = (e as Error).name;
      throw new PromError(name === 'TimeoutError' || name === 'AbortError' ? 'slow' : 'down', `Prometheus at ${this.base}: ${fetchFailure(e, this.base, this.o.timeoutMs)}`);
    }
    let text: string;
    try { text = await res.text(); } catch (e) {
      const err = e as Error;
      throw new PromError(err.name === 'TimeoutError' ? 'slow' : 'down', `Prometheus at ${this.base}: reading the answer failed: ${err.message}`);
    }
    let body: ApiBody;
    try { body = JSON.parse(text) as ApiBody; } catch {
      throw new PromError('error', `Prometheus at ${this.base} answered HTTP ${res.status} with something that is not its API: ${text.slice(0, 120).trim()}`);
    }
    if (!res.ok || body.status !== 'success' || !body.data) {
      throw new PromError('error', `Prometheus at ${this.base} answered HTTP ${res.status}: ${body.errorType ?? 'error'}: ${body.error ?? 'no detail'}`);
    }
    return { body, ms: performance.now() - t0 };
  }

  /** Instant vector at `time` (unix ms; now when absent). */
  async instant(query: string, time?: number): Promise<Result<Sample>> {
    const { body, ms } = await this.call('/api/v1/query', { query, ...(time !== undefined ? { time: (time / 1000).toFixed(3) } : {}) });
    if (body.data!.resultType !== 'vector') throw new PromError('error', `expected a vector from ${query.slice(0, 60)}, got ${body.data!.resultType}`);
    const data = (body.data!.result as { metric: Record<string, string>; value: [number, string] }[])
      .map((r) => ({ metric: r.metric, value: num(r.value?.[1]) }))
      .filter((s) => Number.isFinite(s.value));
    return { data, warnings: body.warnings ?? [], ms };
  }

  /** Range matrix over [start, end] (unix ms) every stepMs. */
  async range(query: string, start: number, end: number, stepMs: number): Promise<Result<Series>> {
    const { body, ms } = await this.call('/api/v1/query_range', { query, start: (start / 1000).toFixed(3), end: (end / 1000).toFixed(3), step: `${Math.max(1, Math.round(stepMs / 1000))}s` });
    const data = (body.data!.result as { metric: Record<string, string>; values: [number, string][] }[])
      .map((r) => ({ metric: r.metric, values: r.values.map(([t, v]) => [t * 1000, num(v)] as [number, number]).filter(([, v]) => Number.isFinite(v)) }));
    return { data, warnings: body.warnings ?? [], ms };
  }
}
