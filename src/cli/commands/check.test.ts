// `dhrishti check`'s pure parts (unit test): the selector notes and warnings,
// and the rows of an edge whose connections were made before the agent started.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coverageLines, judge, tableText } from './check-run.js';
import { loadPolicyText } from '../../policy/load.js';
import { selectorGaps } from '../../policy/coverage.js';
import { knownWorkloads } from '../../api/workloads.js';
import { LiveGraph } from '../../graph/live-graph.js';
import type { ConnEvent } from '../../events/types.js';
import type { ContainerInfo } from '../../identity/types.js';
import { identity, ev, connection, container, web, db, WEB, DB, WEB_DB } from '../../../test/support/fixtures.js';

const POLICY = `zones:
  srv: {name: web-1}
  typo: {name: wbe}
  daemon: {process: sshd}
  dbs: {compose_service: db}
rules:
  - name: no-web-to-db
    deny: {from: srv, to: dbs}
`;

test('a selector matching a running container (or listening process) that is not on the map yet gets a note saying so, not "matches nothing"', () => {
  const p = loadPolicyText('p.yaml', POLICY);
  const stopped: ContainerInfo = { ...container('old-1', '10.0.0.9', 109, null), state: 'stopped' };
  const gone: ContainerInfo = { ...container('wbe', '10.0.0.8', 108, null), removed: true };
  // The agent's list: web-1 and db-1 run, a stopped and a removed container do not; sshd listens on the host, db-1's listener is db-1.
  const running = knownWorkloads({
    containers: () => [WEB, DB, stopped, gone],
    listening: () => [{ port: 22, netns: 1, pid: 700, comm: 'sshd', cgroupId: 0 }, { port: 5432, netns: 2, pid: 5, comm: 'postgres', cgroupId: DB.cgroupId }, { port: 9, netns: 1, pid: 0, comm: '', cgroupId: 0 }],
    resolveOwner: (q) => identity.resolveOwner(q),
  });
  assert.deepEqual(running.map((w) => w.id), ['svc:shop/web', 'svc:shop/db', 'proc:sshd'], 'running containers and listening processes, once each');
  // The live graph lists the listeners it was told of, as the agent's list reads them.
  const g = new LiveGraph(identity);
  g.ingest([ev({ type: 'listen', role: 'server', saddr: '0.0.0.0', sport: 22, netns: 1, pid: 700, comm: 'sshd', cgroupId: 0 })], 1000);
  assert.deepEqual(g.listening().map(({ port, pid, comm }) => ({ port, pid, comm })), [{ port: 22, pid: 700, comm: 'sshd' }]);
  // Right after a restart the map holds only db (no connection of web-1's or sshd's yet).
  const dbNode = { ...running[1], firstSeen: 0, lastSeen: 0, active: 0 };
  const lines = coverageLines(selectorGaps(p, [dbNode], running), 'the live map at http://127.0.0.1:7997', true);
  assert.equal(lines.length, 3, lines.join('\n'));
  assert.match(lines[0], /^note: p\.yaml:2:8: zone "srv": selector \{name: web-1\} matches no node in the live map at \S+ yet: web-1 is running but made no connection the agent saw/);
  assert.ok(!/matches nothing/.test(lines[0]));
  assert.match(lines[1], /^warning: p\.yaml:3:9: zone "typo": selector \{name: wbe\} matches nothing in the live map/, 'a typo (or a removed container) still warns');
  assert.match(lines[2], /^note: .*zone "daemon".*: sshd is running/);
  // Without the agent's list (a stopped agent's history file, an older agent), every gap is a warning, as before.
  assert.ok(coverageLines(selectorGaps(p, [dbNode]), 'x', true).every((l) => l.startsWith('warning: ') && l.includes('matches nothing in x')));
  // Over a history range: running now, silent in that time.
  assert.match(coverageLines(selectorGaps(p, [dbNode], running), "the agent's history (last 1h)", false)[0], /web-1 is running but made no connection in that time$/);
});

test('a violation whose connections were open before the agent started shows them open and made before start (table and json rows), not 0 and 0', () => {
  const g = new LiveGraph(identity);
  const existing = (p: Partial<ConnEvent>) => ev({ type: 'existing', cookie: 0, startTime: 0, midflight: true, ...p });
  // three web -> db connections found open at start-up ...
  g.ingest([40700, 40701, 40702].flatMap((port) => [
    existing({ role: 'client', saddr: '10.0.0.2', sport: port, daddr: '10.0.0.4', dport: 5432, cgroupId: 100 }),
    existing({ role: 'server', saddr: '10.0.0.4', sport: 5432, daddr: '10.0.0.2', dport: port, cgroupId: 102 }),
  ]), 1000);
  g.tick(5000);
  const p = loadPolicyText('p.yaml', POLICY);
  let [row] = judge(p, g.snapshot({}, 5000), true);
  assert.equal(row.edge, WEB_DB);
  assert.deepEqual([row.verdict, row.attempted, row.connections, row.attempts, row.open, row.beforeStart], ['violation', false, 0, 0, 3, 3]);
  const text = tableText([row], true);
  assert.match(text.split('\n')[0], /CONNECTED\s+OPEN\s+ATTEMPTS/);
  assert.match(text.split('\n')[1], /svc:shop\/db\s+5432\s+0 \+3 before start\s+3\s+0\s/);
  assert.match(text, /\+N before start: connections made before the agent started, found open at its start-up/);
  // ... and one more opened and closed since: 1 seen opening, 3 made before, 3 still open
  const c = connection(web, db, 6000, { sent: 10 });
  g.ingest([...c.open, ...c.close], 6100);
  [row] = judge(p, g.snapshot({}, 6200), true);
  assert.deepEqual([row.connections, row.open, row.beforeStart], [1, 3, 3]);
  assert.deepEqual(JSON.parse(JSON.stringify(row)).beforeStart, 3, 'in --format json too');
  // A history map's counts are its range's: no "before start" there, OPEN is the most open at once.
  [row] = judge(p, g.snapshot({}, 6200));
  assert.equal(row.beforeStart, null);
  assert.match(tableText([row], false), /OPEN \(MOST\)/);
  assert.ok(!/before start/.test(tableText([row], false)));
});
