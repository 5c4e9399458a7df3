#!/usr/bin/env node
// Entry point of the `dhrishti` command.
import { Command, CommanderError } from 'commander';
import { versionText } from '../config/version.js';
import { registerTrace } from './commands/trace.js';
import { registerDoctor } from './commands/doctor.js';
import { registerRun } from './commands/run.js';
import './commands/history-ext.js'; // adds history to `run` through runExtensions
import './commands/policy-ext.js'; // adds --policy, --compose, --alert-webhook to `run` (after history: it writes to its timeline)
import { registerCheck } from './commands/check.js';
import './commands/fleet-ext.js'; // adds edge metrics, OTLP and remote-write to `run`
import { registerGraph } from './commands/graph.js';
import { registerDemo } from './commands/demo.js';
import { registerHub } from './commands/hub.js';
import { registerImage } from './commands/image.js';

const program = new Command();
program
  .name('dhrishti')
  .description('Live service map of this host, seen from the kernel with eBPF')
  .version(versionText(), '-V, --version')
  .showHelpAfterError('(add --help for the options)')
  .exitOverride();

registerDoctor(program);
registerTrace(program);
registerRun(program);
registerGraph(program);
registerDemo(program);
registerCheck(program);
registerHub(program);
registerImage(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2);
  console.error(`dhrishti: ${(e as Error).message}`);
  process.exit(1);
}
