// Follows files for changes: inotify on their folders (editors replace a file
// by renaming a new one over it) plus a slow stat poll for what inotify cannot
// see (bind mounts, ConfigMap symlink swaps). Calls back once per burst.
import fs from 'node:fs';
import path from 'node:path';
import { POLICY_DEFAULTS } from '../config/defaults.js';

export function watchFiles(files: string[], onChange: (file: string) => void, opts: { debounceMs?: number; pollMs?: number } = {}): { stop(): void } {
  const debounce = opts.debounceMs ?? POLICY_DEFAULTS.reloadDebounceMs;
  const pending = new Map<string, NodeJS.Timeout>();
  const stamp = (f: string) => { try { const s = fs.statSync(f); return `${s.ino}:${s.size}:${s.mtimeMs}`; } catch { return 'missing'; } };
  const stamps = new Map(files.map((f) => [path.resolve(f), stamp(f)]));
  const fire = (f: string) => {
    clearTimeout(pending.get(f));
    const t = setTimeout(() => { pending.delete(f); stamps.set(f, stamp(f)); onChange(f); }, debounce);
    t.unref();
    pending.set(f, t);
  };
  const watchers: fs.FSWatcher[] = [];
  for (const dir of new Set([...stamps.keys()].map((f) => path.dirname(f)))) {
    try {
      const w = fs.watch(dir, { persistent: false }, (_ev, name) => {
        if (!name) return;
        const f = path.join(dir, name.toString());
        if (stamps.has(f)) fire(f);
      });
      w.on('error', () => { /* the stat poll goes on */ });
      watchers.push(w);
    } catch { /* the stat poll covers it */ }
  }
  const poll = setInterval(() => {
    for (const [f, s] of stamps) if (!pending.has(f) && stamp(f) !== s) fire(f);
  }, opts.pollMs ?? POLICY_DEFAULTS.reloadPollMs);
  poll.unref();
  return {
    stop() {
      clearInterval(poll);
      for (const t of pending.values()) clearTimeout(t);
      for (const w of watchers) w.close();
    },
  };
}
