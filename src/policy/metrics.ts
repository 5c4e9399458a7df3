// The policy's Prometheus metrics. Created here, registered nowhere: the API's
// registry adds them (src/api/metrics.ts), so they show on /metrics.
import client from 'prom-client';
import type { PolicyEngine } from './engine.js';
import { OWN_EDGE_LABELS } from '../export/labels.js';

const counter = (name: string, help: string, labelNames: string[] = []) => new client.Counter({ name, help, labelNames, registers: [] });

/** A violation's series: its rule and its edge's labels, as edge series carry them (the registry adds `host`), so they join. */
export const VIOLATION_LABELS = ['rule', ...OWN_EDGE_LABELS];

export const policyMetrics = {
  violations: counter('dhrishti_policy_violations_total',
    'Connections that broke the isolation policy, each once: those that got through and attempts that never connected, by rule and by edge (labels of edge series)', VIOLATION_LABELS),
  attempted: counter('dhrishti_policy_attempted_violations_total',
    'Of those, attempts that never connected (refused, unanswered, unreachable)', VIOLATION_LABELS),
  reloads: counter('dhrishti_policy_reloads_total', 'Policy and compose file loads, by result (ok, refused)', ['file', 'result']),
  evaluation: new client.Histogram({
    name: 'dhrishti_policy_evaluation_seconds', help: 'Time to judge every known edge again when a policy is put in force (load or reload)',
    buckets: [0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5], registers: [],
  }),
  webhookSent: counter('dhrishti_alert_webhook_sent_total', 'Alerts delivered to the --alert-webhook'),
  webhookFailures: counter('dhrishti_alert_webhook_failures_total', 'Webhook POSTs that failed (each try; retried with backoff)'),
  webhookDropped: counter('dhrishti_alert_webhook_dropped_total', 'Alerts given up, by reason (retries, rejected, queue_full)', ['reason']),
};

/** Why the webhook gives alerts up; each is exported at 0 from the start (below). */
export const WEBHOOK_DROP_REASONS = ['queue_full', 'retries', 'rejected'] as const;
export type WebhookDropReason = typeof WEBHOOK_DROP_REASONS[number];

// Known label sets start at 0: a series that first appears at 1 gives Prometheus's increase() no earlier sample,
// so a rule on it would not fire on the first event.
for (const reason of WEBHOOK_DROP_REASONS) policyMetrics.webhookDropped.inc({ reason }, 0);
for (const file of ['policy', 'compose']) for (const result of ['ok', 'refused']) policyMetrics.reloads.inc({ file, result }, 0);

let source: PolicyEngine | null = null;

const edgesByVerdict = new client.Gauge({
  name: 'dhrishti_policy_edges',
  help: 'Edges on the live map by policy verdict (allowed, violation, unmatched)',
  labelNames: ['verdict'],
  registers: [],
  collect() {
    this.reset();
    if (!source) return;
    const n = { allowed: 0, violation: 0, unmatched: 0 };
    for (const v of source.verdicts()) n[v.policy.verdict]++;
    for (const [k, c] of Object.entries(n)) this.set({ verdict: k }, c);
  },
});

/** The engine whose verdicts dhrishti_policy_edges counts. */
export function measureEngine(e: PolicyEngine | null): void { source = e; }

/** Every policy metric, for a registry to add. */
export function policyMetricList(): client.Metric[] {
  return [...Object.values(policyMetrics), edgesByVerdict] as client.Metric[];
}
