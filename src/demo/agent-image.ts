// The agent as a local Docker image, made without a registry: the node root
// filesystem the demo uses, plus the built agent (its JavaScript, BPF object,
// native loader and the shared libraries it links, web UI, production npm
// dependencies), imported with `docker import`.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { BPF_OBJECT_PATH, NATIVE_ADDON_PATH, REPO_ROOT } from '../config/defaults.js';
import { launcherFlags } from '../config/launcher.js';
import { librariesOf, nodeRootfsTar } from './image.js';

const run = promisify(execFile);

export const AGENT_IMAGE = 'dhrishti:local';
/** Where the agent lives in the image. */
const APP = '/app';

/** Fails with what to do when a part of the build is missing. */
function need(file: string, what: string): void {
  if (!fs.existsSync(file)) throw new Error(`${what} is not built (${path.relative(REPO_ROOT, file)}); run: npm run setup`);
}

/** Directories of the production dependencies, as npm resolves them. */
async function productionPackages(): Promise<string[]> {
  const { stdout } = await run('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: REPO_ROOT, maxBuffer: 16 << 20 }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
  return stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith(path.join(REPO_ROOT, 'node_modules') + path.sep));
}

/** Builds the image and imports it under `tag`; `docker` runs the docker CLI (against the daemon to use). */
export async function buildAgentImage(tag: string, docker: (args: string[]) => Promise<string>, say: (s: string) => void = () => {}): Promise<{ tag: string; bytes: number }> {
  const ui = path.join(REPO_ROOT, 'src', 'ui', 'dist');
  need(path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js'), 'the TypeScript');
  need(BPF_OBJECT_PATH, 'the BPF object');
  need(NATIVE_ADDON_PATH, 'the native loader');
  need(path.join(ui, 'index.html'), 'the web UI');
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-agent-image-'));
  try {
    await run('tar', ['-C', stage, '-xf', await nodeRootfsTar()]);
    const addLibraries = async (binary: string) => {
      for (const lib of await librariesOf(binary)) {
        const dest = path.join(stage, lib);
        if (!fs.existsSync(dest)) { fs.mkdirSync(path.dirname(dest), { recursive: true }); fs.copyFileSync(lib, dest); }
      }
    };
    await addLibraries(NATIVE_ADDON_PATH);
    const app = path.join(stage, APP);
    const copy = (rel: string) => fs.cpSync(path.join(REPO_ROOT, rel), path.join(app, rel), { recursive: true, dereference: true });
    for (const rel of ['package.json', 'dist/src', path.relative(REPO_ROOT, BPF_OBJECT_PATH), path.relative(REPO_ROOT, NATIVE_ADDON_PATH), 'src/ui/dist']) copy(rel);
    const pkgs = await productionPackages();
    if (!pkgs.length) throw new Error('npm listed no production dependencies; run: npm run setup');
    for (const dir of pkgs) {
      fs.cpSync(dir, path.join(app, path.relative(REPO_ROOT, dir)), {
        recursive: true, dereference: true,
        // nested node_modules are listed on their own; a native module's C sources are not needed at run time
        filter: (src) => src === dir || !/^[/\\](node_modules|deps)$|[/\\]node_modules$/.test(src.slice(dir.length)),
      });
      // A dependency's native binding (snappy's) needs its shared libraries too (librt, libgcc_s), which node's rootfs may lack.
      for (const f of fs.readdirSync(dir)) if (f.endsWith('.node')) await addLibraries(path.join(dir, f));
    }
    const tar = path.join(stage, '..', `${path.basename(stage)}.tar`);
    await run('tar', ['-C', stage, '-cf', tar, '.']);
    const bytes = fs.statSync(tar).size;
    say(`importing ${(bytes / 1e6).toFixed(0)} MB as ${tag}`);
    try {
      await docker(['import',
        // the launcher's V8 flags: the image runs node directly
        '--change', `ENTRYPOINT ${JSON.stringify(['/usr/bin/node', ...launcherFlags(), `${APP}/dist/src/cli/main.js`])}`,
        '--change', 'CMD ["run"]',
        '--change', `WORKDIR ${APP}`,
        '--change', 'LABEL org.opencontainers.image.title=dhrishti',
        tar, tag]);
    } finally {
      fs.rmSync(tar, { force: true });
    }
    return { tag, bytes };
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}
