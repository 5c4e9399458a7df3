// The agent's own series on /metrics, read from a real `dhrishti run`: labelled with its host, measured right.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startAgent, type RunningAgent } from './support/agent.js';
import { BPF_STATS_ENABLED_PATH } from '../src/config/defaults.js';
import { TestDockerd, ensureTestImage, runContainer } from './support/dockerd.js';

const HOST = 'selftest-h';
const PORT = 7971;
let agent: RunningAgent;
before(async () => { agent = await startAgent(['--hostname', HOST, '--docker-socket', '/tmp/dhrishti-no-such-docker.sock'], PORT); });
after(async () => { await agent?.stop(); });

interface Row { name: string; labels: string; value: number }

async function scrape(): Promise<Row[]> {
  const text = await (await fetch(`${agent.url}/metrics`)).text();
  return text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => {
    const m = /^([a-zA-Z_:][\w:]*)(\{.*\})? (\S+)$/.exec(l);
    if (!m) throw new Error(`unparsable row: ${l}`);
    return { name: m[1], labels: m[2] ?? '', value: Number(m[3]) };
  });
}

test('every dhrishti series carries the agent\'s host label, once', async () => {
  const rows = (await scrape()).filter((r) => r.name.startsWith('dhrishti_'));
  assert.ok(rows.length > 50, `${rows.length} rows`);
  const wrong = rows.filter((r) => (r.labels.match(/(?:^\{|,)host="/g) ?? []).length !== 1 || !r.labels.includes(`host="${HOST}"`));
  assert.deepEqual(wrong.map((r) => `${r.name}${r.labels}`), []);
  for (const reason of ['ringbuf_full', 'conn_map_full', 'malformed', 'probe_skipped']) {
    assert.ok(rows.some((r) => r.name === 'dhrishti_lost_events_total' && r.labels.includes(`reason="${reason}"`)), reason);
  }
  assert.ok(rows.some((r) => r.name === 'dhrishti_edge_connections_opened_total' || r.name === 'dhrishti_export_edges'), 'edge rows still there');
});

test('the counters policy alerts watch are on /metrics at 0 before their first event', async () => {
  const rows = await scrape();
  const at0 = (name: string, label: string) => rows.some((r) => r.name === name && r.labels.includes(label) && r.value === 0);
  for (const reason of ['queue_full', 'retries', 'rejected']) assert.ok(at0('dhrishti_alert_webhook_dropped_total', `reason="${reason}"`), reason);
  for (const file of ['policy', 'compose']) assert.ok(at0('dhrishti_policy_reloads_total', `file="${file}",result="refused"`), file);
});

const value = (rows: Row[], name: string) => {
  const r = rows.find((x) => x.name === name);
  assert.ok(r, `${name} on /metrics`);
  return r.value;
};

test('an idle agent\'s event-loop lag reads near 0, not the 100 ms sampling interval', async () => {
  await scrape(); // the histogram starts again at each scrape
  await new Promise((r) => setTimeout(r, 3000));
  const rows = await scrape();
  const p50 = value(rows, 'dhrishti_nodejs_eventloop_lag_p50_seconds');
  const min = value(rows, 'dhrishti_nodejs_eventloop_lag_min_seconds');
  assert.ok(p50 >= 0 && p50 < 0.02, `p50 ${p50} s`);
  assert.ok(min >= 0 && min < 0.02, `min ${min} s`);
});

test('dhrishti_process_cpu_seconds_total matches /proc/<pid>/stat utime+stime within a tick, start-up included', async () => {
  // utime and stime are fields 14 and 15, in clock ticks (100 a second); the command name may hold spaces.
  const ticks = () => { const f = fs.readFileSync(`/proc/${agent.child.pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) / 100; };
  // Each of the two fields is cut down to whole ticks on its own, so their sum may read up to two ticks short.
  const TICK = 0.01;
  const lo = ticks();
  const cpu = value(await scrape(), 'dhrishti_process_cpu_seconds_total');
  const hi = ticks();
  assert.ok(lo > 0.5, `the agent used ${lo} s at start`);
  assert.ok(cpu >= lo - TICK && cpu <= hi + 2 * TICK, `/metrics ${cpu} s, /proc ${lo}..${hi} s`);
});

test('dhrishti_docker_up says 0 for a socket nobody answers on', async () => {
  const rows = await scrape();
  assert.equal(value(rows, 'dhrishti_docker_up'), 0);
  assert.ok(rows.some((r) => r.name === 'dhrishti_docker_containers' && r.labels.includes('state="running"') && r.value === 0));
});

const LINK = `/tmp/dhrishti-selftest-${process.pid}-docker.sock`;

test('dhrishti_docker_up is 1 while a real dockerd answers, and 0 after it stops; its containers are counted', async () => {
  const dockerd = await TestDockerd.start();
  let other: RunningAgent | undefined;
  let dockerdUp = true;
  try {
    // Through a link outside dockerd's folder: stopping the test dockerd kills every process naming that folder.
    fs.rmSync(LINK, { force: true });
    fs.symlinkSync(dockerd.socketPath, LINK);
    other = await startAgent(['--hostname', 'docker-h', '--docker-socket', LINK], PORT + 1);
    const read = async (name: string, label = '') => {
      const text = await (await fetch(`${other!.url}/metrics`)).text();
      const row = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(label));
      return row ? Number(row.split(' ').pop()) : NaN;
    };
    assert.equal(await read('dhrishti_docker_up'), 1);
    assert.equal(await read('dhrishti_docker_containers', 'state="running"'), 0);
    await ensureTestImage(dockerd);
    await runContainer(dockerd, { name: 'dhrishti-selftest-idle', network: 'none' });
    const until = Date.now() + 15_000;
    while ((await read('dhrishti_docker_containers', 'state="running"')) !== 1 && Date.now() < until) await new Promise((r) => setTimeout(r, 250));
    assert.equal(await read('dhrishti_docker_containers', 'state="running"'), 1, 'one container started');
    await dockerd.stop();
    dockerdUp = false;
    const deadline = Date.now() + 15_000;
    while ((await read('dhrishti_docker_up')) !== 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    assert.equal(await read('dhrishti_docker_up'), 0, 'dockerd stopped');
  } finally {
    await other?.stop();
    if (dockerdUp) await dockerd.stop();
    fs.rmSync(LINK, { force: true });
  }
});

test('each probe\'s time in the kernel: counted while kernel.bpf_stats_enabled is 1, on /api/v1/agent and /metrics', async () => {
  const STATS = BPF_STATS_ENABLED_PATH;
  const was = fs.readFileSync(STATS, 'utf8').trim();
  const kernelTime = async () => ((await (await fetch(`${agent.url}/api/v1/agent`)).json()) as { kernelTime: { counting: boolean; programs: Record<string, { ns: number; runs: number }> } }).kernelTime;
  try {
    fs.writeFileSync(STATS, '0');
    const off = await kernelTime();
    assert.equal(off.counting, false);
    assert.ok('dh_sock_send_length' in off.programs, Object.keys(off.programs).join(', '));
    fs.writeFileSync(STATS, '1');
    const a = await kernelTime();
    for (let i = 0; i < 20; i++) await scrape(); // this test's own HTTP: sends and receives on loopback
    const b = await kernelTime();
    assert.equal(b.counting, true);
    const send = (t: typeof a) => t.programs.dh_sock_send_length;
    assert.ok(send(b).runs - send(a).runs >= 20, `runs ${send(a).runs} -> ${send(b).runs}`);
    assert.ok(send(b).ns > send(a).ns);
    const rows = await scrape();
    assert.ok(rows.some((r) => r.name === 'dhrishti_probe_run_seconds_total' && r.labels.includes('program="dh_sock_send_length"') && r.value > 0));
    assert.ok(rows.some((r) => r.name === 'dhrishti_probe_runs_total' && r.labels.includes('program="dh_sock_recv_length"') && r.value > 0));
  } finally {
    fs.writeFileSync(STATS, was);
  }
});
