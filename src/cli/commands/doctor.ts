// `dhrishti doctor`: says whether the agent can run on this machine, and how to fix what stops it.
import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { runDoctor } from '../../doctor/gather.js';
import { formatTable, verdict } from '../../doctor/checks.js';
import { dockerSocketOption } from '../options.js';

interface DoctorCliOptions {
  json?: boolean;
  tracefs?: string;
  dockerSocket: string;
}

/** A folder that exists; anything else stops with a clear message (exit 2). */
function existingDir(v: string): string {
  if (!v.trim()) throw new InvalidArgumentError('--tracefs needs a folder, got an empty value');
  const abs = path.resolve(v);
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch {
    throw new InvalidArgumentError(`--tracefs: no such folder "${v}"`);
  }
  if (!st.isDirectory()) throw new InvalidArgumentError(`--tracefs: "${v}" is not a folder`);
  return abs;
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check that this machine can run Dhrishti (kernel, BTF, tracepoints, privileges, build) and say how to fix what is missing')
    .option('--json', 'print the checks as a JSON array of {check, status, detail, hint}')
    .addOption(new Option('--tracefs <path>', 'look for tracepoints under this tracefs root only (nothing is mounted)')
      .env('DHRISHTI_TRACEFS')
      .argParser(existingDir))
    .addOption(dockerSocketOption())
    .action(async (opts: DoctorCliOptions, cmd: Command) => {
      const source = cmd.getOptionValueSource('tracefs') === 'env' ? 'DHRISHTI_TRACEFS' : '--tracefs';
      const results = await runDoctor({ tracefs: opts.tracefs ? { path: opts.tracefs, source } : undefined, dockerSocket: opts.dockerSocket });
      const v = verdict(results);
      if (opts.json) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
      else process.stdout.write(`${formatTable(results)}\n\n${v.line}\n`);
      process.exitCode = v.canRun ? 0 : 1;
    });
}
