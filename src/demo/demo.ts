// `dhrishti demo up|down`: start or remove the demo system in local Docker.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ensureNodeImage } from './image.js';
import { DEMO_IMAGE, DEMO_NETWORK, DEMO_PROJECT, DEMO_SERVICES, DEMO_SUBNET, GATEWAY_PORT, containerName } from './topology.js';

const run = promisify(execFile);

export function dockerCli(socket: string) {
  return async (args: string[]): Promise<string> => {
    try {
      const { stdout } = await run('docker', ['-H', `unix://${socket}`, ...args], { timeout: 120_000, maxBuffer: 16 << 20 });
      return stdout.trim();
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(err.stderr?.trim() || err.message);
    }
  };
}

export async function demoUp(socket: string, log: (s: string) => void): Promise<void> {
  const docker = dockerCli(socket);
  try { await docker(['version', '--format', '{{.Server.Version}}']); } catch (e) {
    throw new Error(`no Docker daemon answers at ${socket} (${(e as Error).message.split('\n')[0]}); start it (systemctl start docker, or dockerd &) and try again`);
  }
  await demoDown(socket, () => {});
  log(`building image ${DEMO_IMAGE} from this host's node (no registry needed)`);
  await ensureNodeImage(DEMO_IMAGE, docker);
  await docker(['network', 'create', '--driver', 'bridge', '--subnet', DEMO_SUBNET, '--label', `com.docker.compose.project=${DEMO_PROJECT}`, DEMO_NETWORK]);
  for (const s of DEMO_SERVICES) {
    for (let n = 1; n <= s.replicas; n++) {
      const name = containerName(s.service, n);
      const args = ['run', '-d', '--name', name, '--network', DEMO_NETWORK, '--network-alias', s.service,
        '--label', `com.docker.compose.project=${DEMO_PROJECT}`, '--label', `com.docker.compose.service=${s.service}`,
        '--label', `com.docker.compose.container-number=${n}`, '--label', 'dhrishti.demo=1'];
      for (const p of s.publish ?? []) args.push('-p', p);
      args.push(DEMO_IMAGE, '/usr/bin/node', '-e', s.script);
      await docker(args);
      log(`started ${name}`);
    }
    if (s.service === 'store') await new Promise((r) => setTimeout(r, 500)); // let the store listen before its clients connect
  }
  log(`demo is up: gateway on http://127.0.0.1:${GATEWAY_PORT}/; orders calls a dead payments endpoint, so its edge fails`);
}

export async function demoDown(socket: string, log: (s: string) => void): Promise<void> {
  const docker = dockerCli(socket);
  // no daemon is not "no demo containers": the demo may well be running on a daemon this socket does not reach
  const listed = await docker(['ps', '-aq', '--filter', 'label=dhrishti.demo=1']).catch((e: Error) => {
    throw new Error(`cannot list the demo's containers through ${socket}: ${e.message.split('\n')[0]}`);
  });
  const ids = listed.split('\n').filter(Boolean);
  if (ids.length) await docker(['rm', '-f', ...ids]);
  await docker(['network', 'rm', DEMO_NETWORK]).catch(() => '');
  log(ids.length ? `removed ${ids.length} demo containers and the ${DEMO_NETWORK} network` : 'no demo containers running');
}
