// Alerts to --alert-webhook as Alertmanager's API takes them (POST
// /api/v2/alerts: a JSON array of {labels, annotations, startsAt,
// generatorURL}), so the URL may be an Alertmanager or any receiver. Sending
// never blocks the agent: alerts queue (bounded), one POST is in flight at a
// time, failures are retried with doubling backoff and counted.
import { policyMetrics, type WebhookDropReason } from './metrics.js';
import { POLICY_DEFAULTS } from '../config/defaults.js';
import { fetchFailure } from '../net/fetch-failure.js';

export interface Alert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  generatorURL?: string;
}

export interface WebhookOptions {
  timeoutMs?: number;
  retries?: number;
  backoffMinMs?: number;
  backoffMaxMs?: number;
  queue?: number;
  /** Alerts per POST at most. */
  batch?: number;
  warn?: (msg: string) => void;
}

export interface WebhookStats { queued: number; sent: number; failures: number; dropped: number; lastError: string | null }

export class AlertWebhook {
  private readonly queue: Alert[] = [];
  private busy = false;
  private timer: NodeJS.Timeout | null = null;
  private attempt = 0;
  private stopped = false;
  private scheduled = false;
  private lastWarn = -Infinity;
  readonly stats: WebhookStats = { queued: 0, sent: 0, failures: 0, dropped: 0, lastError: null };
  private readonly o: Required<Omit<WebhookOptions, 'warn'>> & { warn: (m: string) => void };

  constructor(readonly url: string, opts: WebhookOptions = {}) {
    const u = new URL(url); // throws on a malformed URL: caught at the command line
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`the alert webhook must be an http(s) URL, got ${u.protocol}`);
    this.o = {
      timeoutMs: opts.timeoutMs ?? POLICY_DEFAULTS.webhookTimeoutMs,
      retries: opts.retries ?? POLICY_DEFAULTS.webhookRetries,
      backoffMinMs: opts.backoffMinMs ?? POLICY_DEFAULTS.webhookBackoffMinMs,
      backoffMaxMs: opts.backoffMaxMs ?? POLICY_DEFAULTS.webhookBackoffMaxMs,
      queue: opts.queue ?? POLICY_DEFAULTS.webhookQueue,
      batch: opts.batch ?? 100,
      warn: opts.warn ?? ((m) => console.error(`dhrishti: ${m}`)),
    };
  }

  /** Queues an alert; returns at once. */
  send(a: Alert): void {
    if (this.stopped) return;
    if (this.queue.length >= this.o.queue) {
      this.drop('queue_full', 1);
      return;
    }
    this.queue.push(a);
    this.stats.queued = this.queue.length;
    if (!this.busy && !this.timer && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => { this.scheduled = false; void this.pump(); }); // the caller (the graph follower) never waits for the network
    }
  }

  private async pump(): Promise<void> {
    if (this.busy || this.stopped || !this.queue.length) return;
    this.busy = true;
    const batch = this.queue.slice(0, this.o.batch);
    let retry = false;
    try {
      const res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'dhrishti' },
        body: JSON.stringify(batch),
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) {
        this.queue.splice(0, batch.length);
        this.stats.sent += batch.length;
        policyMetrics.webhookSent.inc(batch.length);
        this.attempt = 0;
      } else if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
        // The receiver will never take this body: retrying would only repeat the refusal.
        this.failed(`the alert webhook answered ${res.status}; ${batch.length} alert(s) dropped`);
        this.queue.splice(0, batch.length);
        this.drop('rejected', batch.length);
      } else {
        this.failed(`the alert webhook answered ${res.status}`);
        retry = true;
      }
    } catch (e) {
      this.failed(`the alert webhook ${this.url}: ${fetchFailure(e, this.url, this.o.timeoutMs)}`);
      retry = true;
    } finally {
      this.busy = false;
      this.stats.queued = this.queue.length;
    }
    if (retry) {
      if (++this.attempt > this.o.retries) {
        this.queue.splice(0, batch.length);
        this.drop('retries', batch.length);
        this.attempt = 0;
      } else {
        const wait = Math.min(this.o.backoffMaxMs, this.o.backoffMinMs * 2 ** (this.attempt - 1));
        this.timer = setTimeout(() => { this.timer = null; void this.pump(); }, wait);
        this.timer.unref();
        return;
      }
    }
    if (this.queue.length) void this.pump();
  }

  private failed(msg: string): void {
    this.stats.failures++;
    this.stats.lastError = msg;
    policyMetrics.webhookFailures.inc();
    const now = Date.now();
    if (now - this.lastWarn > 60_000) { this.lastWarn = now; this.o.warn(msg); }
  }

  private drop(reason: WebhookDropReason, n: number): void {
    this.stats.dropped += n;
    policyMetrics.webhookDropped.inc({ reason }, n);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
