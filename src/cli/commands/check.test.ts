// `dhrishti check`'s pure parts (unit test): the selector notes and warnings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coverageLines } from './check-run.js';
import { loadPolicyText } from '../../policy/load.js';
import { selectorGaps } from '../../policy/coverage.js';
import { knownWorkloads } from '../../api/workloads.js';
import { LiveGraph } from '../../graph/live-graph.js';
import type { ContainerInfo } from '../../identity/types.js';
import { identity, ev, container, WEB, DB } from '../../../test/support/fixtures.js';

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
    listening: () => [{ port: 22, netns: 1, pid: 700, comm: 'sshd' }, { port: 5432, netns: 2, pid: 5, comm: 'postgres' }, { port: 9, netns: 1, pid: 0, comm: '' }],
    resolveOwner: (q) => identity.resolveOwner({ ...q, cgroupId: q.pid === 5 ? DB.cgroupId : 0 }),
  });
  assert.deepEqual(running.map((w) => w.id), ['svc:shop/web', 'svc:shop/db', 'proc:sshd'], 'running containers and listening processes, once each');
  // The live graph lists the listeners it was told of, as the agent's list reads them.
  const g = new LiveGraph(identity);
  g.ingest([ev({ type: 'listen', role: 'server', saddr: '0.0.0.0', sport: 22, netns: 1, pid: 700, comm: 'sshd', cgroupId: 0 })], 1000);
  assert.deepEqual(g.listening(), [{ port: 22, netns: 1, pid: 700, comm: 'sshd' }]);
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

