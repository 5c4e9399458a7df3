// The shipped alert rules evaluated by Prometheus's own rule engine (`promtool test rules`, Debian's prometheus)
// on series labelled exactly as the agent labels them: each rule must fire when its trouble is there, on time.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../src/config/defaults.js';
import { edgeLabels } from '../src/export/labels.js';

const run = promisify(execFile);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-rules-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const RULES = path.join(REPO_ROOT, 'deploy', 'prometheus', 'alerts.yml');
const POLICY_RULES = path.join(REPO_ROOT, 'deploy', 'prometheus', 'dhrishti-policy-alerts.yml');

type Labels = Record<string, string>;
interface Series { series: string; values: string }
interface AlertTest { eval_time: string; alertname: string; exp_alerts: { exp_labels: Labels; exp_annotations?: Labels }[] }

/** A series selector as promtool's input_series takes it. */
const sel = (name: string, labels: Labels) => `${name}{${Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;

/** Runs promtool's rule tests on `ruleFile`; resolves with its output, rejects with it when a test fails. */
async function promtoolTest(ruleFile: string, input: Series[], alerts: AlertTest[]): Promise<string> {
  const file = path.join(dir, `t-${Math.random().toString(36).slice(2)}.yml`);
  // JSON is YAML: promtool reads it as is.
  fs.writeFileSync(file, JSON.stringify({ rule_files: [ruleFile], evaluation_interval: '1m', tests: [{ interval: '1m', input_series: input, alert_rule_test: alerts }] }));
  try {
    const { stdout } = await run('promtool', ['test', 'rules', file]);
    return stdout;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    throw new Error(`promtool test rules failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
  }
}

/** An edge's labels as the exporter writes them (client api -> server db:5432 on host h1). */
function edge(client: string, server: string, port: number): Labels {
  return edgeLabels({ port, protocol: 'tcp' }, { label: client, group: 'shop', kind: 'container' } as never, { label: server, group: 'shop', kind: 'container' } as never, 'h1');
}

function failingAlert(e: Labels, percent: string) {
  return {
    exp_labels: { severity: 'warning', host: e.host, client_group: e.client_group, client: e.client, server_group: e.server_group, server: e.server, server_port: e.server_port },
    exp_annotations: { summary: `${percent} of connections from ${e.client} to ${e.server}:${e.server_port} fail (host ${e.host})` },
  };
}

test('DhrishtiEdgeFailing fires at 100% for an edge whose every connection is reset, and for refused connects', async () => {
  const resets = edge('api', 'db', 5432);
  const refused = edge('api', 'cache', 6379);
  const neverOpened = edge('api', 'queue', 5672); // no opened series at all: only failed attempts were seen
  const healthy = edge('web', 'api', 8080);
  const input: Series[] = [
    // 10 connections a minute, each opened and then reset: in both counters.
    { series: sel('dhrishti_edge_connections_opened_total', resets), values: '0+10x20' },
    { series: sel('dhrishti_edge_connections_failed_total', { ...resets, reason: 'reset' }), values: '0+10x20' },
    { series: sel('dhrishti_edge_connections_opened_total', refused), values: '0+0x20' },
    { series: sel('dhrishti_edge_connections_failed_total', { ...refused, reason: 'refused' }), values: '0+5x20' },
    { series: sel('dhrishti_edge_connections_failed_total', { ...neverOpened, reason: 'timeout' }), values: '0+2x20' },
    // 1 reset in 100 connections: 1%, under the 5% threshold.
    { series: sel('dhrishti_edge_connections_opened_total', healthy), values: '0+100x20' },
    { series: sel('dhrishti_edge_connections_failed_total', { ...healthy, reason: 'reset' }), values: '0+1x20' },
  ];
  const out = await promtoolTest(RULES, input, [
    { eval_time: '3m', alertname: 'DhrishtiEdgeFailing', exp_alerts: [] }, // pending: `for: 5m`
    { eval_time: '15m', alertname: 'DhrishtiEdgeFailing', exp_alerts: [failingAlert(resets, '100%'), failingAlert(refused, '100%'), failingAlert(neverOpened, '100%')] },
  ]);
  assert.match(out, /SUCCESS/);
});

test('the policy rules fire on the first event, though its series appears only then; they name the host, not the scrape address', async () => {
  const agent = { job: 'dhrishti', instance: '127.0.0.1:7979', host: 'h1' };
  // The labels of edge series; a host process's group is `host`, an outside server's is empty.
  const ends = { client: 'worker', client_group: 'a', client_kind: 'service', protocol: 'tcp' };
  const connected = { ...agent, rule: 'tenants-apart', ...ends, server: 'db', server_group: 'b', server_kind: 'service', server_port: '5432' };
  const refused = { ...agent, rule: 'tenants-apart', ...ends, server: '10.0.0.9', server_group: '', server_kind: 'external', server_port: '6379' };
  const from3m = (v: number) => `_ _ _ ${Array(8).fill(v).join(' ')}`; // absent for 3 minutes, then v: the first event made it
  const input: Series[] = [
    // One connection that got through: both series appear at once (attempted at 0, as the agent writes them).
    { series: sel('dhrishti_policy_violations_total', connected), values: from3m(1) },
    { series: sel('dhrishti_policy_attempted_violations_total', connected), values: from3m(0) },
    // Two refused attempts: a violation, but nothing connected.
    { series: sel('dhrishti_policy_violations_total', refused), values: from3m(2) },
    { series: sel('dhrishti_policy_attempted_violations_total', refused), values: from3m(2) },
    // Exported at 0 from the start, one refused edit at 3m.
    { series: sel('dhrishti_policy_reloads_total', { ...agent, file: 'policy', result: 'refused' }), values: '0 0 0 1 1 1 1 1 1 1 1' },
    { series: sel('dhrishti_policy_reloads_total', { ...agent, file: 'compose', result: 'refused' }), values: '0 0 0 0 0 0 0 0 0 0 0' },
    // An agent that does not export the zero yet: the series first appears with 3 drops.
    { series: sel('dhrishti_alert_webhook_dropped_total', { ...agent, reason: 'retries' }), values: from3m(3) },
    { series: sel('dhrishti_alert_webhook_dropped_total', { ...agent, reason: 'queue_full' }), values: '0 0 0 0 0 0 0 0 0 0 0' },
  ];
  // An empty label is no label in Prometheus (an outside server's group).
  const pair = (l: Labels) => Object.fromEntries(Object.entries({ host: l.host, rule: l.rule, client_group: l.client_group, client: l.client, server_group: l.server_group, server: l.server, server_port: l.server_port, severity: 'critical' }).filter(([, v]) => v));
  const named = (l: Labels) => `${l.client_group}/${l.client} -> ${l.server_group ? `${l.server_group}/` : ''}${l.server}:${l.server_port}`;
  const violation = (l: Labels, n: number) => ({
    exp_labels: pair(l),
    exp_annotations: {
      summary: `${named(l)} breaks policy rule ${l.rule}`,
      description: `${n} connection(s) or attempts in 5 minutes on ${l.host}. See /api/v1/policy for first/last seen and the processes.`,
    },
  });
  for (const at of ['3m', '5m']) {
    const out = await promtoolTest(POLICY_RULES, input, [
      { eval_time: at, alertname: 'DhrishtiPolicyViolation', exp_alerts: [violation(connected, 1), violation(refused, 2)] },
      { eval_time: at, alertname: 'DhrishtiPolicyViolationConnected', exp_alerts: [{ exp_labels: pair(connected), exp_annotations: { summary: `${named(connected).replace(' -> ', ' connected to ')} against rule ${connected.rule}` } }] },
      {
        eval_time: at, alertname: 'DhrishtiPolicyReloadRefused', exp_alerts: [{
          exp_labels: { ...agent, file: 'policy', result: 'refused', severity: 'warning' },
          exp_annotations: { summary: `Dhrishti on ${agent.host} refused an edited policy file (the previous one stays in force)`, description: 'GET /api/v1/policy shows lastError with file, line and column.' },
        }],
      },
      { eval_time: at, alertname: 'DhrishtiAlertWebhookFailing', exp_alerts: [{ exp_labels: { ...agent, reason: 'retries', severity: 'warning' }, exp_annotations: { summary: `Dhrishti on ${agent.host} dropped 3 policy alert(s) (retries)` } }] },
    ]);
    assert.match(out, /SUCCESS/);
  }
  // Nothing before the events.
  const quiet = await promtoolTest(POLICY_RULES, input, ['DhrishtiPolicyViolation', 'DhrishtiPolicyViolationConnected', 'DhrishtiPolicyReloadRefused', 'DhrishtiAlertWebhookFailing']
    .map((alertname) => ({ eval_time: '2m', alertname, exp_alerts: [] })));
  assert.match(quiet, /SUCCESS/);
});

test('DhrishtiDockerUnreachable fires for an agent that has not reached Docker for 5 minutes', async () => {
  const input: Series[] = [
    { series: sel('dhrishti_docker_up', { job: 'dhrishti', instance: 'a:7979', host: 'h1' }), values: '0x20' },
    { series: sel('dhrishti_docker_up', { job: 'dhrishti', instance: 'b:7979', host: 'h2' }), values: '1x20' },
  ];
  const summary = 'The agent on h1 cannot reach Docker\'s socket: containers are not named from Docker (check the socket mount or --docker-socket)';
  const out = await promtoolTest(RULES, input, [
    { eval_time: '3m', alertname: 'DhrishtiDockerUnreachable', exp_alerts: [] },
    { eval_time: '6m', alertname: 'DhrishtiDockerUnreachable', exp_alerts: [{ exp_labels: { host: 'h1', severity: 'warning' }, exp_annotations: { summary } }] },
  ]);
  assert.match(out, /SUCCESS/);
});

test('DhrishtiHistoryFailing fires for an agent whose history has been failing for 5 minutes', async () => {
  const at = (host: string, state: string) => sel('dhrishti_history_state', { job: 'dhrishti', instance: `${host}:7979`, host, state });
  const input: Series[] = [
    { series: at('h1', 'ok'), values: '1 1 0x18' },
    { series: at('h1', 'failing'), values: '0 0 1x18' }, // failing from 2 m
    { series: at('h2', 'ok'), values: '1x20' },
    { series: at('h2', 'failing'), values: '0x20' },
  ];
  const summary = 'History on h1 is failing: the past is not being written (GET /api/v1/history says why)';
  const out = await promtoolTest(RULES, input, [
    { eval_time: '5m', alertname: 'DhrishtiHistoryFailing', exp_alerts: [] },
    { eval_time: '8m', alertname: 'DhrishtiHistoryFailing', exp_alerts: [{ exp_labels: { host: 'h1', state: 'failing', severity: 'warning' }, exp_annotations: { summary } }] },
  ]);
  assert.match(out, /SUCCESS/);
});

test('the shipped rule files pass promtool check', async () => {
  for (const f of [RULES, POLICY_RULES]) {
    const { stdout } = await run('promtool', ['check', 'rules', f]);
    assert.match(stdout, /SUCCESS/);
  }
});
