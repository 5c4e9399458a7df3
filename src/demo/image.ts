// A tiny container image made on this machine (no registry needed): the host's
// own node binary and the shared libraries it links, imported with Docker.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const NODE = process.execPath;

/** Shared libraries and loader `ldd` lists for a binary. */
export async function librariesOf(binary: string): Promise<string[]> {
  const { stdout } = await run('ldd', [binary]);
  const out: string[] = [];
  for (const line of stdout.split('\n')) {
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (m) out.push(m[1]);
  }
  return out;
}

/** Builds (once; cached while newer than node) a root filesystem tarball holding node and its libraries. */
export async function nodeRootfsTar(tarPath = path.join(os.tmpdir(), 'dhrishti-node-rootfs.tar')): Promise<string> {
  try { if (fs.statSync(tarPath).mtimeMs >= fs.statSync(NODE).mtimeMs) return tarPath; } catch { /* build it */ }
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-rootfs-'));
  try {
    for (const file of [NODE, ...(await librariesOf(NODE))]) {
      const dest = path.join(stage, file === NODE ? '/usr/bin/node' : file);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.copyFileSync(file, dest);
      fs.chmodSync(dest, 0o755);
    }
    fs.mkdirSync(path.join(stage, 'tmp'), { mode: 0o1777 });
    fs.mkdirSync(path.join(stage, 'etc'));
    fs.writeFileSync(path.join(stage, 'etc/passwd'), 'root:x:0:0:root:/:/usr/bin/node\n');
    const partial = `${tarPath}.${process.pid}`;
    await run('tar', ['-C', stage, '-cf', partial, '.']);
    fs.renameSync(partial, tarPath); // atomic: nobody reads half a tarball
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
  return tarPath;
}

/** Imports the node image under `tag` unless the daemon has it; `docker` runs the docker CLI. */
export async function ensureNodeImage(tag: string, docker: (args: string[]) => Promise<string>): Promise<string> {
  try { await docker(['image', 'inspect', tag]); return tag; } catch { /* import it */ }
  await docker(['import', '--change', 'CMD ["/usr/bin/node"]', await nodeRootfsTar(), tag]);
  return tag;
}
