// Decoding what exec said of a process (unit test; the layout itself is checked against BTF in test/layout.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeExec, EXEC, EXEC_ARGS, EXEC_SIZE } from './proc-layout.js';

function record(comm: string, args: string, len = Buffer.byteLength(args)): Buffer {
  const b = Buffer.alloc(EXEC_SIZE);
  b.write(comm, EXEC.comm);
  b.write(args, EXEC.args);
  b.writeUInt32LE(len, EXEC.args_len);
  return b;
}

test('argv from the NUL-separated bytes; a cut last argument is kept as cut; no bytes, no facts', () => {
  const r = record('node', 'node\0/srv/report.js\0--day\0');
  r.writeBigUInt64LE(123_456_789_000n, EXEC.start_ns);
  assert.deepEqual(decodeExec(r), { comm: 'node', argv: ['node', '/srv/report.js', '--day'], startNs: 123_456_789_000 });
  const long = 'python3\0' + 'x'.repeat(400);
  assert.deepEqual(decodeExec(record('python3', long.slice(0, EXEC_ARGS), EXEC_ARGS))!.argv, ['python3', 'x'.repeat(EXEC_ARGS - 8)]);
  assert.equal(decodeExec(record('sh', '', 0)), null);
  assert.equal(decodeExec(record('sh', 'sh\0', 9999))!.argv[0], 'sh', 'a length past the array is bounded by it');
});

test('the exec record\'s command name decodes as a connection event\'s does (printable), so the two still match', () => {
  const b = Buffer.alloc(EXEC_SIZE);
  b.writeUInt32LE(3, EXEC.args_len);
  b.write('x\x1bé', EXEC.comm, 'utf8');
  b.write('a\0b', EXEC.args, 'latin1');
  assert.equal(decodeExec(b)!.comm, 'x???');
});
