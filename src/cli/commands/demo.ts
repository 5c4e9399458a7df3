// `dhrishti demo up|down`: a sample microservice system to watch.
import { dockerSocketOption } from '../options.js';
import type { Command } from 'commander';
import { demoUp, demoDown } from '../../demo/demo.js';

export function registerDemo(program: Command): void {
  const demo = program.command('demo').description('start or remove a sample microservice system in local Docker');
  const socket = (cmd: Command) => cmd.addOption(dockerSocketOption());
  const say = (s: string) => console.log(`dhrishti demo: ${s}`);
  const act = (fn: typeof demoUp) => async (opts: { dockerSocket: string }) => {
    try { await fn(opts.dockerSocket, say); } catch (e) { console.error(`dhrishti demo: ${(e as Error).message}`); process.exit(1); }
  };
  socket(demo.command('up').description('build the image locally and start the demo containers')).action(act(demoUp));
  socket(demo.command('down').description('remove the demo containers and network')).action(act(demoDown));
}
