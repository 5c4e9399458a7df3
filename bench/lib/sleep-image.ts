// The smallest useful container image made on this machine: the host's
// /bin/sleep and the libraries it links, imported with Docker. An idle
// container of it costs a few hundred kB, where a node one costs ~40 MB.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { librariesOf } from '../../src/demo/image.js';

const run = promisify(execFile);
const SLEEP = '/bin/sleep';

/** Imports `tag` (runs `sleep infinity`) unless the daemon has it; `docker` runs the docker CLI. */
export async function ensureSleepImage(tag: string, docker: (args: string[]) => Promise<string>): Promise<string> {
  try { await docker(['image', 'inspect', tag]); return tag; } catch { /* import it */ }
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-sleep-rootfs-'));
  const tar = `${stage}.tar`;
  try {
    const real = fs.realpathSync(SLEEP);
    for (const file of [SLEEP, ...(await librariesOf(real))]) {
      const dest = path.join(stage, file);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.copyFileSync(file === SLEEP ? real : file, dest);
      fs.chmodSync(dest, 0o755);
    }
    await run('tar', ['-C', stage, '-cf', tar, '.']);
    await docker(['import', '--change', 'CMD ["/bin/sleep", "infinity"]', tar, tag]);
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
    fs.rmSync(tar, { force: true });
  }
  return tag;
}
