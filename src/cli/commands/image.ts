// `dhrishti image`: the agent as a local Docker image, with no registry.
import { dockerSocketOption } from '../options.js';
import type { Command } from 'commander';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { AGENT_IMAGE, buildAgentImage } from '../../demo/agent-image.js';

const run = promisify(execFile);

export function registerImage(program: Command): void {
  program
    .command('image')
    .description('build a local Docker image of the agent (no registry needed); see deploy/ for how to run it')
    .option('--tag <tag>', 'image name', AGENT_IMAGE)
    .addOption(dockerSocketOption())
    .action(async (o: { tag: string; dockerSocket: string }) => {
      const say = (s: string) => console.log(`dhrishti image: ${s}`);
      const docker = async (args: string[]) => {
        try { return (await run('docker', ['-H', `unix://${o.dockerSocket}`, ...args], { maxBuffer: 16 << 20, timeout: 300_000 })).stdout.trim(); } catch (e) {
          const err = e as { stderr?: string; message: string };
          throw new Error(`docker ${args[0]}: ${err.stderr?.trim() || err.message}`);
        }
      };
      try {
        // The daemon first: the image stages a few hundred MB before it is handed over.
        await docker(['version', '--format', '{{.Server.Version}}']).catch((e: Error) => {
          throw new Error(`no Docker daemon answers on ${o.dockerSocket} (${e.message.replace(/^docker version: /, '').split('\n')[0]}); start dockerd, or name its socket with --docker-socket`);
        });
        const r = await buildAgentImage(o.tag, docker, say);
        say(`built ${r.tag}; run it with the line in deploy/docker-run.sh`);
      } catch (e) {
        console.error(`dhrishti image: ${(e as Error).message}`);
        process.exit(1);
      }
    });
}
