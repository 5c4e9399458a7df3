import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerNode, HOST_NODE, ownerNode, processName, redactArgs, SELF_NAME } from './naming.js';
import { CONTAINERS } from '../../test/support/fixtures.js';

test('a host process is named as ps names it, whatever its executable resolves to; a cut name is completed from the executable', () => {
  // Debian: /usr/bin/redis-server -> redis-check-rdb; /usr/bin/python3 -> python3.11
  assert.equal(processName({ unit: null, exe: 'redis-check-rdb', comm: 'redis-server' }), 'redis-server');
  assert.equal(processName({ unit: null, exe: 'python3.11', comm: 'python3' }), 'python3');
  assert.equal(processName({ unit: null, exe: '', comm: 'python3' }), 'python3', 'gone before /proc was read: the same name');
  assert.equal(processName({ unit: null, exe: 'containerd-shim-runc-v2', comm: 'containerd-shim' }), 'containerd-shim-runc-v2');
  assert.equal(processName({ unit: null, exe: 'node', comm: '' }), 'node');
  assert.equal(processName({ unit: 'nginx.service', exe: 'nginx', comm: 'nginx' }), 'nginx');
  assert.equal(processName({ unit: null, exe: '', comm: '' }), 'unknown');
});

test('an interpreter is named by the script it runs; inline code, a REPL and unreadable arguments keep the command name', () => {
  assert.equal(processName({ unit: null, exe: 'node', comm: 'node', argv: ['node', '/srv/api.js'] }), 'api.js');
  assert.equal(processName({ unit: null, exe: 'python3.11', comm: 'python3', argv: ['python3', '-m', 'http.server'] }), 'http.server');
  assert.equal(processName({ unit: null, exe: 'node', comm: 'node', argv: ['node', '-e', 'x'] }), 'node');
  assert.equal(processName({ unit: null, exe: 'node', comm: 'node', argv: [] }), 'node', 'cmdline unreadable');
  assert.equal(processName({ unit: null, exe: 'node', comm: 'node' }), 'node');
  assert.equal(processName({ unit: 'api.service', exe: 'node', comm: 'node', argv: ['node', '/srv/api.js'] }), 'api', 'a systemd service wins');
  assert.equal(processName({ unit: 'session-3.scope', exe: 'node', comm: 'node', argv: ['node', '/srv/api.js'] }), 'api.js');
  assert.equal(processName({ unit: null, exe: 'nginx', comm: 'nginx', argv: ['nginx', 'x.js'] }), 'nginx', 'not an interpreter');
});

test('the agent itself is dhrishti, whatever runs it', () => {
  assert.equal(processName({ unit: null, exe: 'node', comm: 'node', argv: ['node', '/opt/dhrishti/dist/src/cli/main.js', 'run'], self: true }), SELF_NAME);
  assert.equal(processName({ unit: 'dhrishti-agent.service', exe: 'node', comm: 'node', self: true }), 'dhrishti');
  const n = ownerNode({ kind: 'process', pid: 42, comm: 'node', exe: 'node', cmdline: 'node x', argv: ['node', 'x'], unit: null, self: true });
  assert.deepEqual([n.id, n.label], ['proc:dhrishti', 'dhrishti']);
});

test('two scripts under one interpreter are two nodes; each instance carries its command line, cleaned', () => {
  const api = ownerNode({ kind: 'process', pid: 10, comm: 'node', exe: 'node', cmdline: '', argv: ['node', '/srv/api.js', '--port', '19001'], unit: null });
  const backend = ownerNode({ kind: 'process', pid: 11, comm: 'node', exe: 'node', cmdline: '', argv: ['node', '/srv/backend.js'], unit: null });
  assert.deepEqual([api.id, api.label, backend.id], ['proc:api.js', 'api.js', 'proc:backend.js']);
  assert.deepEqual(api.instance, { id: 'pid:10', name: 'node', pids: [10], ips: [], command: 'node /srv/api.js --port 19001' });
  const inline = ownerNode({ kind: 'process', pid: 12, comm: 'node', exe: 'node', cmdline: '', argv: ['node', '-e', 'a\x1b\nb'.repeat(100)], unit: null });
  assert.equal(inline.id, 'proc:node');
  assert.ok(inline.instance!.command!.length <= 200 && !/[\x00-\x1f]/.test(inline.instance!.command!));
  const secret = ownerNode({ kind: 'process', pid: 14, comm: 'node', exe: 'node', cmdline: '', unit: null,
    argv: ['node', 'app.js', '--db', 'postgres://app:hunter2@db:5432/x', '--api-token=abc123', '--password', 's3cret', '--port', '80'] });
  assert.equal(secret.instance!.command, 'node app.js --db postgres://app:***@db:5432/x --api-token=*** --password *** --port 80', 'no secret published');
  const port = ownerNode({ kind: 'process', pid: 16, comm: 'node', exe: 'node', cmdline: '', unit: null, argv: ['node', 'probe.js', 'http://web:8080/a@b'] });
  assert.equal(port.instance!.command, 'node probe.js http://web:8080/a@b', 'a port and an @ in the path are not a password');
  // review F: these went out whole
  const cmd = (argv: string[]) => redactArgs(argv).join(' ');
  assert.equal(cmd(['curl', '-H', 'Authorization: Bearer BEARERSECRET99', 'http://api/x']), 'curl -H Authorization: *** http://api/x');
  assert.equal(cmd(['curl', '--header=X-Api-Key: k123', '-H', 'Accept: text/plain']), 'curl --header=X-Api-Key: *** -H Accept: text/plain');
  assert.equal(cmd(['curl', '-u', 'bob', '-H', 'Cookie: sid=abc']), 'curl -u bob -H Cookie: ***');
  assert.equal(cmd(['/usr/bin/mysql', '-h', 'db', '-uroot', '-pMyS3cretPw', 'shop']), '/usr/bin/mysql -h db -uroot -p*** shop');
  assert.equal(cmd(['mysql', '-p', 'shop']), 'mysql -p shop', 'a bare -p asks for the password: nothing to mask');
  assert.equal(cmd(['redis-cli', '-a', 'pw1', 'PING']), 'redis-cli -a *** PING');
  assert.equal(cmd(['python3', 'x.py', '-p8080', '-a', 'all']), 'python3 x.py -p8080 -a all', 'other programs\' -p and -a are kept');
  assert.equal(cmd(['app', 'Bearer abc.def']), 'app Bearer ***');
  // review G: a query string went out whole in a curl's command line, and into the history
  assert.equal(cmd(['curl', '-s', 'http://127.0.0.1:18001/slow?token=SECRETD1&x=2']), 'curl -s http://127.0.0.1:18001/slow?***');
  assert.equal(cmd(['wget', 'api:8080/export?key=k1#top']), 'wget api:8080/export?***#top');
  assert.equal(cmd(['grep', '-E', 'a?b', 'file']), 'grep -E a?b file', 'a ? that starts no query stays');
  // review O: these went out whole, to the API and the history
  assert.equal(cmd(['curl', '-H', 'PRIVATE-TOKEN: glpat-Secret', '-H', 'Api-Key: SecretApiKeyValue', '-H', 'apikey: k9', '-H', 'Accept: */*']),
    'curl -H PRIVATE-TOKEN: *** -H Api-Key: *** -H apikey: *** -H Accept: */*');
  assert.equal(cmd(['python3', '-c', 'x', 'host=db user=app password=S3cretLibpq dbname=shop']), 'python3 -c x host=db user=app password=*** dbname=shop', 'libpq conninfo');
  assert.equal(cmd(['app', 'DB_PASSWORD=S3cret', 'API_TOKEN="a b"', 'MODE=prod']), 'app DB_PASSWORD=*** API_TOKEN=*** MODE=prod');
  assert.equal(cmd(['sshpass', '-pS3cret', 'ssh', 'h']), 'sshpass -p*** ssh h');
  assert.equal(cmd(['mongosh', '-u', 'admin', '-p', 'S3cret', 'mongodb://db']), 'mongosh -u admin -p *** mongodb://db');
  assert.equal(cmd(['docker', 'login', '-u', 'me', '-p', 'S3cret', 'registry']), 'docker login -u me -p *** registry');
  assert.equal(cmd(['wget', '-u', 'user:S3cret', 'http://x/']), 'wget -u user:*** http://x/');
  assert.equal(cmd(['tar', '-u', 'file.tar', 'a']), 'tar -u file.tar a', 'a -u value without a colon stays');
  // review Q: still out whole, or masked though harmless
  assert.equal(cmd(['curl', '-ualice:S3cret', '-U', 'proxy:S3cret', 'http://x/']), 'curl -ualice:*** -U proxy:*** http://x/');
  assert.equal(cmd(['curl', '-d', '{"user":"a","password":"S3c\\"ret","api_key":"k1"}', 'http://x/']), 'curl -d {"user":"a","password":"***","api_key":"***"} http://x/');
  assert.equal(cmd(['sudo', '-E', 'docker', 'login', '-u', 'me', '-p', 'S3cret', 'reg']), 'sudo -E docker login -u me -p *** reg', 'past sudo');
  assert.equal(cmd(['env', 'A=1', 'mysql', '-pS3cret']), 'env A=1 mysql -p***');
  assert.equal(cmd(['docker', 'run', '-p', '8080:80', '-u', '1000:1000', 'img']), 'docker run -p 8080:80 -u 1000:1000 img', 'a published port and a uid:gid stay');
  assert.equal(cmd(['redis-cli', 'GET', 'session:1234']), 'redis-cli GET session:1234', 'a key that looks like a header stays');
  assert.equal(cmd(['http', 'GET', 'api:8080/x', 'X-API-Key:abc', 'Accept:json']), 'http GET api:8080/x X-API-Key: *** Accept:json', 'HTTPie takes headers as arguments');
  const self = ownerNode({ kind: 'process', pid: 15, comm: 'node', exe: 'node', cmdline: '', unit: null, self: true, argv: ['node', '/opt/dhrishti/dist/src/cli/main.js', 'run'] });
  assert.deepEqual([self.id, self.instance!.command], ['proc:dhrishti', undefined], 'the agent: its name says it');
  const hub = ownerNode({ kind: 'process', pid: 17, comm: 'node', exe: 'node', cmdline: '', unit: null, argv: ['node', '--max-semi-space-size=2', '/opt/dhrishti/dist/src/cli/main.js', 'hub', '--prometheus', 'http://127.0.0.1:9090'] });
  assert.equal(hub.id, 'proc:dhrishti-hub', 'another Dhrishti process: its command, not cli/main.js (review F)');
  const theirs = ownerNode({ kind: 'process', pid: 18, comm: 'node', exe: 'node', cmdline: '', unit: null, argv: ['node', '/srv/app/dist/src/cli/main.js', 'serve'] });
  assert.equal(theirs.id, 'proc:cli/main.js', 'a program of the same layout with commands of its own stays itself');
  const gone = ownerNode({ kind: 'process', pid: 13, comm: 'node', exe: '', cmdline: '', unit: null });
  assert.deepEqual([gone.id, gone.instance!.command], ['proc:node', undefined]);
});

test('the host end no process owns says so; its id stays proc:host', () => {
  assert.deepEqual([HOST_NODE.id, HOST_NODE.label], ['proc:host', 'host (no listener)']);
});

test('a process node\'s name never carries control characters or `|`, the separator of edge ids', () => {
  assert.equal(processName({ unit: null, exe: 'x', comm: 'a|b' }), 'a_b');
  assert.equal(processName({ unit: null, exe: 'evil\nname-longer-than-fifteen', comm: 'evil?name-longe' }), 'evil?name-longe');
  assert.equal(processName({ unit: null, exe: 'tool\u202ename-longer-than-15', comm: 'tool\u202ename-long' }), 'toolname-long', 'format characters too');
  assert.equal(ownerNode({ kind: 'unknown', pid: 3, comm: 'x|y\u0007', cgroupId: 0 }).id, 'proc:x_y');
});

test('a container label holding a credential (Traefik basic auth users, a password) is published as ***; the others as they are', () => {
  const c = { ...CONTAINERS[0], labels: { 'traefik.http.middlewares.a.basicauth.users': 'admin:$apr1$x$y', 'com.example.db-password': 'S3cret', 'com.example.tenant': 'acme', 'com.docker.compose.service': 'web' } };
  const n = containerNode(c);
  assert.deepEqual(n.labels, { 'traefik.http.middlewares.a.basicauth.users': '***', 'com.example.db-password': '***', 'com.example.tenant': 'acme', 'com.docker.compose.service': 'web' });
  const words = containerNode({ ...CONTAINERS[0], labels: { 'org.opencontainers.image.authors': 'me', 'traefik.http.services.s.loadbalancer.sticky.cookie.name': 'lb', 'traefik.http.services.s.loadbalancer.passhostheader': 'true', 'app.api-key': 'k', 'app.dbPassword': 'p' } });
  assert.deepEqual(words.labels, { 'org.opencontainers.image.authors': 'me', 'traefik.http.services.s.loadbalancer.sticky.cookie.name': 'lb', 'traefik.http.services.s.loadbalancer.passhostheader': 'true', 'app.api-key': '***', 'app.dbPassword': '***' }, 'whole words of the key only');
  assert.equal(containerNode(c).labels, n.labels, 'made once per labels object');
  const plain = { ...CONTAINERS[0], labels: { a: '1' } };
  assert.equal(containerNode(plain).labels, plain.labels, 'nothing to mask: the same object');
});
