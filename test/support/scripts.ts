// Small TCP programs run as separate processes, so events carry their own pids.

/** Server: argv host; prints "port N"; reads each connection to its end, then replies argv[2] bytes. */
export const SERVER = `
const net = require('net');
const [host, reply] = process.argv.slice(1);
const srv = net.createServer((s) => {
  let got = 0;
  s.on('data', (d) => { got += d.length; });
  s.on('end', () => { console.log('received ' + got); s.end(Buffer.alloc(Number(reply || 0), 7)); });
  s.on('error', () => {});
});
srv.listen(0, host, () => console.log('port ' + srv.address().port));
`;

/** Client: argv host port bytes; prints "local N" once connected and "done N" with bytes received. */
export const CLIENT = `
const net = require('net');
const [host, port, bytes] = process.argv.slice(1);
const c = net.connect(Number(port), host, () => {
  console.log('local ' + c.localPort);
  c.end(Buffer.alloc(Number(bytes), 1));
});
let got = 0;
c.on('data', (d) => { got += d.length; });
c.on('close', () => { console.log('done ' + got); });
c.on('error', (e) => { console.log('error ' + e.code); });
`;

/** Holds a connection open: prints "local N", then on each stdin line "send K" writes K bytes. */
export const HOLDER = `
const net = require('net');
const readline = require('readline');
const [host, port] = process.argv.slice(1);
const c = net.connect(Number(port), host, () => console.log('local ' + c.localPort));
readline.createInterface({ input: process.stdin }).on('line', (l) => {
  const [cmd, n] = l.split(' ');
  if (cmd === 'send') c.write(Buffer.alloc(Number(n), 2), () => console.log('sent ' + n));
  if (cmd === 'end') c.end();
});
c.on('close', () => process.exit(0));
`;

/** Echo-less sink server that keeps connections open; prints "port N" and "got N" per chunk total. */
export const SINK = `
const net = require('net');
const [host] = process.argv.slice(1);
let total = 0;
const srv = net.createServer((s) => { s.on('data', (d) => { total += d.length; console.log('got ' + total); }); s.on('error', () => {}); });
srv.listen(0, host, () => console.log('port ' + srv.address().port));
`;

/** Makes `count` short connections to host:port, `parallel` at a time; prints "made N". */
export const HAMMER = `
const net = require('net');
const [host, port, count, parallel] = process.argv.slice(1).map((x, i) => i ? Number(x) : x);
let started = 0, done = 0;
function one() {
  if (started >= count) return;
  started++;
  const c = net.connect(port, host, () => c.end('x'));
  c.on('error', () => {});
  c.on('close', () => { done++; if (done === count) console.log('made ' + done); else one(); });
}
for (let i = 0; i < parallel; i++) one();
`;

/** Python client with TCP_SYNCNT=1, so a dropped SYN times out in about 3 s. */
export const PY_SYNCNT_CLIENT = `
import socket, sys, os
print('pid', os.getpid(), flush=True)
s = socket.socket(); s.setsockopt(socket.IPPROTO_TCP, socket.TCP_SYNCNT, 1)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    print('connected', flush=True)
except OSError as e:
    print('error', e.errno, flush=True)
`;

/** Server that accepts, reads the first chunk, then resets the connection (RST, not FIN). */
export const RESETTER = `
const net = require('net');
const srv = net.createServer((s) => { s.once('data', () => s.resetAndDestroy()); s.on('error', () => {}); });
srv.listen(0, process.argv[1], () => console.log('port ' + srv.address().port));
`;

/** Server that greets each connection with a line, then reads; prints "error CODE" when a client resets it. */
export const GREETER = `
const net = require('net');
const srv = net.createServer((s) => { s.write('hello\\n'); s.on('data', () => {}); s.on('error', (e) => console.log('error ' + e.code)); });
srv.listen(0, process.argv[1], () => console.log('port ' + srv.address().port));
`;

/** Python client that connects to argv[1]:argv[2], lets the greeting arrive, and closes without reading it (the kernel resets). */
export const PY_UNREAD_CLOSER = `
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
print('local', s.getsockname()[1], flush=True)
time.sleep(0.3)
s.close()
print('closed', flush=True)
`;

/** Server that answers each request 300 ms late, after its client may have left (half-open, as nginx is); prints "error CODE" on a failed write. */
export const LATE_ANSWER = `
const net = require('net');
const srv = net.createServer({ allowHalfOpen: true }, (s) => {
  s.once('data', () => setTimeout(() => { s.write('late answer'); setTimeout(() => s.write('and more'), 50); }, 300));
  s.on('error', (e) => console.log('error ' + e.code));
});
srv.listen(0, process.argv[1], () => console.log('port ' + srv.address().port));
`;

/** Python client that sends a request to argv[1]:argv[2] and closes at once (FIN), before any answer. */
export const PY_ASK_AND_LEAVE = `
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
print('local', s.getsockname()[1], flush=True)
s.sendall(b'GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n')
s.close()
print('closed', flush=True)
`;

/**
 * argv[1] loopback connections whose client sends two 1-byte segments to a server that delays its ACKs
 * (TCP_QUICKACK off): with two segments out the probe timer (2·srtt + 2 jiffies) fires before the 40 ms
 * delayed ACK, so each sends one tail loss probe with nothing lost. Prints "local PORT" per client, then "done".
 */
export const PY_LOSS_PROBES = `
import socket, sys, time
srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen()
held = []
for i in range(int(sys.argv[1])):
    c = socket.socket(); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c.connect(srv.getsockname()); s, _ = srv.accept()
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 0)
    time.sleep(0.01)
    c.send(b'a'); c.send(b'b')
    time.sleep(0.1)
    s.recv(16)
    print('local', c.getsockname()[1], flush=True)
    held.append((c, s))
for c, s in held: c.close(); s.close()
print('done', flush=True)
`;

/** Client that sends a little, then waits for the peer; prints "error CODE" or "closed". */
export const WAITER = `
const net = require('net');
const [host, port] = process.argv.slice(1);
const c = net.connect(Number(port), host, () => { console.log('local ' + c.localPort); c.write('hello'); });
c.on('error', (e) => console.log('error ' + e.code));
c.on('close', () => console.log('closed'));
`;

/** Python client bound to argv[1] (local port) that connects to 127.0.0.1:argv[2], then sends 5000 bytes and holds the connection 3 s. */
export const PY_BOUND_CLIENT = `
import socket, sys, time
lport, port = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', lport))
print('connecting', flush=True)
s.connect(('127.0.0.1', port))
print('connected', flush=True)
s.sendall(b'x' * 5000)
time.sleep(3)
s.close()
print('done', flush=True)
`;

/**
 * Python: opens argv[2] connections to 127.0.0.1:argv[1], each from its own
 * SO_REUSEADDR-bound port counted up from 10000 (below the ephemeral range;
 * taken ports are skipped; bind(0) would search the whole range each time);
 * prints "ports P,P,..." (the first 50) and "open N"; holds them until stdin closes.
 */
export const PY_MANY_CLIENTS = `
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
socks, p = [], 10000
while len(socks) < n and p < 32768:
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(('127.0.0.1', p)); s.connect(('127.0.0.1', port)); socks.append(s)
    except OSError:
        s.close()
    p += 1
print('ports ' + ','.join(str(s.getsockname()[1]) for s in socks[:50]), flush=True)
print('open', len(socks), flush=True)
sys.stdin.read()
`;

/** Python: for argv[3] seconds, connects from each of the local ports argv[1] (comma separated) to 127.0.0.1:argv[2] and resets at once; prints "cycles N". */
export const PY_PORT_REUSER = `
import socket, struct, sys, time
ports, target, secs = [int(p) for p in sys.argv[1].split(',')], int(sys.argv[2]), float(sys.argv[3])
end, cycles = time.time() + secs, 0
while time.time() < end:
    for p in ports:
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        try:
            s.bind(('127.0.0.1', p)); s.connect(('127.0.0.1', target)); cycles += 1
        except OSError:
            pass
        s.close()
    time.sleep(0.02)
print('cycles', cycles, flush=True)
`;
