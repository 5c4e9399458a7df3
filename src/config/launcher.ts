// The node flags the ./dhrishti launcher runs the agent with, read from the launcher itself (their
// one definition): for the container image, which runs node directly, and for benchmarks that start
// node themselves to add flags of their own (--trace-gc, --inspect): the agent still runs as users run it.
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './defaults.js';

export function launcherFlags(): string[] {
  const text = fs.readFileSync(path.join(REPO_ROOT, 'dhrishti'), 'utf8');
  const m = /^exec node (.*?) "\$here\/dist\/src\/cli\/main\.js"/m.exec(text);
  if (!m) throw new Error('cannot read the node flags from ./dhrishti');
  return m[1].split(/\s+/).filter(Boolean);
}
